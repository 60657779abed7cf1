/** Migration 0011_replication (applied in name order; never edit one that has been applied). */
import { type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from './types.js';

export function m0011Replication({ bigint }: ColumnTypes): Migration {
  return {
    async up(db: Kysely<any>) {
      // replication rules: a registry's images copied to an endpoint; the endpoint cannot go while a rule uses it
      await db.schema
        .createTable('replication_rules')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('registry_id', 'text', (c) => c.notNull().references('registries.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('endpoint_id', 'text', (c) => c.notNull().references('endpoints.id'))
        .addColumn('target_registry', 'text', (c) => c.notNull())
        .addColumn('image_filter', 'text')
        .addColumn('tag_filter', 'text')
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('updated_at', bigint, (c) => c.notNull())
        .addColumn('checked_at', bigint)
        .addColumn('check_error', 'text')
        .addUniqueConstraint('replication_rules_registry_name', ['registry_id', 'name'])
        .execute();
      await db.schema.createIndex('replication_rules_endpoint').on('replication_rules').column('endpoint_id').execute();
    },
  };
}
