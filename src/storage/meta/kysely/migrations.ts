/**
 * Schema migrations in code, one schema for SQLite and PostgreSQL: one file per migration under migrations/, applied
 * in name order. Append new migrations; never edit applied ones.
 */
import type { Migration, MigrationProvider } from 'kysely';
import { m0001Core } from './migrations/0001-core.js';
import { m0002Sessions } from './migrations/0002-sessions.js';
import { m0003UploadsInBlobStore } from './migrations/0003-uploads-in-blob-store.js';
import { m0004Foundation } from './migrations/0004-foundation.js';
import { m0005NamesInCodePointOrder } from './migrations/0005-names-in-code-point-order.js';
import { m0006Policies } from './migrations/0006-policies.js';
import { m0007Gc } from './migrations/0007-gc.js';
import { m0008Webhooks } from './migrations/0008-webhooks.js';
import { m0009Trust } from './migrations/0009-trust.js';
import { m0010Endpoints } from './migrations/0010-endpoints.js';
import { m0010Scanning } from './migrations/0010-scanning.js';
import { m0011Replication } from './migrations/0011-replication.js';
import { m0012Cache } from './migrations/0012-cache.js';
import { m0013Quota } from './migrations/0013-quota.js';
import { m0014UploadRecords } from './migrations/0014-upload-records.js';
import type { ColumnTypes } from './migrations/types.js';

export type Dialect = 'sqlite' | 'postgres';

function migrations(dialect: Dialect): Record<string, Migration> {
  const t: ColumnTypes = {
    dialect,
    bigint: dialect === 'postgres' ? 'bigint' : 'integer',
    bytes: dialect === 'postgres' ? 'bytea' : 'blob',
    serial: dialect === 'postgres' ? 'bigserial' : 'integer',
  };
  return {
    '0001_core': m0001Core(t),
    '0002_sessions': m0002Sessions(t),
    '0003_uploads_in_blob_store': m0003UploadsInBlobStore(t),
    '0004_foundation': m0004Foundation(t),
    '0005_names_in_code_point_order': m0005NamesInCodePointOrder(t),
    '0006_policies': m0006Policies(t),
    '0010_scanning': m0010Scanning(t),
    '0009_trust': m0009Trust(t),
    '0008_webhooks': m0008Webhooks(t),
    '0007_gc': m0007Gc(t),
    '0013_quota': m0013Quota(t),
    '0010_endpoints': m0010Endpoints(t),
    '0011_replication': m0011Replication(t),
    '0012_cache': m0012Cache(t),
    '0014_upload_records': m0014UploadRecords(t),
  };
}

export class CodeMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations() {
    return migrations(this.dialect);
  }
}
