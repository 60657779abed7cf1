/**
 * Pushes racing garbage collection, on both databases: several pushers send over a thousand images (shared layers,
 * new layers, mounts from other repositories, re-used tags, deleted images) while GC runs again and again with a safe
 * window of 0, some runs also deleting untagged artifacts. A push may fail cleanly (MANIFEST_BLOB_UNKNOWN when GC took
 * a link it had not referenced yet, BLOB_UPLOAD_INVALID when GC took the bytes it was linking) and is then retried, as
 * a client would; what must never happen is a manifest that is there while one of its blobs is not. At the end (after
 * one more run) every manifest still there pulls completely: each blob GETs 200 with the right digest.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciClient, sha256 } from '../helpers/oci-client.js';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';
import { imageManifest, OCI_MANIFEST, pullProblems, untilEnded } from './gc-helpers.js';

const PUSHERS = 12;
/** 420 images of three layers each: 1,260 layer pushes (uploaded, mounted, or found already there by HEAD) */
const PUSHES_PER_PUSHER = 35;
/** the safe window: blobs a slow client sent longer ago than this are garbage until its manifest references them */
const WINDOW_MS = 1000;
const REPOS = ['race/a', 'race/b', 'race/c'];
const SHARED = Array.from({ length: 24 }, (_, i) => `shared layer ${i} ${'s'.repeat(200 + i)}`);

function codeOf(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { errors: { code: string }[] }).errors[0]?.code;
  } catch {
    return undefined;
  }
}

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe.each(DB_KINDS)('pushes racing garbage collection (%s)', (db) => {
  let s: TestServer;
  let dataDir: string;

  beforeAll(async () => {
    // in memory when the machine has it: the race is about ordering, not durability, and fsyncs would only slow it
    dataDir = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ncr-gc-race-'));
    s = await startServer({ db, dataDir, config: { gc: { safeWindowSeconds: WINDOW_MS / 1000, batchSize: 25 }, jobs: { pollIntervalMs: 50 } } });
    expect((await s.api('POST', '/api/v1/registries', { name: 'race' })).status).toBe(201);
    // One token, and one request with it, first: on a fresh database the signing key is created on first use, and
    // its public key loaded at the first verification; requests that arrive all at once while that load is under way
    // are refused as "token invalid" (KeyRing.publicKey reloads at most once a second and does not share the load).
    const warm = new OciClient(s.url, s.admin);
    await (await warm.req('GET', '/v2/race/a/tags/list', { scopes: ['repository:race/a:pull'] })).arrayBuffer();
  });
  afterAll(async () => {
    await s?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('leaves no broken image', { timeout: 180_000 }, async () => {
    const pushed = new Map<string, string>(); // digest -> repository
    const deleted = new Set<string>();
    const stats = { layerPushes: 0, pushes: 0, retries: 0, mounts: 0, deletes: 0, gcRuns: 0, linksDeleted: 0, blobsDeleted: 0, artifactsDeleted: 0 };
    const retryable = new Set(['MANIFEST_BLOB_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'BLOB_UNKNOWN']);

    /** Sends the blob unless the repository has it (HEAD), or mounts it from `from`; `force` uploads regardless. */
    async function sendBlob(c: OciClient, repo: string, content: string, opts: { force: boolean; from?: string }) {
      const digest = sha256(content);
      const scopes = [`repository:${repo}:pull,push`];
      if (!opts.force) {
        const head = await c.req('HEAD', `/v2/${repo}/blobs/${digest}`, { scopes });
        if (head.status === 200) return;
        if (opts.from) {
          const m = await c.req('POST', `/v2/${repo}/blobs/uploads/?mount=${digest}&from=${opts.from}`, { scopes: [...scopes, `repository:${opts.from}:pull`] });
          if (m.status === 201) {
            stats.mounts++;
            return;
          }
          await m.arrayBuffer();
          // not mounted: a session was opened instead; drop it and upload
          const location = m.headers.get('location');
          if (location) await c.req('DELETE', location, { scopes });
        }
      }
      const res = await c.req('POST', `/v2/${repo}/blobs/uploads/?digest=${digest}`, { body: content, headers: { 'content-type': 'application/octet-stream' }, scopes });
      if (res.status !== 201) {
        const text = await res.text();
        throw Object.assign(new Error(`blob push ${res.status}: ${text}`), { code: codeOf(text) });
      }
    }

    async function pusher(p: number) {
      const rnd = prng(1000 + p);
      const c = new OciClient(s.url, s.admin);
      const mine: { repo: string; digest: string }[] = [];
      for (let n = 0; n < PUSHES_PER_PUSHER; n++) {
        const repo = REPOS[Math.floor(rnd() * REPOS.length)]!;
        const from = REPOS.find((r) => r !== repo)!;
        const config = `config ${p}-${n}`;
        const layers = [SHARED[Math.floor(rnd() * SHARED.length)]!, SHARED[Math.floor(rnd() * SHARED.length)]!, `new layer ${p}-${n} ${'n'.repeat(Math.floor(rnd() * 300))}`];
        stats.layerPushes += layers.length;
        const unique = [...new Set(layers)];
        const body = imageManifest(config, unique);
        const tag = `p${p}-${n % 4}`;
        for (let attempt = 0; ; attempt++) {
          try {
            for (const b of [config, ...unique]) await sendBlob(c, repo, b, { force: attempt > 0, from: rnd() < 0.3 ? from : undefined });
            // a slow client: its blobs outgrow the safe window before the manifest comes, so GC may take them first
            if (rnd() < 0.2) await new Promise((r) => setTimeout(r, WINDOW_MS + rnd() * 500));
            const res = await c.pushManifest(repo, tag, body);
            if (res.status !== 201) {
              const text = await res.text();
              throw Object.assign(new Error(`manifest push ${res.status}: ${text}`), { code: codeOf(text) });
            }
            break;
          } catch (err) {
            const code = (err as { code?: string }).code;
            if (!code || !retryable.has(code) || attempt >= 20) throw err;
            stats.retries++;
          }
        }
        stats.pushes++;
        pushed.set(sha256(body), repo);
        mine.push({ repo, digest: sha256(body) });
        // now and then an earlier image of this pusher goes: garbage for the next run
        if (rnd() < 0.25 && mine.length > 1) {
          const [victim] = mine.splice(Math.floor(rnd() * (mine.length - 1)), 1);
          const del = await c.req('DELETE', `/v2/${victim!.repo}/manifests/${victim!.digest}`, { scopes: [`repository:${victim!.repo}:pull,push,delete`] });
          // 404: garbage collection of untagged artifacts was quicker
          expect([202, 404]).toContain(del.status);
          deleted.add(victim!.digest);
          stats.deletes++;
        }
      }
    }

    async function gcRun(deleteUntagged: boolean) {
      const started = await s.api('POST', '/api/v1/gc/run', { deleteUntagged });
      if (started.status === 409) return; // the runner's own loop is still on the previous one
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      const run = await untilEnded(s, started.body.id);
      expect(run.status, JSON.stringify(run)).toBe('succeeded');
      expect(run.counts.failed ?? 0, JSON.stringify(run)).toBe(0);
      stats.gcRuns++;
      stats.linksDeleted += run.counts.linksDeleted ?? 0;
      stats.blobsDeleted += run.counts.blobsDeleted ?? 0;
      stats.artifactsDeleted += run.counts.artifactsDeleted ?? 0;
    }

    let pushing = true;
    const collector = (async () => {
      for (let i = 0; pushing; i++) await gcRun(i % 3 === 2);
    })();
    // a failing run fails the test when the collector is awaited below, not as an unhandled rejection meanwhile
    collector.catch(() => undefined);
    try {
      await Promise.all(Array.from({ length: PUSHERS }, (_, p) => pusher(p)));
    } finally {
      pushing = false;
      await collector;
    }
    await gcRun(false);

    const c = new OciClient(s.url, s.admin);
    const problems: string[] = [];
    let present = 0;
    for (const [digest, repo] of pushed) {
      const head = await c.req('HEAD', `/v2/${repo}/manifests/${digest}`, { headers: { accept: OCI_MANIFEST }, scopes: [`repository:${repo}:pull`] });
      if (head.status === 404) continue; // deleted by a pusher, or by GC as untagged
      present++;
      problems.push(...(await pullProblems(c, repo, digest)));
    }
    // and every tag that is left
    for (const repo of REPOS) {
      const tags = (await (await c.req('GET', `/v2/${repo}/tags/list`, { scopes: [`repository:${repo}:pull`] })).json()) as { tags: string[] };
      for (const tag of tags.tags) problems.push(...(await pullProblems(c, repo, tag)));
    }
    console.log(`${db}: ${JSON.stringify({ ...stats, present })}`);
    expect(problems).toEqual([]);
    expect(stats.layerPushes).toBeGreaterThanOrEqual(1000);
    expect(stats.pushes).toBe(PUSHERS * PUSHES_PER_PUSHER);
    expect(present).toBeGreaterThan(0);
    // the race was a race: GC ran throughout and deleted what the pushers left behind
    expect(stats.gcRuns).toBeGreaterThanOrEqual(3);
    expect(stats.blobsDeleted).toBeGreaterThan(0);
    expect(stats.linksDeleted).toBeGreaterThan(0);
    expect(stats.artifactsDeleted).toBeGreaterThan(0);
    void deleted;
  });
});
