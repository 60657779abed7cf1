/**
 * The database going away: requests answer 503 UNAVAILABLE with Retry-After (never a raw database message, never a
 * crash), /readyz says not ready, and everything works again once the database is back. PostgreSQL only: that is the
 * database that can go away under a running node (SQLite is a file in the node's own data directory).
 */
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMetaDb } from '../../src/storage/meta/kysely/connect.js';
import { createPgDatabase, DB_KINDS, PG_ADMIN_URL, startServer, type TestServer } from '../helpers/server.js';

const suite = DB_KINDS.includes('postgres') ? describe : describe.skip;

suite('the database going away (postgres)', () => {
  let s: TestServer;
  let db: Awaited<ReturnType<typeof createPgDatabase>>;
  const name = () => new URL(db.url).pathname.slice(1);
  const admin = async (sql: string, params: unknown[] = []) => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    try {
      return await c.query(sql, params);
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    db = await createPgDatabase();
    s = await startServer({ db: 'postgres', pgUrl: db.url });
    expect((await s.api('POST', '/api/v1/registries', { name: 'team' })).status).toBe(201);
  });
  afterAll(async () => {
    await admin(`ALTER DATABASE ${name()} ALLOW_CONNECTIONS true`).catch(() => undefined);
    await s?.close();
    await db?.drop();
  });

  it('answers 503 UNAVAILABLE with Retry-After while it is gone, and recovers when it is back', async () => {
    await admin(`ALTER DATABASE ${name()} ALLOW_CONNECTIONS false`);
    await admin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name()]);
    const down = await s.api('GET', '/api/v1/registries/team');
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(down.body.errors[0].code).toBe('UNAVAILABLE');
    expect(JSON.stringify(down.body)).not.toMatch(/accepting connections|terminat|ncr_test_/);
    const v2 = await fetch(`${s.url}/v2/team/app/tags/list`, { headers: { authorization: 'Basic ' + Buffer.from(`${s.admin.accessKey}:${s.admin.secretKey}`).toString('base64') } });
    expect(v2.status).toBe(503);
    expect((await fetch(`${s.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);

    await admin(`ALTER DATABASE ${name()} ALLOW_CONNECTIONS true`);
    expect((await s.api('GET', '/api/v1/registries/team')).status).toBe(200);
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
  });

  it('a connection dropped while checked out (between two statements of a transaction) fails that transaction, not the process', async () => {
    const errors: Error[] = [];
    const meta = await openMetaDb({ databaseUrl: db.url, dataDir: '/nonexistent', onIdleError: (err) => errors.push(err) });
    try {
      const tx = meta.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        await admin('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        await new Promise((resolve) => setTimeout(resolve, 200)); // the termination arrives while nothing is running
        await sql`select 1`.execute(trx);
      });
      await expect(tx).rejects.toThrow();
      expect(errors.length).toBeGreaterThan(0);
      // and the pool goes on with a new connection
      expect((await sql<{ one: number }>`select 1 as one`.execute(meta.db)).rows[0]!.one).toBe(1);
    } finally {
      await meta.close();
    }
  });
});
