/** Table types for Kysely. Times are epoch milliseconds; booleans are stored as 0/1 for both dialects. */
import type { Generated } from 'kysely';

export interface UsersTable {
  id: string;
  username: string;
  password_hash: string | null;
  role: string;
  created_at: number;
}
export interface AccessKeysTable {
  id: string;
  user_id: string;
  access_key: string;
  secret_hash: string;
  created_at: number;
  last_used_at: number | null;
}
export interface RegistriesTable {
  id: string;
  name: string;
  created_at: number;
  created_by: string | null;
  quota_bytes: number | null;
  /** 'standard' | 'cache' */
  kind: Generated<string>;
}
export interface CacheRegistriesTable {
  registry_id: string;
  endpoint_id: string;
  created_at: number;
}
export interface RepositoriesTable {
  id: string;
  registry_id: string;
  name: string;
  created_at: number;
  updated_at: number;
}
export interface BlobsTable {
  digest: string;
  size: number;
  created_at: number;
}
export interface RepositoryBlobsTable {
  repository_id: string;
  digest: string;
  created_at: number;
}
export interface ArtifactsTable {
  repository_id: string;
  digest: string;
  media_type: string;
  artifact_type: string | null;
  size: number;
  content: Uint8Array;
  subject_digest: string | null;
  config_digest: string | null;
  platforms: string;
  /** total bytes of the config and layers (for an index: of its children), for display */
  total_size: number;
  pushed_at: number;
  pushed_by: string | null;
  pulled_at: number | null;
}
export interface ArtifactRefsTable {
  repository_id: string;
  parent_digest: string;
  child_digest: string;
}
export interface ArtifactBlobsTable {
  repository_id: string;
  artifact_digest: string;
  blob_digest: string;
}
export interface TagsTable {
  repository_id: string;
  name: string;
  digest: string;
  pushed_at: number;
  pulled_at: number | null;
}
export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  actor: string | null;
  action: string;
  target: string;
  detail: string | null;
  remote_addr: string | null;
}

export interface EventsTable {
  seq: Generated<number>;
  id: string;
  type: string;
  /** ordering key (domain/events.ts orderingKey) */
  key: string;
  at: number;
  data: string;
}
export interface EventSubscribersTable {
  name: string;
  cursor: number;
  lease_owner: string | null;
  lease_until: number;
}
export interface EventParkedTable {
  subscriber: string;
  seq: number;
  key: string;
  attempts: number;
  next_at: number;
  last_error: string | null;
  dead: number;
}
export interface JobsTable {
  id: string;
  kind: string;
  payload: string;
  status: string;
  priority: number;
  run_at: number;
  attempts: number;
  max_attempts: number;
  backoff_ms: number;
  singleton_key: string | null;
  /** singleton_key while queued or running, else null: the unique index that makes singletons */
  active_key: string | null;
  locked_by: string | null;
  locked_until: number | null;
  cancel_requested: number;
  progress: string | null;
  result: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}
export interface SchedulesTable {
  name: string;
  cron: string;
  kind: string;
  payload: string;
  enabled: number;
  next_at: number;
  last_fired_at: number | null;
}
export interface ExecutionsTable {
  id: string;
  kind: string;
  trigger: string;
  status: string;
  subject: string | null;
  params: string;
  counts: string;
  message: string | null;
  created_by: string | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  stop_requested: number;
  job_id: string | null;
}
export interface ExecutionTasksTable {
  id: string;
  execution_id: string;
  seq: number;
  subject: string;
  status: string;
  message: string | null;
  detail: string;
  log: string;
  started_at: number | null;
  ended_at: number | null;
}
export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  /** the private JWK, AES-256-GCM encrypted: base64url(iv).base64url(tag).base64url(ciphertext) */
  private_jwk: string;
  created_at: number;
}
export interface LoginFailuresTable {
  id: Generated<number>;
  key: string;
  at: number;
}

export interface PoliciesTable {
  id: string;
  registry_id: string;
  kind: string;
  /** JSON NameFilter */
  image_filter: string;
  /** JSON TagFilter */
  tag_filter: string;
  /** JSON KeepRule (cleanup) or null */
  rule: string | null;
  enabled: number;
  fingerprint: string;
  created_at: number;
  created_by: string | null;
}

export interface TrustKeysTable {
  id: string;
  registry_id: string | null;
  /** the registry id, or '*' for a key trusted in every registry */
  scope: string;
  name: string;
  pem: string;
  algorithm: string;
  fingerprint: string;
  created_at: number;
  created_by: string | null;
}
export interface TrustPoliciesTable {
  registry_id: string;
  require_verified: number;
  updated_at: number;
}

export interface EndpointsTable {
  id: string;
  name: string;
  description: string;
  provider: string;
  url: string;
  access_id: string | null;
  secret_sealed: string | null;
  ca_pem: string | null;
  created_at: number;
  created_by: string | null;
  updated_at: number;
  checked_at: number | null;
  check_error: string | null;
}

export interface ReplicationRulesTable {
  id: string;
  registry_id: string;
  name: string;
  description: string;
  endpoint_id: string;
  target_registry: string;
  image_filter: string | null;
  tag_filter: string | null;
  enabled: number;
  created_at: number;
  created_by: string | null;
  updated_at: number;
  checked_at: number | null;
  check_error: string | null;
}

export interface WebhooksTable {
  id: string;
  registry_id: string;
  name: string;
  description: string;
  target_type: string;
  address: string;
  auth_header_sealed: string | null;
  secret_sealed: string | null;
  skip_cert_verify: number;
  payload_format: string;
  /** JSON array of Harbor event type names */
  event_types: string;
  enabled: number;
  created_at: number;
  created_by: string | null;
  updated_at: number;
  breaker_failures: Generated<number>;
  breaker_open_until: Generated<number>;
}
export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  dedupe_key: string | null;
  status: string;
  payload: string;
  content_type: string;
  attempts: number;
  created_at: number;
  next_attempt_at: number | null;
  last_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  test: number;
  redelivery_of: string | null;
}
export interface WebhookAttemptsTable {
  delivery_id: string;
  n: number;
  at: number;
  status_code: number | null;
  duration_ms: number;
  response: string | null;
  error: string | null;
}

export interface VulnAdvisoriesTable {
  source: string;
  id: string;
  /** JSON array */
  aliases: string;
  summary: string;
  details: string;
  severity: string;
  cvss_score10: number | null;
  cvss_vector: string | null;
  /** JSON array */
  links: string;
  modified: string | null;
  digest: string;
  imported_at: number;
}
export interface VulnAffectedTable {
  source: string;
  advisory_id: string;
  n: number;
  ecosystem: string;
  package: string;
  /** JSON AffectedRange[] */
  ranges: string;
  /** JSON string[] */
  versions: string;
}
export interface VulnSourcesTable {
  source: string;
  advisories: number;
  imported_at: number;
}
export interface ScanReportsTable {
  repository: string;
  digest: string;
  status: string;
  job_id: string | null;
  started_at: number;
  ended_at: number | null;
  message: string | null;
  /** JSON Inventory */
  inventory: string | null;
  /** JSON Finding[] */
  findings: string | null;
  db_stamp: string | null;
}
export interface ScanSettingsTable {
  scope: string;
  /** JSON ScanSettings */
  settings: string;
  auto_scan: number;
  updated_at: number;
}

export interface Database {
  vuln_advisories: VulnAdvisoriesTable;
  vuln_affected: VulnAffectedTable;
  vuln_sources: VulnSourcesTable;
  scan_reports: ScanReportsTable;
  scan_settings: ScanSettingsTable;
  trust_keys: TrustKeysTable;
  trust_policies: TrustPoliciesTable;
  policies: PoliciesTable;
  endpoints: EndpointsTable;
  replication_rules: ReplicationRulesTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  events: EventsTable;
  event_subscribers: EventSubscribersTable;
  event_parked: EventParkedTable;
  jobs: JobsTable;
  schedules: SchedulesTable;
  executions: ExecutionsTable;
  execution_tasks: ExecutionTasksTable;
  signing_keys: SigningKeysTable;
  login_failures: LoginFailuresTable;
  users: UsersTable;
  access_keys: AccessKeysTable;
  registries: RegistriesTable;
  cache_registries: CacheRegistriesTable;
  repositories: RepositoriesTable;
  blobs: BlobsTable;
  repository_blobs: RepositoryBlobsTable;
  artifacts: ArtifactsTable;
  artifact_refs: ArtifactRefsTable;
  artifact_blobs: ArtifactBlobsTable;
  tags: TagsTable;
  audit_log: AuditLogTable;
}
