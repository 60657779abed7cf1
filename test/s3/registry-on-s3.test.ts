/**
 * The whole registry on S3 (s3rver on loopback, test/helpers/s3.ts): pushes (monolithic, and chunked in 1 KiB PATCHes),
 * pulls, presigned redirects, deletes and GC, readiness; then two nodes on one PostgreSQL database and one bucket with
 * no shared data directory: the chunks of one upload go to both nodes in turn, and what one node pushed the other
 * serves; a token one node issued pushes through the other; GC on one node while the other pushes leaves every image
 * whole on both; a cleanup schedule fires once per firing across the two.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config, DeepPartial } from '../../src/config/index.js';
import type { Clock } from '../../src/domain/clock.js';
import { imageManifest, OCI_MANIFEST, pullProblems, untilEnded } from '../gc/gc-helpers.js';
import { OciClient, sha256 } from '../helpers/oci-client.js';
import { startS3, type TestS3 } from '../helpers/s3.js';
import { apiCaller, createPgDatabase, startServer, type TestServer } from '../helpers/server.js';
import { MT_MANIFEST, pushWith, tokenFrom } from '../multinode/helpers.js';

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => s3?.close());

function s3Config(bucket: string, extra: DeepPartial<Config['storage']['s3']> = {}): DeepPartial<Config> {
  return {
    storage: {
      driver: 's3',
      s3: { bucket, prefix: 'reg/', endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, accessKeyId: s3.credentials.accessKeyId, secretAccessKey: s3.credentials.secretAccessKey, ...extra },
    },
    gc: { safeWindowSeconds: 0 },
  };
}

/** Keys under `prefix` in the bucket. */
async function keys(bucket: string, prefix: string): Promise<string[]> {
  const res = await s3.client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key!);
}

/**
 * Pushes `data` as a chunked upload: POST on the first client, then one PATCH of `chunk` bytes after another, going
 * round the clients, and the closing PUT on the last one. Returns the digest.
 */
async function chunkedPush(clients: OciClient[], repo: string, data: Buffer, chunk: number): Promise<string> {
  const digest = sha256(data);
  const started = await clients[0]!.req('POST', `/v2/${repo}/blobs/uploads/`);
  expect(started.status, await started.clone().text()).toBe(202);
  let location = started.headers.get('location')!;
  let i = 0;
  for (let at = 0; at < data.length; at += chunk, i++) {
    const part = data.subarray(at, Math.min(at + chunk, data.length));
    const res = await clients[i % clients.length]!.req('PATCH', location, {
      body: part,
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${at}-${at + part.length - 1}` },
    });
    expect(res.status, await res.clone().text()).toBe(202);
    expect(res.headers.get('range')).toBe(`0-${at + part.length - 1}`);
    location = res.headers.get('location')!;
  }
  const sep = location.includes('?') ? '&' : '?';
  const done = await clients[i % clients.length]!.req('PUT', `${location}${sep}digest=${digest}`);
  expect(done.status, await done.clone().text()).toBe(201);
  return digest;
}

async function pull(c: OciClient, repo: string, digest: string): Promise<Buffer> {
  const res = await c.req('GET', `/v2/${repo}/blobs/${digest}`);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

function manifestFor(config: { digest: string; size: number }, layers: { digest: string; size: number }[]) {
  return {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l })),
  };
}

describe('one node on S3', () => {
  let s: TestServer;
  let bucket: string;
  let c: OciClient;

  beforeAll(async () => {
    bucket = await s3.newBucket();
    s = await startServer({ db: 'sqlite', config: s3Config(bucket) });
    c = new OciClient(s.url, s.admin);
    expect((await s.api('POST', '/api/v1/registries', { name: 'lib' })).status).toBe(201);
  });
  afterAll(async () => s?.close());

  it('pushes monolithic and in 1 KiB chunks, pulls them back (also by range), deletes them and GC frees the bucket', async () => {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const mono = randomBytes(300 * 1024);
    const chunked = randomBytes(20 * 1024 + 17);
    const configDigest = await c.pushBlob('lib/app', config);
    const monoDigest = await c.pushBlob('lib/app', mono);
    const chunkedDigest = await chunkedPush([c], 'lib/app', chunked, 1024);
    const manifest = JSON.stringify(manifestFor({ digest: configDigest, size: config.length }, [{ digest: monoDigest, size: mono.length }, { digest: chunkedDigest, size: chunked.length }]));
    expect((await c.pushManifest('lib/app', 'v1', manifest)).status).toBe(201);

    expect((await pull(c, 'lib/app', monoDigest)).equals(mono)).toBe(true);
    expect((await pull(c, 'lib/app', chunkedDigest)).equals(chunked)).toBe(true);
    const ranged = await c.req('GET', `/v2/lib/app/blobs/${chunkedDigest}`, { headers: { range: 'bytes=1000-2047' } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(chunked.subarray(1000, 2048))).toBe(true);
    // the blobs are in the bucket, under the prefix; no upload is left behind
    const blobKeys = await keys(bucket, 'reg/blobs/');
    for (const d of [configDigest, monoDigest, chunkedDigest]) expect(blobKeys).toContain(`reg/blobs/sha256/${d.slice(7)}`);
    expect(await keys(bucket, 'reg/uploads/')).toEqual([]);

    expect((await c.req('DELETE', `/v2/lib/app/manifests/${sha256(manifest)}`)).status).toBe(202);
    const started = await s.api('POST', '/api/v1/gc/run', {});
    expect(started.status).toBe(202);
    let run;
    for (let i = 0; i < 3000; i++) {
      await s.app.jobs.runner.runDue();
      run = (await s.api('GET', `/api/v1/gc/runs/${started.body.id}`)).body;
      if (run.status !== 'queued' && run.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    expect(run.counts.blobsDeleted).toBe(3);
    expect(await keys(bucket, 'reg/blobs/')).toEqual([]);
    expect((await c.req('GET', `/v2/lib/app/blobs/${monoDigest}`)).status).toBe(404);
  });

  it('a whole blob in one request goes straight to its key, and only when its digest matches', async () => {
    const data = randomBytes(6 * 1024 * 1024 + 1);
    const digest = sha256(data);
    const wrong = await c.req('POST', `/v2/lib/one/blobs/uploads/?digest=${sha256('other')}`, { body: data, headers: { 'content-type': 'application/octet-stream' } });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe('DIGEST_INVALID');
    expect(await keys(bucket, `reg/blobs/sha256/${sha256('other').slice(7)}`)).toEqual([]);
    // POST, then PUT with the whole body
    const started = await c.req('POST', '/v2/lib/one/blobs/uploads/');
    const done = await c.req('PUT', `${started.headers.get('location')!}?digest=${digest}`, { body: data, headers: { 'content-type': 'application/octet-stream' } });
    expect(done.status, await done.clone().text()).toBe(201);
    expect((await pull(c, 'lib/one', digest)).equals(data)).toBe(true);
    expect(await keys(bucket, 'reg/uploads/')).toEqual([]);
  });

  it("a whole blob beyond the registry's quota is refused and never reaches its key", async () => {
    expect((await s.api('POST', '/api/v1/registries', { name: 'capped' })).status).toBe(201);
    expect((await s.api('PUT', '/api/v1/registries/capped/quota', { quotaBytes: 1024 * 1024 })).status).toBe(200);
    const data = randomBytes(2 * 1024 * 1024);
    const digest = sha256(data);
    const refused = await c.req('POST', `/v2/capped/app/blobs/uploads/?digest=${digest}`, { body: data, headers: { 'content-type': 'application/octet-stream' } });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { errors: { code: string; message: string }[] }).errors[0]!.message).toContain('storage quota');
    expect(await keys(bucket, `reg/blobs/sha256/${digest.slice(7)}`)).toEqual([]);
    const small = randomBytes(1000);
    const ok = await c.req('POST', `/v2/capped/app/blobs/uploads/?digest=${sha256(small)}`, { body: small, headers: { 'content-type': 'application/octet-stream' } });
    expect(ok.status).toBe(201);
  });

  it('an abandoned upload is purged from the bucket', async () => {
    const started = await c.req('POST', '/v2/lib/left/blobs/uploads/');
    expect(started.status).toBe(202);
    const res = await c.req('PATCH', started.headers.get('location')!, { body: randomBytes(2048), headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status).toBe(202);
    expect((await keys(bucket, 'reg/uploads/')).length).toBeGreaterThan(0);
    await s.app.maintenance.purgeUploads(0);
    expect(await keys(bucket, 'reg/uploads/')).toEqual([]);
  });

  it('readiness includes the bucket, and says nothing of it when it fails', async () => {
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(200);
    const broken = await startServer({ db: 'sqlite', config: s3Config('no-such-bucket-here') });
    try {
      const res = await fetch(`${broken.url}/readyz`);
      expect(res.status).toBe(503);
      const text = await res.text();
      expect(text).toContain('storage');
      expect(text).not.toContain('no-such-bucket');
      expect(text).not.toContain(s3.credentials.secretAccessKey);
    } finally {
      await broken.close();
    }
  });

  it('with redirects on, a blob GET answers 307 to a presigned URL and the bytes come from S3', async () => {
    const r = await startServer({ db: 'sqlite', config: s3Config(bucket, { redirect: true }) });
    try {
      const rc = new OciClient(r.url, r.admin);
      expect((await r.api('POST', '/api/v1/registries', { name: 'redir' })).status).toBe(201);
      const data = randomBytes(4096);
      const digest = await rc.pushBlob('redir/app', data);
      const res = await rc.req('GET', `/v2/redir/app/blobs/${digest}`);
      expect(res.status).toBe(307);
      const location = res.headers.get('location')!;
      expect(location.startsWith(`${s3.endpoint}/${bucket}/reg/blobs/sha256/`)).toBe(true);
      expect(location).toContain('X-Amz-Expires=');
      const before = s3.requests.length;
      const direct = await fetch(location);
      expect(direct.status).toBe(200);
      expect(Buffer.from(await direct.arrayBuffer()).equals(data)).toBe(true);
      expect(s3.requests.slice(before).some((q) => q.method === 'GET' && q.path.endsWith(digest.slice(7)))).toBe(true);
    } finally {
      await r.close();
    }
  });
});

describe('two nodes on one PostgreSQL database and one bucket, no shared data directory', () => {
  let a: TestServer;
  let b: TestServer;
  let pg: Awaited<ReturnType<typeof createPgDatabase>>;
  const dirs: string[] = [];
  /** the first admin, the same on both nodes (one database) */
  const admin = { accessKey: 'AKS3' + randomBytes(6).toString('hex').toUpperCase(), secretKey: randomBytes(24).toString('base64url'), password: 'admin-' + randomBytes(8).toString('hex') };

  /** real time, which the cron test moves forward (both nodes read this one clock) */
  const clock: Clock & { offsetMs: number } = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };
  /** the node's api, as the shared admin */
  const asAdmin = (s: TestServer): TestServer => ({ ...s, admin, api: apiCaller(s.url, admin) });

  beforeAll(async () => {
    pg = await createPgDatabase();
    const bucket = await s3.newBucket();
    dirs.push(await mkdtemp(join(tmpdir(), 'ncr-s3-node-a-')), await mkdtemp(join(tmpdir(), 'ncr-s3-node-b-')));
    // a safe window of 1 s: with none, GC running back to back takes the links of a push before its manifest comes,
    // again and again (a clean MANIFEST_BLOB_UNKNOWN, retried, but without end on a busy machine)
    const config: DeepPartial<Config> = { ...s3Config(bucket), gc: { safeWindowSeconds: 1 }, auth: { admin, signingKey: { encryptionKey: randomBytes(32).toString('base64url') } } };
    a = asAdmin(await startServer({ db: 'postgres', pgUrl: pg.url, dataDir: dirs[0], config, adapters: { clock } }));
    // B's runner looks for due jobs only when the test asks (runDue) or B itself enqueues: GC started on A runs on A
    b = asAdmin(await startServer({ db: 'postgres', pgUrl: pg.url, dataDir: dirs[1], config: { ...config, jobs: { pollIntervalMs: 3_600_000 } }, adapters: { clock } }));
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await pg?.drop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('the chunks of one upload go to A and B in turn, it finishes on B, and A serves the blob and the image', async () => {
    expect((await a.api('POST', '/api/v1/registries', { name: 'shared' }, admin)).status).toBe(201);
    const ca = new OciClient(a.url, admin);
    const cb = new OciClient(b.url, admin);
    // 1 KiB chunks, and a larger blob whose chunks also make multipart pieces in the bucket
    const small = randomBytes(8 * 1024 + 3);
    const large = randomBytes(12 * 1024 * 1024 + 5);
    const smallDigest = await chunkedPush([ca, cb], 'shared/app', small, 1024);
    const largeDigest = await chunkedPush([ca, cb], 'shared/app', large, 3 * 1024 * 1024);
    expect((await pull(ca, 'shared/app', smallDigest)).equals(small)).toBe(true);
    expect((await pull(ca, 'shared/app', largeDigest)).equals(large)).toBe(true);

    const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
    const configDigest = await cb.pushBlob('shared/app', config);
    const manifest = JSON.stringify(manifestFor({ digest: configDigest, size: config.length }, [{ digest: smallDigest, size: small.length }, { digest: largeDigest, size: large.length }]));
    expect((await cb.pushManifest('shared/app', 'v1', manifest)).status).toBe(201);
    const got = await ca.req('GET', '/v2/shared/app/manifests/v1', { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(got.status).toBe(200);
    expect(await got.text()).toBe(manifest);
    expect((await pull(ca, 'shared/app', configDigest)).equals(config)).toBe(true);
    // deleted on A, gone on B (manifest caches are invalidated across nodes within 5 s)
    expect((await ca.req('DELETE', `/v2/shared/app/manifests/${sha256(manifest)}`)).status).toBe(202);
    const deadline = Date.now() + 5_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await cb.req('GET', '/v2/shared/app/manifests/v1', { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).status;
      if (status === 404) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(404);
    // nothing of it is on either node: their data directories stay empty
    for (const d of dirs) expect(await readdir(d)).toEqual([]);
  });
  it('a token from A (docker login and pull on A) pushes through B, and A serves the image B stored', async () => {
    expect((await a.api('POST', '/api/v1/registries', { name: 'login' })).status).toBe(201);
    const fromA = await tokenFrom(a, admin, 'repository:login/app:pull,push');
    const pushed = await pushWith(b, `Bearer ${fromA}`, 'login/app', '1.0', 'token-from-a');
    for (const s of [a, b]) {
      const manifest = await fetch(`${s.url}/v2/login/app/manifests/1.0`, { headers: { authorization: `Bearer ${fromA}`, accept: MT_MANIFEST } });
      expect(manifest.status).toBe(200);
      expect(sha256(new Uint8Array(await manifest.arrayBuffer()))).toBe(pushed.digest);
      for (const digest of pushed.blobs) {
        const blob = await fetch(`${s.url}/v2/login/app/blobs/${digest}`, { headers: { authorization: `Bearer ${fromA}` } });
        expect(blob.status).toBe(200);
        expect(sha256(new Uint8Array(await blob.arrayBuffer()))).toBe(digest);
      }
    }
    // a token is no key: without one, B refuses the push
    const anonymous = await fetch(`${b.url}/v2/login/app/blobs/uploads/`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
  });

  it('GC runs on A again and again while B pushes and deletes: every image left pulls completely from both nodes', { timeout: 180_000 }, async () => {
    expect((await a.api('POST', '/api/v1/registries', { name: 'gcrace' })).status).toBe(201);
    const repos = ['gcrace/a', 'gcrace/b'];
    const shared = Array.from({ length: 6 }, (_, i) => `shared layer ${i} ${'s'.repeat(100 + i)}`);
    const retryable = new Set(['MANIFEST_BLOB_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'BLOB_UNKNOWN']);
    const pushed = new Map<string, string>(); // digest -> repository
    const stats = { pushes: 0, retries: 0, deletes: 0, gcRuns: 0, blobsDeleted: 0, linksDeleted: 0, artifactsDeleted: 0 };
    const codeOf = (text: string) => (JSON.parse(text || '{}') as { errors?: { code: string }[] }).errors?.[0]?.code;

    async function pusher(p: number) {
      const c = new OciClient(b.url, admin);
      const mine: { repo: string; digest: string }[] = [];
      for (let n = 0; n < 8; n++) {
        const repo = repos[(p + n) % repos.length]!;
        const config = `config ${p}-${n}`;
        const layers = [...new Set([shared[(p * 3 + n) % shared.length]!, `new layer ${p}-${n} ${randomBytes(16).toString('hex')}`])];
        const body = imageManifest(config, layers);
        for (let attempt = 0; ; attempt++) {
          try {
            for (const blob of [config, ...layers]) {
              // HEAD first, as clients do: a blob B saw a moment ago may be gone by the time the manifest comes
              const head = await c.req('HEAD', `/v2/${repo}/blobs/${sha256(blob)}`);
              if (head.status === 200 && attempt === 0) continue;
              const res = await c.req('POST', `/v2/${repo}/blobs/uploads/?digest=${sha256(blob)}`, { body: blob, headers: { 'content-type': 'application/octet-stream' } });
              if (res.status !== 201) {
                const text = await res.text();
                throw Object.assign(new Error(`blob push ${res.status}: ${text}`), { code: codeOf(text) });
              }
            }
            // now and then a slow client: its blobs outgrow the safe window before the manifest comes, so GC may
            // take them first (the push then fails cleanly and is retried)
            if (n % 4 === 1 && attempt === 0) await new Promise((r) => setTimeout(r, 1200));
            const res = await c.pushManifest(repo, `p${p}-${n % 3}`, body);
            if (res.status !== 201) {
              const text = await res.text();
              throw Object.assign(new Error(`manifest push ${res.status}: ${text}`), { code: codeOf(text) });
            }
            break;
          } catch (err) {
            const code = (err as { code?: string }).code;
            if (!code || !retryable.has(code) || attempt >= 10) throw err;
            stats.retries++;
          }
        }
        stats.pushes++;
        pushed.set(sha256(body), repo);
        mine.push({ repo, digest: sha256(body) });
        // every third image, an earlier one goes: garbage for the next run
        if (n % 3 === 2) {
          const victim = mine.shift()!;
          expect([202, 404]).toContain((await c.req('DELETE', `/v2/${victim.repo}/manifests/${victim.digest}`)).status);
          stats.deletes++;
        }
      }
    }

    async function gcOnA(deleteUntagged: boolean) {
      const started = await a.api('POST', '/api/v1/gc/run', { deleteUntagged });
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      const run = await untilEnded(a, started.body.id);
      expect(run.status, JSON.stringify(run)).toBe('succeeded');
      expect(run.counts.failed ?? 0, JSON.stringify(run)).toBe(0);
      // and it was A that ran it
      const job = await a.app.jobs.queue.get((await a.app.executions.get(run.id)).jobId!);
      expect(job.lockedBy).toBe(a.app.jobs.runner.owner);
      stats.gcRuns++;
      stats.blobsDeleted += run.counts.blobsDeleted ?? 0;
      stats.linksDeleted += run.counts.linksDeleted ?? 0;
      stats.artifactsDeleted += run.counts.artifactsDeleted ?? 0;
    }

    let pushing = true;
    const collector = (async () => {
      for (let i = 0; pushing; i++) await gcOnA(i % 2 === 1);
    })();
    collector.catch(() => undefined);
    try {
      await Promise.all([0, 1, 2].map((p) => pusher(p)));
    } finally {
      pushing = false;
      await collector;
    }
    await gcOnA(false);

    const problems: string[] = [];
    let present = 0;
    for (const s of [a, b]) {
      const c = new OciClient(s.url, admin);
      for (const [digest, repo] of pushed) {
        const head = await c.req('HEAD', `/v2/${repo}/manifests/${digest}`, { headers: { accept: OCI_MANIFEST } });
        if (head.status === 404) continue; // deleted by its pusher, or by GC as untagged
        present++;
        problems.push(...(await pullProblems(c, repo, digest)).map((p) => `${s === a ? 'A' : 'B'}: ${p}`));
      }
      for (const repo of repos) {
        const tags = (await (await c.req('GET', `/v2/${repo}/tags/list`)).json()) as { tags: string[] };
        for (const tag of tags.tags) problems.push(...(await pullProblems(c, repo, tag)).map((p) => `${s === a ? 'A' : 'B'}: ${p}`));
      }
    }
    console.log(`s3 two nodes, GC on A while B pushes: ${JSON.stringify({ ...stats, present })}`);
    expect(problems).toEqual([]);
    expect(stats.pushes).toBe(24);
    expect(present).toBeGreaterThan(0);
    // a race, not GC before or after the pushes: it ran meanwhile, and took what the deletes left
    expect(stats.gcRuns).toBeGreaterThanOrEqual(3);
    expect(stats.blobsDeleted).toBeGreaterThan(0);
    expect(stats.linksDeleted).toBeGreaterThan(0);
    for (const d of dirs) expect(await readdir(d)).toEqual([]);
  });

  it("a registry's cleanup schedule fires once per firing across the two nodes", async () => {
    expect((await a.api('POST', '/api/v1/registries', { name: 'tidy' })).status).toBe(201);
    const ca = new OciClient(a.url, admin);
    for (const tag of ['v1', 'v2', 'v3']) await ca.pushImage('tidy/app', tag, `tidy-${tag}-${randomBytes(4).toString('hex')}`);
    expect((await b.api('POST', '/api/v1/registries/tidy/cleanup-policies', { rule: { keep: 'nothing' } })).status).toBe(201);
    const set = await a.api('PUT', '/api/v1/registries/tidy/cleanup/schedule', { cron: '*/30 * * * *' });
    expect(set.status).toBe(200);
    // both nodes work the queue at once, several times over (A's own runner loop too)
    const rounds = async () => {
      for (let i = 0; i < 4; i++) await Promise.all([a.app.jobs.runner.runDue(), b.app.jobs.runner.runDue()]);
    };
    const scheduled = async () => (await a.api('GET', '/api/v1/registries/tidy/cleanup/executions')).body.items.filter((e: { trigger: string }) => e.trigger === 'schedule');
    await rounds();
    expect(await scheduled()).toHaveLength(0);
    // to just after the next firing, then the one after (basic auth from here on: earlier tokens have expired)
    clock.offsetMs += Date.parse(set.body.nextAt) - clock.now() + 1000;
    await rounds();
    const first = await scheduled();
    expect(first).toHaveLength(1);
    expect(first[0].status).toBe('succeeded');
    expect(first[0].counts).toMatchObject({ deleted: 3 });
    clock.offsetMs += 30 * 60_000;
    await rounds();
    const runs = await scheduled();
    expect(runs).toHaveLength(2);
    expect(runs.map((e: { status: string }) => e.status)).toEqual(['succeeded', 'succeeded']);
    expect(runs.find((e: { id: string }) => e.id !== first[0].id).counts).toMatchObject({ deleted: 0 });
    expect((await b.api('GET', '/api/v1/registries/tidy/cleanup/schedule')).body.nextAt).toBe(new Date(Date.parse(set.body.nextAt) + 60 * 60_000).toISOString());
  });
});
