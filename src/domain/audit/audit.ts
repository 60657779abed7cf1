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
  /** Appends the entries in one transaction, in order. */
  append(entries: Omit<AuditEntry, 'id'>[]): Promise<void>;
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

/**
 * Subscribes the audit log to every write event. Entries are written in batches (one transaction per event-loop
 * turn plus `delayMs`), so a burst of pushes pays one commit rather than one per event; `flush` writes what is queued.
 */
export function subscribeAudit(bus: EventBus, store: AuditStore, onError: (err: unknown) => void, delayMs = 5): { flush(): Promise<void>; unsubscribe(): void } {
  let queue: Omit<AuditEntry, 'id'>[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = queue;
    queue = [];
    writing = writing.then(() => store.append(batch)).catch(onError);
    return writing;
  };
  const unsubscribe = bus.subscribe((e) => {
    if (NOT_AUDITED.has(e.type)) return;
    const { type, at, actor, ...rest } = e;
    const detail = Object.fromEntries(Object.entries(rest).filter(([k]) => !['registry', 'repository', 'username', 'accessKey'].includes(k) || type.startsWith('User')));
    queue.push({
      at,
      actor: actor.username,
      action: type,
      target: targetOf(e),
      detail: Object.keys(detail).length ? JSON.stringify(detail) : null,
      remoteAddr: actor.remoteAddr ?? null,
    });
    timer ??= setTimeout(() => void flush(), delayMs);
  });
  return { flush, unsubscribe };
}
