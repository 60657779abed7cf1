/**
 * vitest globalSetup of the integration project (vitest.config.ts): ONE ncr server per database kind in DB_KINDS for
 * the whole run, started with startServer (the real buildApp on 127.0.0.1, port 0, known admin credentials) in
 * vitest's main process and handed to every test file through provide/inject; test/helpers/shared.ts is the side the
 * files use. Closed, and its PostgreSQL database dropped, in the teardown.
 *
 * It runs only when an integration file (test/**) is part of the run: the unit projects (src/**, web/**) have no
 * globalSetup, and vitest sets a project up only when one of its files runs.
 */
import type { TestProject } from 'vitest/node';
import { DB_KINDS, startServer, type DbKind, type TestServer } from './server.js';
import type { Config, DeepPartial } from '../../src/config/index.js';

/** What a test file learns about a shared server: the HTTP-facing part of TestServer (the app is in another process). */
export interface SharedServerInfo {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** host:port, e.g. 127.0.0.1:41234 */
  host: string;
  admin: { accessKey: string; secretKey: string; password: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The shared server of each database kind in DB_KINDS. */
    ncrSharedServers: Partial<Record<DbKind, SharedServerInfo>>;
  }
}

/**
 * The shared servers' configuration over the test defaults. Every file talks from 127.0.0.1, and the failed-login limit
 * counts per client address: the deliberate wrong secrets of one file (podman/docker login with a bad key, a revoked
 * key) would add up with every other file's and lock them all out. The limit itself is tested on servers of their own
 * (test/oci/auth, test/api/session, test/api/management's last describe).
 */
export const SHARED_CONFIG: DeepPartial<Config> = { auth: { login: { failureLimit: 1_000_000 } } };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = await Promise.allSettled(DB_KINDS.map((db) => startServer({ db, config: SHARED_CONFIG })));
  const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const closeAll = async (): Promise<void> => {
    await Promise.all(servers.map((s: TestServer) => s.close()));
  };
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await closeAll();
    throw new Error(`the shared test server did not start: ${String(failed.reason)}`, { cause: failed.reason });
  }
  const provided: Partial<Record<DbKind, SharedServerInfo>> = {};
  DB_KINDS.forEach((db, i) => {
    const { url, host, admin } = servers[i]!;
    provided[db] = { url, host, admin };
  });
  project.provide('ncrSharedServers', provided);
  return closeAll;
}
