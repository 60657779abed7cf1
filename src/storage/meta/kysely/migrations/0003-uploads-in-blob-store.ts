/** Migration 0003_uploads_in_blob_store (applied in name order; never edit one that has been applied). */
import { type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from './types.js';

export function m0003UploadsInBlobStore(_t: ColumnTypes): Migration {
  return {
    async up(db: Kysely<any>) {
      // Upload sessions now live wholly in the blob store (the offset is the stored size): no row per chunk.
      await db.schema.dropTable('uploads').ifExists().execute();
    },
  };
}
