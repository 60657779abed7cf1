/** Migration 0010_scanning (applied in name order; never edit one that has been applied). */
import { type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from './types.js';

export function m0010Scanning({ bigint }: ColumnTypes): Migration {
  return {
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
  };
}
