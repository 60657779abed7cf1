/** Migration 0009_trust (applied in name order; never edit one that has been applied). */
import { type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from './types.js';

export function m0009Trust({ bigint }: ColumnTypes): Migration {
  return {
    async up(db: Kysely<any>) {
      // public keys signatures are verified with: of one registry, or (registry_id null, scope '*') of every registry
      await db.schema
        .createTable('trust_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('registry_id', 'text', (c) => c.references('registries.id').onDelete('cascade'))
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('pem', 'text', (c) => c.notNull())
        .addColumn('algorithm', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addUniqueConstraint('trust_keys_name', ['scope', 'name'])
        .execute();
      await db.schema
        .createTable('trust_policies')
        .addColumn('registry_id', 'text', (c) => c.primaryKey().references('registries.id').onDelete('cascade'))
        .addColumn('require_verified', 'integer', (c) => c.notNull())
        .addColumn('updated_at', bigint, (c) => c.notNull())
        .execute();
    },
  };
}
