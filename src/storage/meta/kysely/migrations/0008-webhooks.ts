/** Migration 0008_webhooks (applied in name order; never edit one that has been applied). */
import { type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from './types.js';

export function m0008Webhooks({ bigint }: ColumnTypes): Migration {
  return {
    async up(db: Kysely<any>) {
      // A registry's webhooks go with it; their secrets are sealed (AES-256-GCM); the breaker lives here so every
      // node sees it.
      await db.schema
        .createTable('webhooks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('registry_id', 'text', (c) => c.notNull().references('registries.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('auth_header_sealed', 'text')
        .addColumn('secret_sealed', 'text')
        .addColumn('skip_cert_verify', 'integer', (c) => c.notNull())
        .addColumn('payload_format', 'text', (c) => c.notNull())
        .addColumn('event_types', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('updated_at', bigint, (c) => c.notNull())
        .addColumn('breaker_failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('breaker_open_until', bigint, (c) => c.notNull().defaultTo(0))
        .addUniqueConstraint('webhooks_registry_name', ['registry_id', 'name'])
        .execute();
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        // event id and type for deliveries from the outbox (one per webhook: at least once, never twice), else null
        .addColumn('dedupe_key', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('next_attempt_at', bigint)
        .addColumn('last_attempt_at', bigint)
        .addColumn('last_status_code', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('test', 'integer', (c) => c.notNull())
        .addColumn('redelivery_of', 'text')
        .addUniqueConstraint('webhook_deliveries_dedupe', ['webhook_id', 'dedupe_key'])
        .execute();
      await db.schema.createIndex('webhook_deliveries_webhook').on('webhook_deliveries').columns(['webhook_id', 'created_at']).execute();
      await db.schema
        .createTable('webhook_attempts')
        .addColumn('delivery_id', 'text', (c) => c.notNull().references('webhook_deliveries.id').onDelete('cascade'))
        .addColumn('n', 'integer', (c) => c.notNull())
        .addColumn('at', bigint, (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .addColumn('response', 'text')
        .addColumn('error', 'text')
        .addPrimaryKeyConstraint('webhook_attempts_pk', ['delivery_id', 'n'])
        .execute();
    },
  };
}
