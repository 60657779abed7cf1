/**
 * Domain events. A service publishes them inside its unit of work (uow.ts): they reach the durable outbox in the
 * same transaction as the change, and the outbox dispatcher (outbox/dispatcher.ts) delivers them at least once to
 * durable subscribers (webhooks, replication, scanning, ...) and to every node's in-memory listeners (caches).
 */
import type { Role } from './auth/roles.js';

export interface Actor {
  /** user id, or null for the system */
  userId: string | null;
  username: string | null;
  /** the user's role, which services check the permission table against; absent for the system (jobs, first start) */
  role?: Role;
  /** client address the request came from */
  remoteAddr?: string | null;
}

interface Base {
  at: number;
  actor: Actor;
}

export type DomainEvent =
  | (Base & { type: 'RegistryCreated' | 'RegistryDeleted'; registry: string })
  | (Base & { type: 'ImageDeleted'; repository: string })
  | (Base & { type: 'ArtifactPushed'; repository: string; digest: string; mediaType: string; size: number; tag?: string })
  | (Base & { type: 'ArtifactPulled'; repository: string; digest: string; tag?: string })
  /** `tags`: the tags the artifact had (they are deleted with it) */
  | (Base & { type: 'ArtifactDeleted'; repository: string; digest: string; tags?: string[] })
  | (Base & { type: 'TagCreated' | 'TagDeleted'; repository: string; tag: string; digest: string })
  | (Base & { type: 'TagMoved'; repository: string; tag: string; digest: string; previousDigest: string })
  | (Base & { type: 'BlobDeleted'; repository: string; digest: string })
  | (Base & { type: 'UserCreated' | 'UserUpdated' | 'UserDeleted'; username: string; role?: string })
  | (Base & { type: 'PasswordChanged'; username: string })
  | (Base & { type: 'AccessKeyCreated' | 'AccessKeyRegenerated' | 'AccessKeyDeleted'; username: string; accessKey: string })
  // capability settings: each change is an event (so it is audited) keyed by its registry
  | (Base & { type: SettingEventType; registry: string; id: string; name: string; detail?: Record<string, unknown> })
  /** an image cleanup run (or test run) finished: webhooks send TAG_RETENTION */
  | (Base & { type: 'CleanupRunFinished'; registry: string; executionId: string; dryRun: boolean; status: string; counts: Record<string, number> })
  /** an admin set or lifted a registry's storage quota */
  | (Base & { type: 'RegistryQuotaChanged'; registry: string; quotaBytes: number | null })
  /**
   * a push was refused because the blob would take the registry over its quota (QuotaExceeded), or a push took its
   * usage past the warning threshold (QuotaWarning): webhooks send QUOTA_EXCEED / QUOTA_WARNING
   */
  | (Base & { type: 'QuotaExceeded' | 'QuotaWarning'; registry: string; repository: string; digest: string; size: number; usedBytes: number; quotaBytes: number })
  /** a remote registry endpoint (replication target, image cache source) was created, changed or deleted */
  | (Base & { type: 'EndpointCreated' | 'EndpointUpdated' | 'EndpointDeleted'; id: string; name: string; detail?: Record<string, unknown> })
  /** a replication run finished (a manual run, or one pushed artifact): webhooks send REPLICATION */
  | (Base & { type: 'ReplicationRunFinished'; registry: string; name: string; ruleId: string; executionId: string; trigger: string; target: string; status: string; counts: Record<string, number> })
  /** someone asked for an artifact to be scanned, or to stop its scan (audited; the scan runs as a job) */
  | (Base & { type: 'ScanRequested' | 'ScanStopRequested'; repository: string; digest: string })
  /** a scan ended: webhooks send SCANNING_COMPLETED, SCANNING_FAILED or SCANNING_STOPPED */
  | (Base & { type: 'ScanFinished'; repository: string; digest: string; status: 'Success' | 'Error' | 'Stopped'; severity?: string; total?: number; fixable?: number; message?: string })
  /** a garbage collection run finished (registry-wide, so keyed by no registry) */
  | (Base & { type: 'GcRunFinished'; executionId: string; dryRun: boolean; status: string; counts: Record<string, number> });

/** Changes to a registry's capability settings (policies, schedules, webhooks, ...). Adding a capability adds its names here. */
export type SettingEventType =
  | 'CleanupPolicyCreated'
  | 'CleanupPolicyUpdated'
  | 'CleanupPolicyDeleted'
  | 'CleanupScheduleChanged'
  | 'ProtectionPolicyCreated'
  | 'ProtectionPolicyUpdated'
  | 'ProtectionPolicyDeleted'
  | 'ReplicationRuleCreated'
  | 'ReplicationRuleUpdated'
  | 'ReplicationRuleDeleted'
  | 'TrustKeyAdded'
  | 'TrustKeyDeleted'
  | 'TrustPolicyChanged'
  | 'ScanSettingsChanged'
  | 'CveAllowlistChanged'
  | 'ScanScheduleChanged'
  | 'VulnDbImported'
  | 'CacheSourceSet'
  | 'WebhookCreated'
  | 'WebhookUpdated'
  | 'WebhookDeleted';

export type DomainEventType = DomainEvent['type'];
export type EventOf<T extends DomainEventType> = Extract<DomainEvent, { type: T }>;

/** An event as the outbox stored it: a global sequence (commit order) and a unique id. */
export interface StoredEvent {
  seq: number;
  id: string;
  event: DomainEvent;
}

/**
 * The ordering key: a subscriber gets the events of one key in sequence order. Keyed by registry (the first path
 * component), so the events of each repository stay in order and a registry's deletion follows its images'.
 */
export function orderingKey(e: DomainEvent): string {
  if ('repository' in e) return `reg:${e.repository.split('/')[0]}`;
  if ('registry' in e) return `reg:${e.registry}`;
  if ('username' in e) return `user:${e.username}`;
  return '';
}
