import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_LEAVES, flagName } from '../../src/config/index.js';
import { runCli } from '../helpers/cli-inprocess.js';
import { startServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const CLI = ['--import', 'tsx', join(root, 'src/cli/main.ts')];

async function ncr(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], { env: { ...process.env, ...env }, cwd: root });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// client commands run in this process (one tsx start per command made this file slow under load); `serve` below
// runs as a real process
describe('ncr client commands', () => {
  let s: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    s = await startServer({ db: 'sqlite' });
    env = { NCR_URL: s.url, NCR_ACCESS_KEY: s.admin.accessKey, NCR_SECRET_KEY: s.admin.secretKey };
  });
  afterAll(async () => s?.close());

  it('creates, lists and deletes registries', async () => {
    const created = await runCli(['registry', 'create', 'team'], env);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`${s.host}/team`);
    const list = await runCli(['registry', 'list', '--json'], env);
    expect(JSON.parse(list.stdout).items.map((r: { name: string }) => r.name)).toEqual(['team']);
    const bad = await runCli(['registry', 'create', 'Bad Name'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/NAME_INVALID/);
    expect((await runCli(['registry', 'delete', 'team'], env)).code).toBe(0);
  });

  it('manages users and keys; the secret is printed once', async () => {
    expect((await runCli(['user', 'create', 'vera', '--role', 'viewer'], env)).code).toBe(0);
    const key = await runCli(['key', 'create', '--user', 'vera'], env);
    expect(key.stdout).toMatch(/secret key: \S{40}/);
    const ak = /access key: (\S+)/.exec(key.stdout)![1];
    const list = await runCli(['key', 'list', '--user', 'vera'], env);
    expect(list.stdout).toContain(ak);
    expect(list.stdout).not.toMatch(/secret/i);
    expect((await runCli(['key', 'delete', ak, '--user', 'vera'], env)).code).toBe(0);
    expect((await runCli(['user', 'set-role', 'vera', 'member'], env)).stdout).toContain('member');
  });

  it('lists, shows and stops executions; shows the job queue and its schedules', async () => {
    const e = await s.app.executions.start({ kind: 'cli-demo', jobKind: 'cli-unworked', trigger: 'manual', subject: 'team', actor: { userId: null, username: 'admin' } });
    const list = await runCli(['execution', 'list', '--kind', 'cli-demo'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${e.id}\\s+cli-demo\\s+team\\s+manual\\s+queued`));
    const stopped = await runCli(['execution', 'stop', e.id, '--json'], env);
    expect(JSON.parse(stopped.stdout)).toMatchObject({ id: e.id, status: 'stopped' });
    const shown = await runCli(['execution', 'show', e.id], env);
    expect(shown.stdout).toContain('stopped before it started');
    const jobs = await runCli(['job', 'list', '--kind', 'cli-unworked', '--json'], env);
    expect(JSON.parse(jobs.stdout).items.map((j: { status: string }) => j.status)).toEqual(['cancelled']);
    const schedules = await runCli(['job', 'schedules'], env);
    expect(schedules.stdout).toMatch(/system:upload-purge\s+17 \* \* \* \*\s+upload-purge\s+true/);
    expect((await runCli(['execution', 'stop', e.id], env)).stderr).toMatch(/CONFLICT: execution .* already stopped/);
  });

  it('runs garbage collection (dry run and for real), shows its history, sets and turns off the schedule', async () => {
    const dry = await runCli(['gc', 'run', '--dry-run', '--wait', '--json'], env);
    expect(dry.code, dry.stderr).toBe(0);
    const run = JSON.parse(dry.stdout);
    expect(run).toMatchObject({ kind: 'gc', status: 'succeeded', params: { dryRun: true, deleteUntagged: false } });
    const real = await runCli(['gc', 'run', '--delete-untagged', '--wait'], env);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toMatch(/succeeded/);
    expect(real.stdout).toMatch(/counts: \{/);
    const history = await runCli(['gc', 'history'], env);
    expect(history.stdout).toMatch(new RegExp(`${run.id}\\s+manual\\s+true\\s+succeeded`));
    const set = await runCli(['gc', 'schedule', '0 4 * * 0', '--json'], env);
    expect(JSON.parse(set.stdout)).toMatchObject({ cron: '0 4 * * 0', enabled: true });
    const off = await runCli(['gc', 'schedule', 'off', '--json'], env);
    expect(JSON.parse(off.stdout)).toMatchObject({ enabled: false, nextAt: null });
  });

  it('says what is missing without credentials', async () => {
    const res = await runCli(['registry', 'list'], { NCR_URL: s.url, NCR_ACCESS_KEY: '', NCR_SECRET_KEY: '' });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/NCR_ACCESS_KEY/);
  });
});

describe('ncr serve', () => {
  it('refuses a bad configuration, naming the field', async () => {
    const res = await ncr(['serve', '--port', 'abc', '--data-dir', join(tmpdir(), 'ncr-never')]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/"server\.port".*--server-port or --port.*NCR_SERVER_PORT/);
  });

  it('has a flag for every configuration field but the secrets, from the schema', async () => {
    const res = await ncr(['serve', '--help']);
    expect(res.code).toBe(0);
    for (const leaf of CONFIG_LEAVES) {
      if (leaf.flag) expect(res.stdout, leaf.path).toContain(`${leaf.flag} <value>`);
      else expect(res.stdout, leaf.path).not.toContain(flagName(leaf.path));
      if (leaf.alias) expect(res.stdout, leaf.path).toContain(`${leaf.alias} <value>`);
    }
  });

  it('takes the old variable names, with one warning each', async () => {
    const env = { NCR_PORT: '70000', NCR_LOG_LEVEL: 'warn' };
    const res = await ncr(['serve', '--data-dir', join(tmpdir(), 'ncr-never')], env);
    expect(res.code).toBe(2);
    const lines = res.stderr.trim().split('\n');
    expect(lines).toContain('ncr: deprecated: NCR_PORT, use NCR_SERVER_PORT');
    expect(lines).toContain('ncr: deprecated: NCR_LOG_LEVEL, use NCR_SERVER_LOG_LEVEL');
    expect(lines.filter((l) => l.includes('deprecated'))).toHaveLength(2);
    expect(lines.at(-1)).toMatch(/"server\.port"/);
  });

  it('starts, prints the first-start credentials once, and stops gracefully on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ncr-serve-'));
    const start = () =>
      new Promise<{ out: string; stop: () => Promise<number | null> }>((resolve, reject) => {
        const child = spawn(process.execPath, [...CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { cwd: root });
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no start in time: ${out}`)), 30_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (/listening on/.test(out) && (/Log in:/.test(out) || /listening on .*\n/.test(out))) {
            setTimeout(() => {
              clearTimeout(timer);
              resolve({ out, stop: () => new Promise((r) => { child.on('exit', (code) => r(code)); child.kill('SIGTERM'); }) });
            }, 300);
          }
        });
        child.on('error', reject);
      });
    try {
      const first = await start();
      expect(first.out).toMatch(/secret key:\s+\S{40}/);
      expect(first.out).toMatch(/access key:\s+NCR[A-Z0-9]{17}/);
      const url = /listening on (\S+)/.exec(first.out)![1];
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect(await first.stop()).toBe(0);
      const second = await start();
      expect(second.out).not.toMatch(/secret key/);
      expect(await second.stop()).toBe(0);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
