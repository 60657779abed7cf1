/** Migration 0012_cache (applied in name order; never edit one that has been applied). */
import { type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from './types.js';

export function m0012Cache({ bigint }: ColumnTypes): Migration {
  return {
    async up(db: Kysely<any>) {
      // a registry's purpose (the guide's "purpose of use"): the core refuses pushes into an image cache registry
      await db.schema.alterTable('registries').addColumn('kind', 'text', (c) => c.notNull().defaultTo('standard')).execute();
      // the image cache capability's binding of a cache registry to its source endpoint; an endpoint in use cannot go
      await db.schema
        .createTable('cache_registries')
        .addColumn('registry_id', 'text', (c) => c.primaryKey().references('registries.id').onDelete('cascade'))
        .addColumn('endpoint_id', 'text', (c) => c.notNull().references('endpoints.id'))
        .addColumn('created_at', bigint, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('cache_registries_endpoint').on('cache_registries').column('endpoint_id').execute();
    },
  };
}
