/**
 * The audit log: every write (who, what, when, from where). Entries are made from the domain events a change
 * publishes and are written in the same transaction as the change (storage/meta/kysely/uow.ts), so the log cannot
 * miss a write. Pulls are reads, not writes, and are not audited.
 */
import type { DomainEvent } from '../events.js';
import type { Page, PageRequest } from '../pagination.js';

const NOT_AUDITED = new Set<string>(['ArtifactPulled']);

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
    case 'BlobDeleted':
    case 'ScanRequested':
    case 'ScanStopRequested':
    case 'ScanFinished':
      return `${e.repository}@${e.digest}`;
    case 'TagCreated':
    case 'TagDeleted':
    case 'TagMoved':
      return `${e.repository}:${e.tag}`;
    case 'AccessKeyCreated':
    case 'AccessKeyRegenerated':
    case 'AccessKeyDeleted':
      return `${e.username}/${e.accessKey}`;
    case 'CleanupRunFinished':
    case 'RegistryQuotaChanged':
      return e.registry;
    case 'QuotaExceeded':
    case 'QuotaWarning':
      return `${e.repository}@${e.digest}`;
    case 'GcRunFinished':
      return 'gc';
    case 'EndpointCreated':
    case 'EndpointUpdated':
    case 'EndpointDeleted':
      return `endpoint/${e.name}`;
    default:
      if ('username' in e) return e.username;
      return `${e.registry}/${e.name}`;
  }
}

/** The audit entry for an event, or undefined when the event is not audited. */
export function auditEntryOf(e: DomainEvent): Omit<AuditEntry, 'id'> | undefined {
  if (NOT_AUDITED.has(e.type)) return undefined;
  const { type, at, actor, ...rest } = e;
  const detail = Object.fromEntries(Object.entries(rest).filter(([k]) => !['registry', 'repository', 'username', 'accessKey'].includes(k) || type.startsWith('User')));
  return {
    at,
    actor: actor.username,
    action: type,
    target: targetOf(e),
    detail: Object.keys(detail).length ? JSON.stringify(detail) : null,
    remoteAddr: actor.remoteAddr ?? null,
  };
}
