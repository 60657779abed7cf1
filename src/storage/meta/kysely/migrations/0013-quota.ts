/** Migration 0013_quota (applied in name order; never edit one that has been applied). */
import { type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from './types.js';

export function m0013Quota({ bigint }: ColumnTypes): Migration {
  return {
    async up(db: Kysely<any>) {
      // a registry's storage quota in bytes (null: no limit)
      await db.schema.alterTable('registries').addColumn('quota_bytes', bigint).execute();
    },
  };
}
