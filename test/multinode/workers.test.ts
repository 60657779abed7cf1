/**
 * `ncr serve --workers 2` as a real process: the primary forks two workers sharing the listening socket. Every request
 * here goes on a new connection, so the primary hands them to the workers in turn: a push and its pulls are spread
 * over both, and each worker's /metrics (ncr_process_info) shows it served registry requests. A worker killed is
 * replaced; SIGTERM to the primary stops the workers and then the primary, cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../helpers/oci-client.js';
import { createPgDatabase, DB_KINDS, type DbKind } from '../helpers/server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MT_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request on a connection of its own (no keep-alive agent): the cluster's primary picks the worker per connection. */
function request(url: string, method: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function serve(env: Record<string, string>): Promise<{ url: string; child: ChildProcess; output(): string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NCR_')));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve', '--workers', '2'], {
    cwd: ROOT,
    env: { ...base, NCR_SERVER_HOST: '127.0.0.1', NCR_SERVER_PORT: '0', NCR_SERVER_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ncr serve --workers 2 did not start in time:\n${out}`)), 90_000);
    const onData = () => {
      const m = /listening on (\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({ url: m[1], child, output: () => out });
    };
    child.stdout!.on('data', onData);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`ncr serve exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Each worker's /metrics text by pid, scraped on new connections until `want` distinct workers answered. */
async function metricsByWorker(url: string, want = 2): Promise<Map<number, string>> {
  const seen = new Map<number, string>();
  for (let i = 0; i < 40 && seen.size < want; i++) {
    const res = await request(`${url}/metrics`, 'GET');
    expect(res.status).toBe(200);
    const text = res.body.toString();
    const m = /^ncr_process_info\{pid="(\d+)",worker="(\d+)"\} 1$/m.exec(text);
    expect(m, 'ncr_process_info in /metrics').not.toBeNull();
    expect(Number(m![2]), 'a worker id').toBeGreaterThan(0);
    seen.set(Number(m![1]), text);
  }
  return seen;
}

/** Registry requests (/v2 routes) a worker's metrics count. */
const ociRequests = (metrics: string) =>
  [...metrics.matchAll(/^ncr_http_requests_total\{[^}]*route="oci_[^"]*"[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);

describe.each(DB_KINDS)('ncr serve --workers 2 (%s)', (db: DbKind) => {
  it('serves pushes and pulls from both workers, replaces a dead worker, and stops gracefully', { timeout: 240_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ncr-workers-'));
    const pg = db === 'postgres' ? await createPgDatabase() : undefined;
    const admin = { accessKey: 'AKWORK' + randomBytes(6).toString('hex').toUpperCase(), secretKey: randomBytes(24).toString('base64url') };
    const basic = 'Basic ' + Buffer.from(`${admin.accessKey}:${admin.secretKey}`).toString('base64');
    let s: Awaited<ReturnType<typeof serve>> | undefined;
    try {
      s = await serve({
        NCR_DATA_DIR: dataDir,
        NCR_AUTH_ADMIN_ACCESS_KEY: admin.accessKey,
        NCR_AUTH_ADMIN_SECRET_KEY: admin.secretKey,
        NCR_AUTH_ADMIN_PASSWORD: 'admin-' + randomBytes(8).toString('hex'),
        ...(pg ? { NCR_DATABASE_URL: pg.url } : {}),
      });
      const url = s.url;
      expect(s.output()).toContain('2 worker processes');
      // the first admin is created (and announced) once, by the first worker
      expect(s.output().match(/First start: created the admin user/g)).toHaveLength(1);

      const before = await metricsByWorker(url);
      const workers = [...before.keys()];
      expect(workers).toHaveLength(2);
      expect(workers).not.toContain(s.child.pid);

      expect((await request(`${url}/api/v1/registries`, 'POST', { authorization: basic, 'content-type': 'application/json' }, JSON.stringify({ name: 'team' }))).status).toBe(201);
      // tokens are made by one worker and checked by another
      const token = async (scope: string) => {
        const res = await request(`${url}/service/token?service=ncr&scope=${encodeURIComponent(scope)}`, 'GET', { authorization: basic });
        expect(res.status, res.body.toString()).toBe(200);
        return 'Bearer ' + (JSON.parse(res.body.toString()) as { token: string }).token;
      };
      const push = await token('repository:team/app:pull,push');
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, db }));
      const layers = [randomBytes(300_000), randomBytes(70_000)];
      for (const blob of [config, ...layers]) {
        const res = await request(`${url}/v2/team/app/blobs/uploads/?digest=${sha256(blob)}`, 'POST', { authorization: push, 'content-type': 'application/octet-stream' }, blob);
        expect(res.status, res.body.toString()).toBe(201);
      }
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: MT_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
        layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(l), size: l.length })),
      });
      expect((await request(`${url}/v2/team/app/manifests/1.0`, 'PUT', { authorization: push, 'content-type': MT_MANIFEST }, manifest)).status).toBe(201);

      // every pull twice, on new connections: each worker serves each of them once
      const pull = await token('repository:team/app:pull');
      for (let i = 0; i < 2; i++) {
        const m = await request(`${url}/v2/team/app/manifests/1.0`, 'GET', { authorization: pull, accept: MT_MANIFEST });
        expect(m.status).toBe(200);
        expect(m.body.toString()).toBe(manifest);
        for (const blob of [config, ...layers]) {
          const res = await request(`${url}/v2/team/app/blobs/${sha256(blob)}`, 'GET', { authorization: pull });
          expect(res.status).toBe(200);
          expect(sha256(res.body)).toBe(sha256(blob));
        }
      }
      const after = await metricsByWorker(url);
      for (const pid of workers) {
        expect(after.has(pid), `worker ${pid} still answers`).toBe(true);
        expect(ociRequests(after.get(pid)!), `registry requests served by worker ${pid}`).toBeGreaterThan(ociRequests(before.get(pid)!));
      }

      // a worker that dies is replaced, and the image is still served
      process.kill(workers[0], 'SIGKILL');
      let replaced: number[] = [];
      for (let i = 0; i < 120 && replaced.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 500));
        const now = await metricsByWorker(url).catch(() => new Map<number, string>());
        replaced = [...now.keys()].filter((p) => !workers.includes(p));
      }
      expect(replaced, 'a new worker').toHaveLength(1);
      for (let i = 0; i < 2; i++) expect((await request(`${url}/v2/team/app/manifests/1.0`, 'GET', { authorization: pull, accept: MT_MANIFEST })).status).toBe(200);

      // SIGTERM to the primary: the workers finish and exit, then the primary, with code 0
      const exit = new Promise<number | null>((r) => s!.child.once('exit', (code) => r(code)));
      s.child.kill('SIGTERM');
      expect(await exit).toBe(0);
      for (const pid of [workers[1], ...replaced]) expect(alive(pid), `worker ${pid} ended`).toBe(false);
      expect(s.output()).not.toMatch(/giving up|exited before listening/);
    } finally {
      if (s && s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
      await pg?.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('ncr serve --workers 2 that cannot start', () => {
  it('stops with code 1 and says why when the first worker cannot listen', { timeout: 120_000 }, async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    const dataDir = await mkdtemp(join(tmpdir(), 'ncr-workers-'));
    try {
      const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NCR_')));
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve', '--workers', '2'], {
        cwd: ROOT,
        env: { ...base, NCR_SERVER_HOST: '127.0.0.1', NCR_SERVER_PORT: String(port), NCR_SERVER_LOG_LEVEL: 'warn', NCR_DATA_DIR: dataDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      expect(code, out).toBe(1);
      expect(out).toContain(`cannot listen on 127.0.0.1:${port}`);
      expect(out).toMatch(/worker 1 \(pid \d+\) exited before listening \(code 1\); stopping/);
      expect(out).not.toContain('listening on http');
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
