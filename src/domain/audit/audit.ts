/**
 * The audit log: every write (who, what, when, from where), fed by the domain events. Pulls are not writes; blob
 * uploads and mounts are steps of the artifact push that the log records, so they are left out too.
 */
const NOT_AUDITED = new Set(['ArtifactPulled', 'BlobUploaded', 'BlobMounted']);
import type { DomainEvent, EventBus } from '../events.js';
import type { Page, PageRequest } from '../pagination.js';

export interface AuditEntry {
  id: number;
  at: number;
  actor: string | null;
  action: string;
  target: string;
  detail: string | null;
  remoteAddr: string | null;
}

export interface AuditStore {
  append(e: Omit<AuditEntry, 'id'>): Promise<void>;
  list(q: { actor?: string; action?: string } & PageRequest): Promise<Page<AuditEntry>>;
}

function targetOf(e: DomainEvent): string {
  switch (e.type) {
    case 'RegistryCreated':
    case 'RegistryDeleted':
      return e.registry;
    case 'ImageDeleted':
      return e.repository;
    case 'ArtifactPushed':
    case 'ArtifactPulled':
    case 'ArtifactDeleted':
    case 'BlobUploaded':
    case 'BlobMounted':
    case 'BlobDeleted':
      return `${e.repository}@${e.digest}`;
    case 'TagCreated':
    case 'TagDeleted':
      return `${e.repository}:${e.tag}`;
    case 'AccessKeyCreated':
    case 'AccessKeyRegenerated':
    case 'AccessKeyDeleted':
      return `${e.username}/${e.accessKey}`;
    default:
      return e.username;
  }
}

/** Subscribes the audit log to every write event. Returns the unsubscribe function. */
export function subscribeAudit(bus: EventBus, store: AuditStore): () => void {
  return bus.subscribe(async (e) => {
    if (NOT_AUDITED.has(e.type)) return;
    const { type, at, actor, ...rest } = e;
    const detail = Object.fromEntries(Object.entries(rest).filter(([k]) => !['registry', 'repository', 'username', 'accessKey'].includes(k) || type.startsWith('User')));
    await store.append({
      at,
      actor: actor.username,
      action: type,
      target: targetOf(e),
      detail: Object.keys(detail).length ? JSON.stringify(detail) : null,
      remoteAddr: actor.remoteAddr ?? null,
    });
  });
}
