/**
 * `ncr cache ...` against a real server: endpoints created, listed, modified, checked and deleted (refused while a
 * cache registry uses one, with the registry named); a cache registry created and listed with its source; the secret
 * never printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli-inprocess.js';
import { startServer, type TestServer } from '../helpers/server.js';

describe('ncr cache (CLI)', () => {
  let s: TestServer;
  let source: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    [s, source] = await Promise.all([startServer({ db: 'sqlite', config: { endpoints: { allowPrivateNetworks: true } } }), startServer({ db: 'sqlite' })]);
    env = { NCR_URL: s.url, NCR_ACCESS_KEY: s.admin.accessKey, NCR_SECRET_KEY: s.admin.secretKey };
  });
  afterAll(async () => Promise.all([s?.close(), source?.close()]));

  it('manages endpoints and cache registries', async () => {
    const providers = await runCli(['cache', 'endpoint', 'providers'], env);
    expect(providers.stdout).toContain('docker-hub');
    const created = await runCli(['cache', 'endpoint', 'create', 'up', '--provider', 'ncr', '--address', source.url, '--access-id', source.admin.accessKey, '--secret', source.admin.secretKey], env);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('up');
    expect(created.stdout).not.toContain(source.admin.secretKey);
    const checked = await runCli(['cache', 'endpoint', 'check', 'up'], env);
    expect(checked.stdout).toContain('reachable');
    const updated = await runCli(['cache', 'endpoint', 'update', 'up', '--description', 'the other ncr'], env);
    expect(updated.code, updated.stderr).toBe(0);
    const reg = await runCli(['cache', 'create', 'upcache', '--endpoint', 'up'], env);
    expect(reg.code, reg.stderr).toBe(0);
    expect(reg.stdout).toMatch(/upcache\s+cache\s+up/);
    const list = await runCli(['cache', 'list', '--json'], env);
    expect(JSON.parse(list.stdout).items).toEqual([expect.objectContaining({ name: 'upcache', kind: 'cache', endpoint: expect.objectContaining({ name: 'up' }) })]);
    const refused = await runCli(['cache', 'endpoint', 'delete', 'up'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('upcache');
    expect((await runCli(['registry', 'delete', 'upcache'], env)).code).toBe(0);
    const deleted = await runCli(['cache', 'endpoint', 'delete', 'up'], env);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect((await runCli(['cache', 'endpoint', 'list', '--json'], env)).stdout).not.toContain('"up"');
  });
});
