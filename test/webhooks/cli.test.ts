/**
 * `ncr webhook ...` against the shared server on each database: create, list, update, disable, test, deliveries,
 * redeliver, delete. The commands run in this process (the same commander program `ncr` builds, output captured);
 * one runs as the real `ncr` process, for its exit code.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli-inprocess.js';
import { DB_KINDS } from '../helpers/server.js';
import { sharedServer, unique, type SharedServer } from '../helpers/shared.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

/** The ncr command in this process: stdout captured, an error as `ncr` prints it, exit code 1 for either. */
const ncr = (args: string[], env: Record<string, string>) => runCli(args, env);

/** The real `ncr` process. */
async function ncrProcess(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { env: { ...process.env, ...env }, cwd: root });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe.each(DB_KINDS)('ncr webhook (%s)', { timeout: 60_000 }, (db) => {
  let s: SharedServer;
  let env: Record<string, string>;
  const reg = unique(`clihook-${db}`);
  beforeAll(async () => {
    s = sharedServer(db);
    env = { NCR_URL: s.url, NCR_ACCESS_KEY: s.admin.accessKey, NCR_SECRET_KEY: s.admin.secretKey };
    expect((await s.api('POST', '/api/v1/registries', { name: reg })).status).toBe(201);
  });

  it('manages a webhook by name and shows its deliveries', async () => {
    const created = await ncr(['webhook', 'create', reg, 'ci', '--address', 'http://127.0.0.1:9/hook', '--events', 'push_artifact,DELETE_ARTIFACT', '--format', 'CloudEvents', '--secret', 'cli-secret-1', '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    const hook = JSON.parse(created.stdout);
    expect(hook).toMatchObject({ name: 'ci', eventTypes: ['PUSH_ARTIFACT', 'DELETE_ARTIFACT'], payloadFormat: 'CloudEvents', secretSet: true });
    expect(created.stdout).not.toContain('cli-secret-1');

    const updated = await ncr(['webhook', 'update', reg, 'ci', '--type', 'slack', '--description', 'chat'], env);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toMatch(/ci\s+slack\s+CloudEvents\s+PUSH_ARTIFACT,DELETE_ARTIFACT\s+true/);
    expect((await ncr(['webhook', 'disable', reg, hook.id], env)).stdout).toMatch(/ci\s+false/);

    // the shared server keeps the default SSRF guard: a loopback receiver is refused, and the exit code says so
    const tested = await ncrProcess(['webhook', 'test', reg, 'ci'], env);
    expect(tested.code).toBe(1);
    expect(tested.stdout).toMatch(/PUSH_ARTIFACT\s+failed/);
    expect(tested.stdout).toContain('loopback');
    const list = JSON.parse((await ncr(['webhook', 'deliveries', reg, 'ci', '--status', 'failed', '--json'], env)).stdout);
    expect(list.items).toHaveLength(1);
    const again = await ncr(['webhook', 'redeliver', reg, 'ci', list.items[0].id], env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(list.items[0].id);

    expect((await ncr(['webhook', 'list', reg], env)).stdout).toMatch(/ci\s+slack/);
    expect((await ncr(['webhook', 'delete', reg, 'ci'], env)).code).toBe(0);
    const gone = await ncr(['webhook', 'delete', reg, 'ci'], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('NOT_FOUND');
  });
});
