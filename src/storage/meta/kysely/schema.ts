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

export interface Database {
  users: UsersTable;
  access_keys: AccessKeysTable;
  registries: RegistriesTable;
  repositories: RepositoriesTable;
  blobs: BlobsTable;
  repository_blobs: RepositoryBlobsTable;
  artifacts: ArtifactsTable;
  artifact_refs: ArtifactRefsTable;
  artifact_blobs: ArtifactBlobsTable;
  tags: TagsTable;
  audit_log: AuditLogTable;
}
