/** Migration 0010_endpoints (applied in name order; never edit one that has been applied). */
import { type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from './types.js';

export function m0010Endpoints({ bigint }: ColumnTypes): Migration {
  return {
    async up(db: Kysely<any>) {
      // remote registries (replication targets, image cache sources); the secret sealed (AES-256-GCM)
      await db.schema
        .createTable('endpoints')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('access_id', 'text')
        .addColumn('secret_sealed', 'text')
        .addColumn('ca_pem', 'text')
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('updated_at', bigint, (c) => c.notNull())
        .addColumn('checked_at', bigint)
        .addColumn('check_error', 'text')
        .execute();
    },
  };
}
