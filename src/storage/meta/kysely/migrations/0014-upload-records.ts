/** Migration 0014_upload_records (applied in name order; never edit one that has been applied). */
import { type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from './types.js';

export function m0014UploadRecords({ dialect, bigint }: ColumnTypes): Migration {
  return {
    async up(db: Kysely<any>) {
      // The state of an upload session on an object store (the S3 driver's): where its bytes are in the bucket and a
      // generation every write must name. Sessions on the disk driver keep theirs beside their bytes. On SQLite the
      // table is in a file of its own, with lighter durability (upload-records.repo.ts).
      if (dialect === 'sqlite') return;
      await createUploadRecordsTable(db, bigint);
    },
  };
}

/** The table, for the PostgreSQL migration and for SQLite's own file. */
export async function createUploadRecordsTable(db: Kysely<any>, bigint: ColumnTypes['bigint']): Promise<void> {
  await db.schema
        .createTable('blob_upload_records')
        // the store the session is in (its bucket and prefix): stores sharing a database keep apart
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('gen', bigint, (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('updated_at', bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint('blob_upload_records_pk', ['scope', 'id'])
    .ifNotExists()
    .execute();
}
