/**
 * Crash durability: `ncr serve` as a real process takes a burst of concurrent pushes and is killed with SIGKILL in the
 * middle of it. After a restart on the same data directory and database, every push the server acknowledged (201 on
 * the manifest PUT) is there and pulls completely, every acknowledged push has its ArtifactPushed event in the outbox
 * and its audit entry, and no event or audit entry names a manifest that is not stored: the manifest, its event and
 * its audit entry commit together or not at all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/domain/events.js';
import { OciClient, sha256, type Creds } from '../helpers/oci-client.js';
import { createPgDatabase, DB_KINDS, startServer, type DbKind } from '../helpers/server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MT_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const PUSHERS = 8;

interface Serve {
  url: string;
  child: ChildProcess;
  output(): string;
}

/** `ncr serve` on 127.0.0.1, any port, configured by environment variables only; resolves once it listens. */
function serve(env: Record<string, string>): Promise<Serve> {
  // only the variables given here configure it, not whatever NCR_* the test runner has
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
      resolve({ url: m[1], child, output: () => out });
    };
    child.stdout!.on('data', onData);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`ncr serve exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

interface Acked {
  repo: string;
  tag: string;
  digest: string;
  manifest: string;
  blobs: string[];
}

/**
 * One pusher: distinct small images (a config, a layer shared by every pusher, a layer of its own) into its own
 * repository, one after another until the server goes away; records each manifest PUT answered 201.
 */
async function pusher(url: string, creds: Creds, n: number, base: string, acked: Acked[], attempts: { n: number }) {
  const client = new OciClient(url, creds);
  const repo = `burst/p${n}`;
  for (let i = 0; ; i++) {
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, pusher: n, i });
    const own = randomBytes(2048 + Math.floor(Math.random() * 30_000));
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MT_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: Buffer.byteLength(config) },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(base), size: Buffer.byteLength(base) },
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(own), size: own.byteLength },
      ],
    });
    try {
      attempts.n++;
      await client.pushBlob(repo, config);
      await client.pushBlob(repo, base);
      await client.pushBlob(repo, own);
      const res = await client.pushManifest(repo, `t${i}`, manifest);
      const status = res.status;
      await res.arrayBuffer();
      if (status !== 201) throw new Error(`manifest PUT answered ${status}`);
      acked.push({ repo, tag: `t${i}`, digest: sha256(manifest), manifest, blobs: [sha256(config), sha256(base), sha256(own)] });
    } catch {
      return; // the server was killed (connection refused or reset): stop
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(DB_KINDS)('kill -9 in the middle of a push burst (%s)', (db: DbKind) => {
  it('keeps every acknowledged push, pullable, with its event and audit entry, and nothing half-done', async () => {
    const t0 = Date.now();
    const dataDir = await mkdtemp(join(tmpdir(), 'ncr-kill9-'));
    const pg = db === 'postgres' ? await createPgDatabase() : undefined;
    const admin = { accessKey: 'AKKILL' + randomBytes(6).toString('hex').toUpperCase(), secretKey: randomBytes(24).toString('base64url'), password: 'admin-' + randomBytes(8).toString('hex') };
    const env: Record<string, string> = {
      NCR_DATA_DIR: dataDir,
      NCR_AUTH_ADMIN_ACCESS_KEY: admin.accessKey,
      NCR_AUTH_ADMIN_SECRET_KEY: admin.secretKey,
      NCR_AUTH_ADMIN_PASSWORD: admin.password,
      ...(pg ? { NCR_DATABASE_URL: pg.url } : {}),
    };
    let first: Serve | undefined;
    let again: Serve | undefined;
    try {
      first = await serve(env);
      const created = await fetch(`${first.url}/api/v1/registries`, {
        method: 'POST',
        headers: { authorization: 'Basic ' + Buffer.from(`${admin.accessKey}:${admin.secretKey}`).toString('base64'), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'burst' }),
      });
      expect(created.status).toBe(201);

      // the burst; SIGKILL once a good number of pushes were acknowledged, while the pushers are still at it
      const acked: Acked[] = [];
      const attempts = { n: 0 };
      const base = `base-layer-${randomBytes(4096).toString('hex')}`;
      const burst = Promise.all(Array.from({ length: PUSHERS }, (_, n) => pusher(first!.url, admin, n, base, acked, attempts)));
      const burstStart = Date.now();
      while (acked.length < 40 && Date.now() - burstStart < 15_000) await sleep(20);
      await sleep(Math.floor(Math.random() * 200));
      first.child.kill('SIGKILL');
      await exited(first.child);
      await burst;
      expect(first.child.signalCode).toBe('SIGKILL');
      expect(acked.length).toBeGreaterThan(0);
      const burstMs = Date.now() - burstStart;

      // restart on the same data directory and database
      again = await serve(env);
      const client = new OciClient(again.url, admin);
      for (const a of acked) {
        const res = await client.req('GET', `/v2/${a.repo}/manifests/${a.tag}`, { headers: { accept: MT_MANIFEST } });
        expect(res.status, `${a.repo}:${a.tag}`).toBe(200);
        expect(sha256(new Uint8Array(await res.arrayBuffer())), `${a.repo}:${a.tag}`).toBe(a.digest);
        for (const digest of a.blobs) {
          const blob = await client.req('GET', `/v2/${a.repo}/blobs/${digest}`);
          expect(blob.status, `${a.repo} ${digest}`).toBe(200);
          expect(sha256(new Uint8Array(await blob.arrayBuffer())), `${a.repo} ${digest}`).toBe(digest);
        }
      }

      // and it takes pushes again, the interrupted ones included (their blobs may be half-uploaded)
      const after = await client.pushImage('burst/p0', 'after-restart', `after-${randomBytes(4).toString('hex')}`);
      expect((await client.req('HEAD', `/v2/burst/p0/manifests/${after.digest}`, { headers: { accept: MT_MANIFEST } })).status).toBe(200);

      // the audit log (written in the manifest's transaction): an entry per acknowledged push, none for a missing one
      const audited: string[] = [];
      for (let page = 1; ; page++) {
        const res = await fetch(`${again.url}/api/v1/audit?action=ArtifactPushed&perPage=100&page=${page}`, {
          headers: { authorization: 'Basic ' + Buffer.from(`${admin.accessKey}:${admin.secretKey}`).toString('base64') },
        });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { items: { target: string }[]; total: number };
        audited.push(...body.items.map((e) => e.target));
        if (page * 100 >= body.total) break;
      }
      for (const a of acked) expect(audited, `audit entry for ${a.repo}@${a.digest}`).toContain(`${a.repo}@${a.digest}`);
      for (const target of audited) {
        const [repo, digest] = target.split('@');
        const res = await client.req('HEAD', `/v2/${repo}/manifests/${digest}`, { headers: { accept: MT_MANIFEST } });
        expect(res.status, `audited ${target} is stored`).toBe(200);
      }
      again.child.kill('SIGTERM');
      await exited(again.child);

      // the outbox, read by a durable subscriber from the beginning on the same data directory and database
      const s = await startServer({ db, dataDir, pgUrl: pg?.url });
      try {
        const events: { repo: string; digest: string }[] = [];
        s.app.outbox.subscribe(
          'kill9-check',
          (e: StoredEvent) => {
            if (e.event.type === 'ArtifactPushed') events.push({ repo: e.event.repository, digest: e.event.digest });
          },
          { types: ['ArtifactPushed'], from: 'beginning' },
        );
        const waitStart = Date.now();
        do {
          await s.app.outbox.drain();
          await sleep(20);
        } while (events.length < audited.length && Date.now() - waitStart < 10_000);
        await s.app.outbox.drain();
        const keys = events.map((e) => `${e.repo}@${e.digest}`);
        expect(new Set(keys).size).toBe(keys.length);
        for (const a of acked) expect(keys, `event for ${a.repo}@${a.digest}`).toContain(`${a.repo}@${a.digest}`);
        // one event per stored push, and the same pushes the audit log has
        expect([...keys].sort()).toEqual([...audited].sort());
        const creds = { accessKey: admin.accessKey, secretKey: admin.secretKey };
        const inProcess = new OciClient(s.url, creds);
        for (const e of events) {
          const res = await inProcess.req('HEAD', `/v2/${e.repo}/manifests/${e.digest}`, { headers: { accept: MT_MANIFEST } });
          expect(res.status, `event for ${e.repo}@${e.digest} has its manifest`).toBe(200);
        }
        console.log(
          `kill9 (${db}): ${attempts.n} pushes started, ${acked.length} acknowledged in ${burstMs} ms before SIGKILL, ${events.length - 1} stored ` +
            `(${events.length - 1 - acked.length} committed but unacknowledged); total ${Date.now() - t0} ms`,
        );
      } finally {
        await s.close();
      }
    } finally {
      for (const p of [first, again]) if (p && p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await Promise.all([first, again].map((p) => p && exited(p.child)));
      await pg?.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
