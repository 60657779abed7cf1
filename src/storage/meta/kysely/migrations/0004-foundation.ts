/** Migration 0004_foundation (applied in name order; never edit one that has been applied). */
import { type Kysely, type Migration, sql } from 'kysely';
import type { ColumnTypes } from './types.js';

export function m0004Foundation({ bigint, serial, dialect }: ColumnTypes): Migration {
  return {
    async up(db: Kysely<any>) {
      // The durable outbox: events written in the transaction of their change, read in seq (= commit) order.
      await db.schema
        .createTable('events')
        .addColumn('seq', serial, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('at', bigint, (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('events_at').on('events').column('at').execute();
      await db.schema
        .createTable('event_subscribers')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('cursor', bigint, (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', bigint, (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('event_parked')
        .addColumn('subscriber', 'text', (c) => c.notNull())
        .addColumn('seq', bigint, (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_at', bigint, (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('dead', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('event_parked_pk', ['subscriber', 'seq'])
        .execute();
      // The job queue and cron schedules.
      await db.schema
        .createTable('jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('run_at', bigint, (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('max_attempts', 'integer', (c) => c.notNull())
        .addColumn('backoff_ms', bigint, (c) => c.notNull())
        .addColumn('singleton_key', 'text')
        .addColumn('active_key', 'text', (c) => c.unique())
        .addColumn('locked_by', 'text')
        .addColumn('locked_until', bigint)
        .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('progress', 'text')
        .addColumn('result', 'text')
        .addColumn('last_error', 'text')
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('updated_at', bigint, (c) => c.notNull())
        .addColumn('finished_at', bigint)
        .execute();
      await db.schema.createIndex('jobs_due').on('jobs').columns(['kind', 'status', 'run_at']).execute();
      await db.schema.createIndex('jobs_finished').on('jobs').columns(['finished_at']).execute();
      await db.schema
        .createTable('schedules')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('cron', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('next_at', bigint, (c) => c.notNull())
        .addColumn('last_fired_at', bigint)
        .execute();
      // Executions and their tasks.
      await db.schema
        .createTable('executions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('subject', 'text')
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('counts', 'text', (c) => c.notNull())
        .addColumn('message', 'text')
        .addColumn('created_by', 'text')
        .addColumn('created_at', bigint, (c) => c.notNull())
        .addColumn('started_at', bigint)
        .addColumn('ended_at', bigint)
        .addColumn('stop_requested', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('job_id', 'text')
        .execute();
      await db.schema.createIndex('executions_kind').on('executions').columns(['kind', 'subject', 'created_at']).execute();
      await db.schema
        .createTable('execution_tasks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('execution_id', 'text', (c) => c.notNull().references('executions.id').onDelete('cascade'))
        .addColumn('seq', bigint, (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('message', 'text')
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('log', 'text', (c) => c.notNull())
        .addColumn('started_at', bigint)
        .addColumn('ended_at', bigint)
        .execute();
      await db.schema.createIndex('execution_tasks_execution').on('execution_tasks').columns(['execution_id', 'seq']).execute();
      // Token signing keys shared by every node; the private half encrypted.
      await db.schema
        .createTable('signing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('alg', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('private_jwk', 'text', (c) => c.notNull())
        .addColumn('created_at', bigint, (c) => c.notNull())
        .execute();
      // Failed logins, counted across nodes.
      await db.schema
        .createTable('login_failures')
        .addColumn('id', serial, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('at', bigint, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('login_failures_key').on('login_failures').columns(['key', 'at']).execute();
      // Tags can no longer dangle: a tag points at an artifact of its repository and goes with it.
      await db.deleteFrom('tags').where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('artifacts as a').select('a.digest').whereRef('a.repository_id', '=', 'tags.repository_id').whereRef('a.digest', '=', 'tags.digest'))),
      ).execute();
      if (dialect === 'postgres') {
        await sql`alter table tags add constraint tags_artifact_fk foreign key (repository_id, digest) references artifacts (repository_id, digest) on delete cascade`.execute(db);
      } else {
        await db.schema
          .createTable('tags_new')
          .addColumn('repository_id', 'text', (c) => c.notNull().references('repositories.id').onDelete('cascade'))
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('digest', 'text', (c) => c.notNull())
          .addColumn('pushed_at', bigint, (c) => c.notNull())
          .addColumn('pulled_at', bigint)
          .addPrimaryKeyConstraint('tags_pk', ['repository_id', 'name'])
          .addForeignKeyConstraint('tags_artifact_fk', ['repository_id', 'digest'], 'artifacts', ['repository_id', 'digest'], (fk) => fk.onDelete('cascade'))
          .execute();
        await sql`insert into tags_new (repository_id, name, digest, pushed_at, pulled_at) select repository_id, name, digest, pushed_at, pulled_at from tags`.execute(db);
        await db.schema.dropTable('tags').execute();
        await sql`alter table tags_new rename to tags`.execute(db);
        await db.schema.createIndex('tags_digest').on('tags').columns(['repository_id', 'digest']).execute();
      }
    },
  };
}
