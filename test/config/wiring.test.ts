/** Configuration reaches what it configures: storage root, key limits, session lifetime, upload purge (SQLite; no database field here). */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciClient } from '../helpers/oci-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

describe('configuration wiring', () => {
  let s: TestServer;
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ncr-blobs-'));
    s = await startServer({
      db: 'sqlite',
      config: { storage: { fs: { root } }, auth: { keys: { maxPerUser: 2 }, session: { absoluteSeconds: 3600 } }, uploads: { maxIdleSeconds: 120 } },
    });
  });
  afterAll(async () => {
    await s?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('keeps blobs under storage.fs.root, not DATA_DIR/storage', async () => {
    expect((await s.api('POST', '/api/v1/registries', { name: 'team' })).status).toBe(201);
    await new OciClient(s.url, s.admin).pushBlob('team/app', 'a blob under the configured root');
    expect((await readdir(root, { recursive: true })).length).toBeGreaterThan(0);
    expect(existsSync(join(s.dataDir, 'storage'))).toBe(false);
  });

  it('limits access keys to auth.keys.maxPerUser', async () => {
    expect((await s.api('POST', '/api/v1/users/admin/access-keys')).status).toBe(201); // the bootstrap key is the first
    const third = await s.api('POST', '/api/v1/users/admin/access-keys');
    expect(third.status).toBe(409);
    expect(third.body.errors[0]).toMatchObject({ code: 'LIMIT_EXCEEDED', message: expect.stringContaining('2 access keys') });
  });

  it('gives console sessions auth.session.absoluteSeconds', async () => {
    const res = await fetch(`${s.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: s.admin.password }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/Max-Age=3600/);
  });

  it('exposes the grouped configuration on the app', () => {
    expect(s.app.config.uploads.maxIdleSeconds).toBe(120);
    expect(s.app.config.storage.fs.root).toBe(root);
  });
});
