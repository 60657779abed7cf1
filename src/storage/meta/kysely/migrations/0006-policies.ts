/** Migration 0006_policies (applied in name order; never edit one that has been applied). */
import { type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from './types.js';

export function m0006Policies({ bigint }: ColumnTypes): Migration {
  return {
    async up(db: Kysely<any>) {
      // cleanup and protection policies of a registry; fingerprint = kind + filters + rule, unique per registry
      await db.schema
        .createTable('policies')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('registry_id', 'text', (c) => c.notNull().references('registries.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('image_filter', 'text', (c) => c.notNull())
        .addColumn('tag_filter', 'text', (c) => c.notNull())
        .addColumn('rule', 'text')
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addUniqueConstraint('policies_fingerprint', ['registry_id', 'fingerprint'])
        .execute();
    },
  };
}
