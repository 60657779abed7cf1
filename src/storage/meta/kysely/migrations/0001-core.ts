/** Migration 0001_core (applied in name order; never edit one that has been applied). */
import { type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from './types.js';

export function m0001Core({ bigint, bytes, serial, dialect }: ColumnTypes): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text')
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('access_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('access_key', 'text', (c) => c.notNull().unique())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('last_used_at', bigint)
        .execute();
      await db.schema.createIndex('access_keys_user').on('access_keys').column('user_id').execute();
      await db.schema
        .createTable('registries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('created_by', 'text')
        .execute();
      await db.schema
        .createTable('repositories')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('registry_id', 'text', (c) => c.notNull().references('registries.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('updated_at', bigint, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('repositories_registry').on('repositories').columns(['registry_id', 'name']).execute();
      await db.schema
        .createTable('blobs')
        .addColumn('digest', 'text', (c) => c.primaryKey())
        .addColumn('size', bigint, (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('repository_blobs')
        .addColumn('repository_id', 'text', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
        .addColumn('digest', 'text', (c) => c.notNull().references('blobs.digest'))
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addPrimaryKeyConstraint('repository_blobs_pk', ['repository_id', 'digest'])
        .execute();
      await db.schema.createIndex('repository_blobs_digest').on('repository_blobs').column('digest').execute();
      await db.schema
        .createTable('artifacts')
        .addColumn('repository_id', 'text', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('media_type', 'text', (c) => c.notNull())
        .addColumn('artifact_type', 'text')
        .addColumn('size', bigint, (c) => c.notNull())
        .addColumn('content', bytes, (c) => c.notNull())
        .addColumn('subject_digest', 'text')
        .addColumn('config_digest', 'text')
        .addColumn('platforms', 'text', (c) => c.notNull())
        .addColumn('total_size', bigint, (c) => c.notNull())
        .addColumn('pushed_at', bigint, (c) => c.notNull())
        .addColumn('pushed_by', 'text')
        .addColumn('pulled_at', bigint)
        .addPrimaryKeyConstraint('artifacts_pk', ['repository_id', 'digest'])
        .execute();
      await db.schema.createIndex('artifacts_subject').on('artifacts').columns(['repository_id', 'subject_digest']).execute();
      await db.schema
        .createTable('artifact_refs')
        .addColumn('repository_id', 'text', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
        .addColumn('parent_digest', 'text', (c) => c.notNull())
        .addColumn('child_digest', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('artifact_refs_pk', ['repository_id', 'parent_digest', 'child_digest'])
        .execute();
      await db.schema.createIndex('artifact_refs_child').on('artifact_refs').columns(['repository_id', 'child_digest']).execute();
      await db.schema
        .createTable('artifact_blobs')
        .addColumn('repository_id', 'text', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
        .addColumn('artifact_digest', 'text', (c) => c.notNull())
        .addColumn('blob_digest', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('artifact_blobs_pk', ['repository_id', 'artifact_digest', 'blob_digest'])
        .execute();
      await db.schema
        .createTable('tags')
        .addColumn('repository_id', 'text', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('pushed_at', bigint, (c) => c.notNull())
        .addColumn('pulled_at', bigint)
        .addPrimaryKeyConstraint('tags_pk', ['repository_id', 'name'])
        .execute();
      await db.schema.createIndex('tags_digest').on('tags').columns(['repository_id', 'digest']).execute();
      await db.schema
        .createTable('uploads')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('repository_id', 'text', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
        .addColumn('offset', bigint, (c) => c.notNull())
        .addColumn('hash_state', 'text')
        .addColumn('hash_offset', bigint, (c) => c.notNull())
        .addColumn('started_at', bigint, (c) => c.notNull())
        .addColumn('updated_at', bigint, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('audit_log')
        .addColumn('id', serial, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('at', bigint, (c) => c.notNull())
        .addColumn('actor', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('remote_addr', 'text')
        .execute();
      await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
    },
  };
}
