/**
 * Replication between two real ncr servers on loopback, on both databases: a push to A (the test's OCI client, and skopeo)
 * appears on B with the same digests, a multi-arch index whole and a cosign-style signature and an OCI referrer with
 * their subject; a manual run copies images pushed before the rule and counts those already there as skipped; a
 * delete at A leaves B alone; the REPLICATION webhook event; an image signed before the rule (cosign's .sig tag and a
 * Sigstore bundle referrer) arrives with its signatures, which B verifies; a run stopped, and a run whose server went
 * away mid-way, end (resumed on restart), never stuck running.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { runCli } from '../helpers/cli-inprocess.js';
import { skopeo } from '../helpers/clients.js';
import { buildIndex } from '../helpers/oci-image.js';
import { OciClient, sha256 } from '../helpers/oci-client.js';
import { apiCaller, createPgDatabase, DB_KINDS, startServer, type DbKind, type TestServer } from '../helpers/server.js';
import { bundleManifest, dsseBundle, inTotoStatement } from '../helpers/sigstore-bundle.js';
import { signPayload, simpleSigningPayload } from '../../src/domain/trust/signatures.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const ACCEPT = [OCI_MANIFEST, OCI_INDEX, 'application/vnd.docker.distribution.manifest.v2+json'].join(', ');
const PRIVATE = { endpoints: { allowPrivateNetworks: true } };

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The digest B serves for repo:ref, or undefined (404). */
async function digestAt(c: OciClient, repo: string, ref: string): Promise<string | undefined> {
  const res = await c.req('HEAD', `/v2/${repo}/manifests/${ref}`, { headers: { accept: ACCEPT } });
  if (res.status === 404) return undefined;
  expect(res.status).toBe(200);
  return res.headers.get('docker-content-digest') ?? undefined;
}

async function pushIndex(c: OciClient, repo: string, tag: string, seed: string) {
  const children = [];
  for (const arch of ['amd64', 'arm64']) {
    const config = JSON.stringify({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, seed });
    const layer = `layer-${seed}-${arch}`;
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await c.pushBlob(repo, config), size: Buffer.byteLength(config) },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: await c.pushBlob(repo, layer), size: Buffer.byteLength(layer) }],
    });
    const digest = sha256(manifest);
    expect((await c.pushManifest(repo, digest, manifest)).status).toBe(201);
    children.push({ mediaType: OCI_MANIFEST, digest, size: Buffer.byteLength(manifest), platform: { architecture: arch, os: 'linux' } });
  }
  const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children });
  expect((await c.pushManifest(repo, tag, index, OCI_INDEX)).status).toBe(201);
  return { digest: sha256(index), children: children.map((x) => x.digest) };
}

/** What `cosign sign` pushes: a manifest under `sha256-<hex>.sig` whose layer is the simple-signing payload. */
async function pushCosignSignature(c: OciClient, repo: string, subject: string) {
  const payload = JSON.stringify({ critical: { identity: { 'docker-reference': repo }, image: { 'docker-manifest-digest': subject }, type: 'cosign container image signature' }, optional: null });
  const config = JSON.stringify({ architecture: '', os: '', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(payload)] } });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: await c.pushBlob(repo, config), size: Buffer.byteLength(config) },
    layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: await c.pushBlob(repo, payload), size: Buffer.byteLength(payload), annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQ==' } }],
  });
  const tag = `${subject.replace(':', '-')}.sig`;
  expect((await c.pushManifest(repo, tag, manifest)).status).toBe(201);
  return { tag, digest: sha256(manifest) };
}

/** An OCI 1.1 referrer (an SBOM-like artifact) of `subject`, pushed by digest. */
async function pushReferrer(c: OciClient, repo: string, subject: { digest: string; size: number }) {
  const blob = `sbom-of-${subject.digest}`;
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: 'application/spdx+json',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: await c.pushBlob(repo, '{}'), size: 2 },
    layers: [{ mediaType: 'application/spdx+json', digest: await c.pushBlob(repo, blob), size: Buffer.byteLength(blob) }],
    subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: subject.size },
  });
  const digest = sha256(manifest);
  expect((await c.pushManifest(repo, digest, manifest)).status).toBe(201);
  return digest;
}

/** Waits for the run to end: generous, a resumed run copies up to 40 images and the suite runs files side by side. */
async function finished(s: TestServer, registry: string, rule: string, id: string) {
  return until(`run ${id} to end`, async () => {
    const page = await s.api('GET', `/api/v1/registries/${registry}/replications/${rule}/executions?perPage=100`);
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    const e = page.body.items.find((x: { id: string }) => x.id === id);
    return e && !['queued', 'running'].includes(e.status) ? e : undefined;
  }, 90_000);
}

async function tasksOf(s: TestServer, registry: string, rule: string, id: string) {
  const res = await s.api('GET', `/api/v1/registries/${registry}/replications/${rule}/executions/${id}/tasks?perPage=100`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items as { subject: string; status: string; message: string; detail: Record<string, any> }[];
}

describe.each(DB_KINDS)('replication (%s)', (db: DbKind) => {
  let a: TestServer;
  let b: TestServer;
  let ca: OciClient;
  let cb: OciClient;

  beforeAll(async () => {
    [a, b] = await Promise.all([startServer({ db, config: PRIVATE }), startServer({ db })]);
    ca = new OciClient(a.url, a.admin);
    cb = new OciClient(b.url, b.admin);
    expect((await a.api('POST', '/api/v1/registries', { name: 'src' })).status).toBe(201);
    expect((await b.api('POST', '/api/v1/registries', { name: 'dst' })).status).toBe(201);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('replicates pushes (image, index, signature, referrer), runs by hand, skips what is there and never deletes at the target', { timeout: 120_000 }, async () => {
    const old = await ca.pushImage('src/old', '1', `old-${db}`);

    // a target that refuses: Disabled with the reason, and Refresh says why
    const bad = await a.api('POST', '/api/v1/registries/src/replications', {
      name: 'nowhere',
      endpoint: { name: 'b-wrong', provider: 'ncr', url: b.url, accessId: b.admin.accessKey, secret: 'wrong-secret' },
      targetRegistry: 'dst',
    });
    expect(bad.status, JSON.stringify(bad.body)).toBe(201);
    expect(bad.body.status).toBe('disabled');
    const refreshed = await a.api('POST', '/api/v1/registries/src/replications/nowhere/check');
    expect(refreshed.body).toMatchObject({ status: 'disabled' });
    expect(refreshed.body.checkError).toMatch(/UNAUTHORIZED|credentials|401/i);
    expect((await a.api('POST', '/api/v1/registries/src/replications/nowhere/run')).status).toBe(409);
    expect((await a.api('DELETE', '/api/v1/registries/src/replications/nowhere')).status).toBe(204);

    // Create Replication with a new endpoint: Disabled at first, Enabled once the check job found B writable
    const created = await a.api('POST', '/api/v1/registries/src/replications', {
      name: 'to-b',
      endpoint: { name: 'b', provider: 'ncr', url: b.url, accessId: b.admin.accessKey, secret: b.admin.secretKey },
      targetRegistry: 'dst',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ name: 'to-b', endpoint: 'b', targetRegistry: 'dst', enabled: true });
    await until('the rule to be Enabled', async () => (await a.api('GET', '/api/v1/registries/src/replications/to-b')).body.status === 'enabled');
    // the endpoint cannot go while the rule uses it
    const del = await a.api('DELETE', '/api/v1/endpoints/b');
    expect(del.status).toBe(409);
    expect(del.body.errors[0].message).toContain('replication rule src/to-b');

    // auto: a push, an index (children first), a cosign signature and a referrer pushed later
    const app = await ca.pushImage('src/team/app', '1.0', `app-${db}`);
    expect(await until('app:1.0 on B', () => digestAt(cb, 'dst/team/app', '1.0'))).toBe(app.digest);
    const multi = await pushIndex(ca, 'src/multi', 'latest', `multi-${db}`);
    expect(await until('multi:latest on B', () => digestAt(cb, 'dst/multi', 'latest'))).toBe(multi.digest);
    for (const child of multi.children) expect(await digestAt(cb, 'dst/multi', child)).toBe(child);
    const sig = await pushCosignSignature(ca, 'src/team/app', app.digest);
    expect(await until('the signature on B', () => digestAt(cb, 'dst/team/app', sig.tag))).toBe(sig.digest);
    const sbom = await pushReferrer(ca, 'src/team/app', { digest: app.digest, size: Buffer.byteLength(app.body) });
    await until('the referrer on B', async () => {
      const res = await cb.req('GET', `/v2/dst/team/app/referrers/${app.digest}`);
      const body = (await res.json()) as { manifests: { digest: string }[] };
      return body.manifests.some((m) => m.digest === sbom);
    });
    // only new pushes replicate by themselves
    expect(await digestAt(cb, 'dst/old', '1')).toBeUndefined();

    // Run Replication: the old image is copied, the rest is there already (skipped, counted)
    const run = await a.api('POST', '/api/v1/registries/src/replications/to-b/run');
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    expect(run.body).toMatchObject({ kind: 'replication', trigger: 'manual' });
    const again = await a.api('POST', '/api/v1/registries/src/replications/to-b/run');
    if (again.status === 202) await finished(a, 'src', 'to-b', again.body.id);
    else expect(again.status).toBe(409); // one manual run at a time
    const done = await finished(a, 'src', 'to-b', run.body.id);
    expect(done.status, done.message).toBe('succeeded');
    expect(await digestAt(cb, 'dst/old', '1')).toBe(old.digest);
    expect(done.counts).toMatchObject({ artifacts: 3, copied: 1, skipped: 2 });
    expect(done.counts.bytes).toBeGreaterThan(0);
    const tasks = await tasksOf(a, 'src', 'to-b', run.body.id);
    expect(tasks.map((t) => t.status).sort()).toEqual(['skipped', 'skipped', 'succeeded']);
    const copied = tasks.find((t) => t.status === 'succeeded')!;
    expect(copied.subject).toBe(`src/old@${old.digest}`);
    expect(copied.detail).toMatchObject({ outcome: 'copied', tags: ['1'] });
    expect(copied.detail.bytes).toBeGreaterThan(0);
    expect(copied.detail.durationMs).toBeGreaterThanOrEqual(0);
    expect(tasks.find((t) => t.status === 'skipped')!.message).toContain('same digest');

    // delete at A: B keeps it
    expect((await ca.req('DELETE', `/v2/src/team/app/manifests/${app.digest}`)).status).toBe(202);
    await a.app.flush();
    await a.app.jobs.runner.runDue();
    expect(await digestAt(cb, 'dst/team/app', '1.0')).toBe(app.digest);

    // the history holds the automatic runs too; each finished run is an audited event (webhooks send REPLICATION)
    const history = (await a.api('GET', '/api/v1/registries/src/replications/to-b/executions?perPage=100')).body.items as { trigger: string; status: string; counts: Record<string, number> }[];
    // one run per pushed image, index, signature and referrer: a push by tag is one run (not one per event), and an
    // index's platform manifests pushed by digest travel with the index
    const auto = history.filter((e) => e.trigger === 'event');
    expect(auto.map((e) => [e.status, e.counts.artifacts])).toEqual(Array(4).fill(['succeeded', 1]));
    const audit = await a.api('GET', '/api/v1/audit?action=ReplicationRunFinished&perPage=100');
    expect(audit.body.items.map((x: { target: string }) => x.target)).toContain('src/to-b');
    const types = await a.api('GET', '/api/v1/webhook-event-types');
    expect(types.body.items.find((t: { type: string }) => t.type === 'REPLICATION').available).toBe(true);
  });

  it('a multi-arch image pushed with skopeo (copy --all) arrives whole, with the same digests', { timeout: 120_000 }, async () => {
    const work = await mkdtemp(join(tmpdir(), 'ncr-repl-skopeo-'));
    try {
      const idx = await buildIndex({ dir: join(work, 'multi'), platforms: [{ os: 'linux', arch: 'amd64' }, { os: 'linux', arch: 'arm64', variant: 'v8' }], layers: 2, layerSize: 64_000, seed: `skopeo-${db}` });
      await skopeo(['copy', '--all', '--dest-tls-verify=false', '--dest-creds', `${a.admin.accessKey}:${a.admin.secretKey}`, idx.ref, `docker://${a.host}/src/tools/cli:2.1`]);
      expect(await until('the index on B', () => digestAt(cb, 'dst/tools/cli', '2.1'))).toBe(idx.indexDigest);
      for (const child of idx.children) {
        expect(await digestAt(cb, 'dst/tools/cli', child.manifestDigest)).toBe(child.manifestDigest);
        for (const layer of child.layers) expect((await cb.req('HEAD', `/v2/dst/tools/cli/blobs/${layer.digest}`)).status).toBe(200);
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('ncr replication: list, refresh, run and history with the artifacts of a run', async () => {
    const env = { NCR_URL: a.url, NCR_ACCESS_KEY: a.admin.accessKey, NCR_SECRET_KEY: a.admin.secretKey };
    const list = await runCli(['replication', 'list', 'src'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/to-b\s+enabled\s+b\s+dst/);
    expect((await runCli(['replication', 'refresh', 'src', 'to-b'], env)).stdout).toContain('enabled');
    const run = await runCli(['--json', 'replication', 'run', 'src', 'to-b'], env);
    expect(run.code, run.stderr).toBe(0);
    const id = JSON.parse(run.stdout).id as string;
    expect((await finished(a, 'src', 'to-b', id)).status).toBe('succeeded');
    const history = await runCli(['replication', 'history', 'src', 'to-b'], env);
    expect(history.stdout).toContain(id);
    const tasks = await runCli(['replication', 'history', 'src', 'to-b', id], env);
    expect(tasks.code, tasks.stderr).toBe(0);
    expect(tasks.stdout).toMatch(/src\/multi@sha256:[0-9a-f]+\s+skipped/);
    const spec = (await (await fetch(`${a.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { tags?: string[] }>> };
    for (const path of ['', '/{id}', '/{id}/check', '/{id}/run', '/{id}/executions', '/{id}/executions/{executionId}/tasks', '/{id}/executions/{executionId}/stop']) {
      expect(Object.values(spec.paths[`/api/v1/registries/{registry}/replications${path}`] ?? {})[0]?.tags, path).toEqual(['replication']);
    }
    const bad = await runCli(['replication', 'create', 'src', 'x', '--endpoint', 'no-such-endpoint'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('endpoint no-such-endpoint does not exist');
  });

  it('auto runs are coalesced per artifact: pushes of one tag while its run waits add nothing', { timeout: 120_000 }, async () => {
    const c = await startServer({ db, config: PRIVATE });
    try {
      const cc = new OciClient(c.url, c.admin);
      expect((await c.api('POST', '/api/v1/registries', { name: 'busy' })).status).toBe(201);
      const rule = await c.api('POST', '/api/v1/registries/busy/replications', {
        name: 'r',
        endpoint: { name: 'b', provider: 'ncr', url: b.url, accessId: b.admin.accessKey, secret: b.admin.secretKey },
        targetRegistry: 'dst',
      });
      expect(rule.status, JSON.stringify(rule.body)).toBe(201);
      expect((await c.api('POST', '/api/v1/registries/busy/replications/r/check')).body.status).toBe('enabled');
      // nothing runs on this node from now on: every run stays queued
      await c.app.jobs.runner.stop();
      for (let i = 0; i < 5; i++) await cc.pushImage('busy/app', 'latest', `busy-${db}-${i}`);
      await cc.pushImage('busy/app', 'other', `busy-${db}-other`);
      await c.app.flush();
      const runs = (await c.api('GET', '/api/v1/registries/busy/replications/r/executions')).body.items as { trigger: string; status: string; params: { artifact: string } }[];
      expect(runs.map((e) => [e.trigger, e.status, e.params.artifact]).sort()).toEqual([
        ['event', 'queued', 'busy/app:latest'],
        ['event', 'queued', 'busy/app:other'],
      ]);
    } finally {
      await c.close();
    }
  });

  // two server starts and 40 images: generous on a busy machine
  it('an image signed before the rule is copied by a manual run with its signatures, and verifies at the target', { timeout: 120_000 }, async () => {
    expect((await a.api('POST', '/api/v1/registries', { name: 'signed' })).status).toBe(201);
    expect((await b.api('POST', '/api/v1/registries', { name: 'signed-dst' })).status).toBe(201);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const img = await ca.pushImage('signed/app', 'v1', `signed-${db}`);
    // cosign sign (tag layout) and cosign sign --new-bundle-format (a bundle referrer), both before the rule exists
    const payload = simpleSigningPayload(`${a.host}/signed/app`, img.digest);
    const sigManifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: 2, digest: await ca.pushBlob('signed/app', '{}') },
      layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', size: payload.byteLength, digest: await ca.pushBlob('signed/app', payload), annotations: { 'dev.cosignproject.cosign/signature': signPayload(payload, privateKey) } }],
    });
    const sigTag = `${img.digest.replace(':', '-')}.sig`;
    expect((await ca.pushManifest('signed/app', sigTag, sigManifest)).status).toBe(201);
    const bundleJson = JSON.stringify(dsseBundle(inTotoStatement(img.digest), privateKey, publicKey));
    const bundle = bundleManifest({ mediaType: OCI_MANIFEST, digest: img.digest, size: Buffer.byteLength(img.body) }, { digest: await ca.pushBlob('signed/app', bundleJson), size: Buffer.byteLength(bundleJson) });
    expect((await ca.pushManifest('signed/app', sha256(bundle), bundle)).status).toBe(201);

    const created = await a.api('POST', '/api/v1/registries/signed/replications', {
      name: 'sig-to-b',
      endpoint: { name: 'b-signed', provider: 'ncr', url: b.url, accessId: b.admin.accessKey, secret: b.admin.secretKey },
      targetRegistry: 'signed-dst',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await until('the rule to be Enabled', async () => (await a.api('GET', '/api/v1/registries/signed/replications/sig-to-b')).body.status === 'enabled');
    const run = await a.api('POST', '/api/v1/registries/signed/replications/sig-to-b/run');
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    expect((await finished(a, 'signed', 'sig-to-b', run.body.id)).status).toBe('succeeded');

    expect(await digestAt(cb, 'signed-dst/app', 'v1')).toBe(img.digest);
    expect(await digestAt(cb, 'signed-dst/app', sigTag)).toBe(sha256(sigManifest));
    const referrers = (await (await cb.req('GET', `/v2/signed-dst/app/referrers/${img.digest}`)).json()) as { manifests: { digest: string }[] };
    expect(referrers.manifests.map((m) => m.digest)).toContain(sha256(bundle));
    // B verifies both with the key registered there
    expect((await b.api('POST', '/api/v1/registries/signed-dst/trust/keys', { name: 'release', pem: publicKey.export({ format: 'pem', type: 'spki' }).toString() })).status).toBe(201);
    const t = (await b.api('GET', `/api/v1/registries/signed-dst/images/app/artifacts/${img.digest}/signatures`)).body;
    expect(t.status).toBe('verified');
    expect(t.signatures.map((x: { kind: string; status: string }) => `${x.kind}:${x.status}`).sort()).toEqual(['cosign:verified', 'sigstore-bundle:verified']);
  });

  it('a run asked to stop ends stopped, and a run whose server went away mid-way is resumed on restart', { timeout: 180_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ncr-repl-'));
    const pgDb = db === 'postgres' ? await createPgDatabase() : undefined;
    const known: { admin?: TestServer['admin'] } = {};
    const start = async (clock?: ManualClock) => {
      const { admin } = known;
      const s = await startServer({ db, config: { ...PRIVATE, ...(admin ? { auth: { admin } } : {}) }, dataDir, pgUrl: pgDb?.url, adapters: clock ? { clock } : {} });
      // the same database: its admin is the first start's
      return admin ? { ...s, admin, api: apiCaller(s.url, admin) } : s;
    };
    let c = await start();
    known.admin = c.admin;
    try {
      const cc = new OciClient(c.url, c.admin);
      const target = `bulk${randomBytes(3).toString('hex')}`;
      expect((await c.api('POST', '/api/v1/registries', { name: 'bulk' })).status).toBe(201);
      expect((await b.api('POST', '/api/v1/registries', { name: target })).status).toBe(201);
      const N = 40;
      for (let i = 0; i < N; i++) await cc.pushImage(`bulk/img${i}`, 'v1', `bulk-${db}-${i}-${randomBytes(4).toString('hex')}`);
      const rule = await c.api('POST', '/api/v1/registries/bulk/replications', {
        name: 'r',
        endpoint: { name: 'b', provider: 'ncr', url: b.url, accessId: b.admin.accessKey, secret: b.admin.secretKey },
        targetRegistry: target,
      });
      expect(rule.status, JSON.stringify(rule.body)).toBe(201);
      expect((await c.api('POST', '/api/v1/registries/bulk/replications/r/check')).body.status).toBe('enabled');

      // stop: asked at once, the run ends stopped (before or while it runs)
      const first = await c.api('POST', '/api/v1/registries/bulk/replications/r/run');
      expect(first.status).toBe(202);
      const stopped = await c.api('POST', `/api/v1/registries/bulk/replications/r/executions/${first.body.id}/stop`);
      expect(stopped.status, JSON.stringify(stopped.body)).toBe(200);
      expect((await finished(c, 'bulk', 'r', first.body.id)).status).toBe('stopped');

      // the server goes away mid-run; started again (its job's lease run out), the run resumes and finishes
      // (the stopped run's job returns a moment after the run ended: until then another run is refused)
      const run = await until('a new run to start', async () => {
        const res = await c.api('POST', '/api/v1/registries/bulk/replications/r/run');
        if (res.status !== 409) expect(res.status, JSON.stringify(res.body)).toBe(202);
        return res.status === 202 ? res : undefined;
      });
      await until('a first artifact copied', async () => (await tasksOf(c, 'bulk', 'r', run.body.id)).some((t) => t.status === 'succeeded' || t.status === 'skipped'));
      const doneBeforeClose = (await c.app.executions.tasks(run.body.id, { page: 1, perPage: 100 })).total;
      await c.close();
      c = await start(new ManualClock(Date.now() + 10 * 60_000));
      const done = await finished(c, 'bulk', 'r', run.body.id);
      expect(done.status, done.message).toBe('succeeded');
      const tasks = await tasksOf(c, 'bulk', 'r', run.body.id);
      // each artifact once (a task left running by the first attempt is taken up, not added again), counted once
      expect(tasks).toHaveLength(N);
      expect(new Set(tasks.map((t) => t.subject)).size).toBe(N);
      expect(done.counts.artifacts).toBe(N);
      expect((done.counts.copied ?? 0) + (done.counts.skipped ?? 0)).toBe(N);
      expect(tasks.filter((t) => t.status === 'failed')).toEqual([]);
      for (let i = 0; i < N; i += 7) expect(await digestAt(cb, `${target}/img${i}`, 'v1')).toMatch(/^sha256:/);
      // it was interrupted (not finished before the server went away) and resumed by the job's second attempt
      const job = await c.app.jobs.queue.get((await c.app.executions.get(run.body.id)).jobId!);
      expect(job).toMatchObject({ status: 'succeeded', attempts: 2 });
      expect(doneBeforeClose).toBeLessThan(N);
    } finally {
      await c.close();
      await pgDb?.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
