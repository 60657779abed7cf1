/**
 * The S3 driver's upload session states: on PostgreSQL a table of the metadata database (migration
 * 0014_upload_records), which every node shares; on SQLite a file of their own beside the database
 * (`<name>-uploads.db`), written with synchronous=NORMAL. A commit there does not wait for an fsync, which on the
 * event loop (better-sqlite3 is synchronous) would hold up every request; a power cut may then lose the last few
 * session states, and those clients push the blob again (its digest is checked whatever happened). Committed blobs
 * and their links stay in the main database, every commit fsynced.
 */
import type { Kysely } from 'kysely';
import type { UploadRecords } from '../../blob/port.js';
import { openSqlite, type MetaDb } from './connect.js';
import { createUploadRecordsTable } from './migrations/0014-upload-records.js';
import type { Database } from './schema.js';
import type { Db } from './util.js';

/** Where the sessions of stores (one per scope) keep their states, for the metadata database `meta`. */
export async function openUploadRecords(meta: MetaDb): Promise<{ records(scope: string): UploadRecords; close(): Promise<void> }> {
  if (!meta.file) return { records: (scope) => new KyselyUploadRecords(meta.db, scope), close: async () => undefined };
  const db = openSqlite(meta.file.replace(/(\.db)?$/, '-uploads.db'), 'NORMAL');
  await createUploadRecordsTable(db, 'integer');
  return { records: (scope) => new KyselyUploadRecords(db, scope), close: () => db.destroy() };
}

/** The `blob_upload_records` table. Kept here: only this store reads it. */
export interface BlobUploadRecordsTable {
  scope: string;
  id: string;
  gen: number;
  state: string;
  updated_at: number;
}

type RecordsDb = Kysely<Database & { blob_upload_records: BlobUploadRecordsTable }>;

/** The sessions of one store (`scope`: its bucket and prefix, e.g. `s3://bucket/prefix/`). */
export class KyselyUploadRecords implements UploadRecords {
  private readonly db: RecordsDb;

  constructor(
    db: Db,
    private readonly scope: string,
  ) {
    this.db = db as unknown as RecordsDb;
  }

  async insert(id: string, state: string, at: number) {
    const r = await this.db
      .insertInto('blob_upload_records')
      .values({ scope: this.scope, id, gen: 0, state, updated_at: at })
      .onConflict((oc) => oc.columns(['scope', 'id']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async get(id: string) {
    const r = await this.db.selectFrom('blob_upload_records').selectAll().where('scope', '=', this.scope).where('id', '=', id).executeTakeFirst();
    return r && { gen: Number(r.gen), state: r.state, updatedAt: Number(r.updated_at) };
  }

  async replace(id: string, gen: number, state: string, at: number) {
    const r = await this.db
      .updateTable('blob_upload_records')
      .set({ gen: gen + 1, state, updated_at: at })
      .where('scope', '=', this.scope)
      .where('id', '=', id)
      .where('gen', '=', gen)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async delete(id: string) {
    const r = await this.db.deleteFrom('blob_upload_records').where('scope', '=', this.scope).where('id', '=', id).returning('gen').executeTakeFirst();
    return r && Number(r.gen);
  }

  async page(cursor: string | undefined, limit: number) {
    let q = this.db.selectFrom('blob_upload_records').select(['id', 'updated_at']).where('scope', '=', this.scope).orderBy('id').limit(limit);
    if (cursor !== undefined) q = q.where('id', '>', cursor);
    return (await q.execute()).map((r) => ({ id: r.id, updatedAt: Number(r.updated_at) }));
  }
}
