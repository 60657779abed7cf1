/**
 * The shared servers (one per database kind, started once per run by test/helpers/global-setup.ts) as test files see
 * them: the HTTP-facing shape of TestServer without `app` (the server lives in vitest's main process, not in the
 * file's), `dataDir` or `close` (the run closes it).
 *
 * Every file on a shared server sees every other file's data, so a file:
 * - names what it creates (registries, users) with unique(), never a fixed name;
 * - asserts lists (catalog, registries, audit) only about its own names: filter, or search for its suffix;
 * - does not fail logins on purpose beyond a few wrong secrets (the shared servers' failed-login limit is set out of
 *   reach, see SHARED_CONFIG; tests of the limit itself keep a server of their own), and never changes or removes the
 *   shared admin (who may or may not be the only admin);
 * - keeps a server of its own (startServer) for anything needing special config, a clock, `app` internals or a restart.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { validateRegistryName } from '../../src/oci/reference.js';
import type { SharedServerInfo } from './global-setup.js';
import { apiCaller, type DbKind, type TestServer } from './server.js';

export type SharedServer = SharedServerInfo & Pick<TestServer, 'api'>;

/** The shared server of this database kind. Throws if the run has none (the file is not in the integration project). */
export function sharedServer(db: DbKind): SharedServer {
  const info = inject('ncrSharedServers')?.[db];
  if (!info) {
    throw new Error(`no shared ${db} server: test/helpers/global-setup.ts starts one per NCR_TEST_DBS kind for the files of the 'integration' project (vitest.config.ts)`);
  }
  return { ...info, api: apiCaller(info.url, info.admin) };
}

/** This file's suffix for unique(): 6 random [a-z0-9], made once per file (each test file runs in its own process). */
export const FILE_SUFFIX = randomBytes(8).readBigUInt64BE().toString(36).slice(-6).padStart(6, '0');

/**
 * `prefix-SUFFIX`: a name no other file on the shared server uses, valid as a registry name and (up to 63 characters)
 * as a user name. The same prefix gives the same name within a file, so two describes of one file on one server need
 * different prefixes. Throws when the prefix makes an invalid registry name.
 */
export function unique(prefix: string): string {
  const name = `${prefix}-${FILE_SUFFIX}`;
  validateRegistryName(name);
  return name;
}

/**
 * A new admin user of this file's own (unique('admin')), with a password and one access key, as a SharedServer whose
 * `admin` and default `api` credentials are that user's: its "me", its access keys and its audit entries (actor) are
 * the file's alone.
 */
export async function ownAdmin(server: SharedServer, prefix = 'admin'): Promise<SharedServer & { username: string }> {
  const username = unique(prefix);
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const user = await server.api('POST', '/api/v1/users', { username, role: 'admin', password });
  if (user.status !== 201) throw new Error(`creating ${username}: ${user.status} ${JSON.stringify(user.body)}`);
  const key = await server.api('POST', `/api/v1/users/${username}/access-keys`);
  if (key.status !== 201) throw new Error(`creating a key of ${username}: ${key.status} ${JSON.stringify(key.body)}`);
  const admin = { accessKey: key.body.accessKey as string, secretKey: key.body.secretKey as string, password };
  return { url: server.url, host: server.host, admin, username, api: apiCaller(server.url, admin) };
}
