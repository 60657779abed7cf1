/** Schema migrations in code, one schema for SQLite and PostgreSQL. Append new migrations; never edit applied ones. */
import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

function migrations(dialect: Dialect): Record<string, Migration> {
  const bigint = dialect === 'postgres' ? 'bigint' : 'integer';
  const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
  const serial = dialect === 'postgres' ? 'bigserial' : 'integer';
  return {
    '0001_core': {
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
        void sql;
      },
    },
    '0002_sessions': {
      async up(db: Kysely<any>) {
        // Console sessions: only a hash of the session id is stored; a user's sessions go with the user.
        await db.schema
          .createTable('sessions')
          .addColumn('id_hash', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('csrf_token', 'text', (c) => c.notNull())
          .addColumn('created_at', bigint, (c) => c.notNull())
          .addColumn('last_seen_at', bigint, (c) => c.notNull())
          .addColumn('expires_at', bigint, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
        await db.schema.createIndex('sessions_expires').on('sessions').column('expires_at').execute();
      },
    },
    '0003_uploads_in_blob_store': {
      async up(db: Kysely<any>) {
        // Upload sessions now live wholly in the blob store (the offset is the stored size): no row per chunk.
        await db.schema.dropTable('uploads').ifExists().execute();
      },
    },
    '0004_foundation': {
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
    },
    '0005_names_in_code_point_order': {
      async up(db: Kysely<any>) {
        // Names sort and compare by code point on both databases (the spec's lexical order for tags/list and the
        // catalog, and what `last` pages by): SQLite does by default; PostgreSQL would follow the database's locale.
        if (dialect !== 'postgres') return;
        for (const [table, column] of [['registries', 'name'], ['repositories', 'name'], ['tags', 'name']]) {
          await sql`alter table ${sql.table(table)} alter column ${sql.ref(column)} type text collate "C"`.execute(db);
        }
      },
    },
    '0006_policies': {
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
    },
    '0010_scanning': {
      async up(db: Kysely<any>) {
        // vulnerability data, imported offline: one row per advisory (content digest for incremental imports) and one
        // per affected package, looked up by (ecosystem, package) when a package list is matched
        await db.schema
          .createTable('vuln_advisories')
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('id', 'text', (c) => c.notNull())
          .addColumn('aliases', 'text', (c) => c.notNull())
          .addColumn('summary', 'text', (c) => c.notNull())
          .addColumn('details', 'text', (c) => c.notNull())
          .addColumn('severity', 'text', (c) => c.notNull())
          // CVSS base score × 10 (an integer on both databases)
          .addColumn('cvss_score10', 'integer')
          .addColumn('cvss_vector', 'text')
          .addColumn('links', 'text', (c) => c.notNull())
          .addColumn('modified', 'text')
          .addColumn('digest', 'text', (c) => c.notNull())
          .addColumn('imported_at', bigint, (c) => c.notNull())
          .addPrimaryKeyConstraint('vuln_advisories_pk', ['source', 'id'])
          .execute();
        await db.schema
          .createTable('vuln_affected')
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('advisory_id', 'text', (c) => c.notNull())
          .addColumn('n', 'integer', (c) => c.notNull())
          .addColumn('ecosystem', 'text', (c) => c.notNull())
          .addColumn('package', 'text', (c) => c.notNull())
          .addColumn('ranges', 'text', (c) => c.notNull())
          .addColumn('versions', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('vuln_affected_pk', ['source', 'advisory_id', 'n'])
          .execute();
        await db.schema.createIndex('vuln_affected_package').on('vuln_affected').columns(['ecosystem', 'package']).execute();
        await db.schema
          .createTable('vuln_sources')
          .addColumn('source', 'text', (c) => c.primaryKey())
          .addColumn('advisories', 'integer', (c) => c.notNull())
          .addColumn('imported_at', bigint, (c) => c.notNull())
          .execute();
        // the last scan of each artifact; its package list is kept so new vulnerability data is matched without
        // reading layers again. Keyed by repository name: reports go with their artifact (outbox subscriber).
        await db.schema
          .createTable('scan_reports')
          .addColumn('repository', 'text', (c) => c.notNull())
          .addColumn('digest', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('job_id', 'text')
          .addColumn('started_at', bigint, (c) => c.notNull())
          .addColumn('ended_at', bigint)
          .addColumn('message', 'text')
          .addColumn('inventory', 'text')
          .addColumn('findings', 'text')
          .addColumn('db_stamp', 'text')
          .addPrimaryKeyConstraint('scan_reports_pk', ['repository', 'digest'])
          .execute();
        // per registry (scope = registry id) and the common allow list (scope '*')
        await db.schema
          .createTable('scan_settings')
          .addColumn('scope', 'text', (c) => c.primaryKey())
          .addColumn('settings', 'text', (c) => c.notNull())
          .addColumn('auto_scan', 'integer', (c) => c.notNull())
          .addColumn('updated_at', bigint, (c) => c.notNull())
          .execute();
      },
    },
    '0009_trust': {
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
    },
    '0008_webhooks': {
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
    },
    '0007_gc': {
      async up(db: Kysely<any>) {
        // Garbage collection asks "does any manifest (in this repository, or anywhere) reference this blob?": the
        // primary key (repository_id, artifact_digest, blob_digest) cannot answer it without a scan.
        await db.schema.createIndex('artifact_blobs_blob').on('artifact_blobs').columns(['blob_digest', 'repository_id']).execute();
      },
    },
    '0013_quota': {
      async up(db: Kysely<any>) {
        // a registry's storage quota in bytes (null: no limit)
        await db.schema.alterTable('registries').addColumn('quota_bytes', bigint).execute();
      },
    },
    '0010_endpoints': {
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
    },
    '0011_replication': {
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
    },
    '0012_cache': {
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
    },
  };
}

export class CodeMigrationProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations() {
    return migrations(this.dialect);
  }
}
