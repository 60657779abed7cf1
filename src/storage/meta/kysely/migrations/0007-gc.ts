/** Migration 0007_gc (applied in name order; never edit one that has been applied). */
import { type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from './types.js';

export function m0007Gc(_t: ColumnTypes): Migration {
  return {
    async up(db: Kysely<any>) {
      // Garbage collection asks "does any manifest (in this repository, or anywhere) reference this blob?": the
      // primary key (repository_id, artifact_digest, blob_digest) cannot answer it without a scan.
      await db.schema.createIndex('artifact_blobs_blob').on('artifact_blobs').columns(['blob_digest', 'repository_id']).execute();
    },
  };
}
