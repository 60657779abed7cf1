/**
 * At least once across a crash: `ncr serve` as a real process acknowledges a push, starts delivering its PUSH_ARTIFACT
 * to a receiver that has not answered yet, and is killed with SIGKILL. After a restart on the same data directory
 * and database the delivery is made (the killed attempt's job is claimed again once its lease has run out), with the
 * same body and delivery id, so a receiver can tell it is the same delivery.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OciClient } from '../helpers/oci-client.js';
import { createPgDatabase, DB_KINDS } from '../helpers/server.js';
import { Receiver } from './receiver.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function serve(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NCR_')));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve'], {
    cwd: ROOT,
    env: { ...base, NCR_SERVER_HOST: '127.0.0.1', NCR_SERVER_PORT: '0', NCR_SERVER_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ncr serve did not start in time:\n${out}`)), 30_000);
    const onData = () => {
      const m = /listening on (\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({ url: m[1], child });
    };
    child.stdout!.on('data', onData);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`ncr serve exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
}

const exited = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r())));

describe.each(DB_KINDS)('webhook delivery across kill -9 (%s)', { timeout: 90_000 }, (db) => {
  it('delivers a push acknowledged before the crash after the restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ncr-wh-kill9-'));
    const pg = db === 'postgres' ? await createPgDatabase() : undefined;
    const admin = { accessKey: 'AKWH' + randomBytes(6).toString('hex').toUpperCase(), secretKey: randomBytes(24).toString('base64url') };
    const env: Record<string, string> = {
      NCR_DATA_DIR: dataDir,
      NCR_AUTH_ADMIN_ACCESS_KEY: admin.accessKey,
      NCR_AUTH_ADMIN_SECRET_KEY: admin.secretKey,
      NCR_WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
      NCR_WEBHOOKS_TIMEOUT_MS: '2000',
      ...(pg ? { NCR_DATABASE_URL: pg.url } : {}),
    };
    const rx = await Receiver.start();
    rx.behaviour = { hang: true };
    let first: { url: string; child: ChildProcess } | undefined;
    let again: { url: string; child: ChildProcess } | undefined;
    const api = async (url: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(url + path, {
        method,
        headers: { authorization: 'Basic ' + Buffer.from(`${admin.accessKey}:${admin.secretKey}`).toString('base64'), ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
    };
    try {
      first = await serve(env);
      expect((await api(first.url, 'POST', '/api/v1/registries', { name: 'crash' })).status).toBe(201);
      const hook = await api(first.url, 'POST', '/api/v1/registries/crash/webhooks', { name: 'ci', address: `${rx.url}/hook`, eventTypes: ['PUSH_ARTIFACT'] });
      expect(hook.status).toBe(201);

      const { digest } = await new OciClient(first.url, admin).pushImage('crash/app', '1.0', `kill9-${db}`);
      // the delivery is in flight (the receiver holds the request): kill ncr before it can record anything
      await rx.waitFor(1, () => true, 10_000);
      first.child.kill('SIGKILL');
      await exited(first.child);
      expect(first.child.signalCode).toBe('SIGKILL');
      rx.behaviour = {};

      again = await serve(env);
      const got = await rx.waitFor(2, () => true, 30_000);
      expect(got[1].body).toBe(got[0].body);
      expect(got[1].headers['x-ncr-delivery']).toBe(got[0].headers['x-ncr-delivery']);
      expect(got[1].json).toMatchObject({ type: 'PUSH_ARTIFACT', operator: 'admin', event_data: { resources: [{ digest, tag: '1.0' }], repository: { repo_full_name: 'crash/app' } } });

      let d: any;
      for (let i = 0; i < 100 && d?.status !== 'succeeded'; i++) {
        d = (await api(again.url, 'GET', `/api/v1/registries/crash/webhooks/${hook.body.id}/deliveries`)).body.items[0];
        if (d?.status !== 'succeeded') await new Promise((r) => setTimeout(r, 50));
      }
      expect(d).toMatchObject({ status: 'succeeded', attempts: 1, lastStatusCode: 200, id: got[0].headers['x-ncr-delivery'] });
      expect(rx.received).toHaveLength(2);
    } finally {
      for (const p of [first, again]) {
        if (p && p.child.exitCode === null && p.child.signalCode === null) {
          p.child.kill('SIGTERM');
          await exited(p.child);
        }
      }
      await rx.stop();
      await pg?.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
