/** The S3 driver's upload session states in the metadata database (migration 0014_upload_records). */
import type { Kysely } from 'kysely';
import type { UploadRecords } from '../../blob/port.js';
import type { Database } from './schema.js';
import type { Db } from './util.js';

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
    await this.db.deleteFrom('blob_upload_records').where('scope', '=', this.scope).where('id', '=', id).execute();
  }

  async page(cursor: string | undefined, limit: number) {
    let q = this.db.selectFrom('blob_upload_records').select(['id', 'updated_at']).where('scope', '=', this.scope).orderBy('id').limit(limit);
    if (cursor !== undefined) q = q.where('id', '>', cursor);
    return (await q.execute()).map((r) => ({ id: r.id, updatedAt: Number(r.updated_at) }));
  }
}
