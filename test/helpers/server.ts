/**
 * Boots the real ncr app (buildApp) on 127.0.0.1 with an ephemeral port, on SQLite (a fresh temp data dir) or on
 * PostgreSQL (a fresh database on the machine's server at 127.0.0.1:5432, dropped on close). Known admin credentials.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { buildApp, type Adapters, type App } from '../../src/app.js';
import { loadConfig, mergeConfig, type Config, type DeepPartial } from '../../src/config/index.js';

export const PG_ADMIN_URL = process.env.NCR_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestServer {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** host:port, what clients put before the repository name, e.g. 127.0.0.1:41234 */
  host: string;
  admin: { accessKey: string; secretKey: string; password: string };
  app: App;
  dataDir: string;
  /** JSON call to /api/v1 with Basic auth (the admin's key unless creds are given). */
  api(method: string, path: string, body?: unknown, creds?: { accessKey: string; secretKey: string }): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

export type DbKind = 'sqlite' | 'postgres';

/** The databases the suite runs against: both by default; NCR_TEST_DBS=sqlite narrows it. */
export const DB_KINDS: DbKind[] = (process.env.NCR_TEST_DBS ?? 'sqlite,postgres').split(',').map((s) => s.trim()) as DbKind[];

export async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `ncr_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      // a closed pool's server connections may still be going away: a forced drop would kill them and make their
      // clients report errors, so wait (a little) for them to leave first
      for (let i = 0; i < 100; i++) {
        const r = await c.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
        if (r.rows[0]!.n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** The `api` of a server at `url`: JSON to /api/v1 with Basic auth, `defaultCreds` unless creds are given. */
export function apiCaller(url: string, defaultCreds: { accessKey: string; secretKey: string }): TestServer['api'] {
  return async (method, path, body, creds = defaultCreds) => {
    const headers: Record<string, string> = {
      authorization: 'Basic ' + Buffer.from(`${creds.accessKey}:${creds.secretKey}`).toString('base64'),
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
}

/** `config` is deep-merged over the test defaults, e.g. `{ auth: { login: { failureLimit: 3 } } }`. */
export async function startServer(opts: { db?: DbKind; config?: DeepPartial<Config>; dataDir?: string; adapters?: Adapters; pgUrl?: string } = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'ncr-test-')));
  const pgDb = opts.db === 'postgres' && !opts.pgUrl ? await createPgDatabase() : undefined;
  const admin = {
    accessKey: 'AKTEST' + randomBytes(6).toString('hex').toUpperCase(),
    secretKey: randomBytes(24).toString('base64url'),
    password: 'admin-' + randomBytes(8).toString('hex'),
  };
  const config = loadConfig({
    env: {},
    overrides: mergeConfig(
      {
        dataDir,
        server: { host: '127.0.0.1', port: 0, logLevel: process.env.NCR_TEST_LOG ?? 'silent' },
        database: { url: opts.pgUrl ?? pgDb?.url },
        auth: { admin },
      },
      opts.config,
    ),
  });
  const app = await buildApp(config, opts.adapters);
  const address = await app.listen();
  const url = address.replace('localhost', '127.0.0.1');
  const host = new URL(url).host;
  return {
    url,
    host,
    admin,
    app,
    dataDir,
    api: apiCaller(url, admin),
    async close() {
      await app.close();
      if (pgDb) await pgDb.drop();
      if (!opts.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
