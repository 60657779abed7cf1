/**
 * Signatures as accessories of their subject, on both databases, with what cosign pushes: `ncr sign`'s
 * `sha256-<hex>.sig` tag, a Sigstore bundle referrer (cosign v3) and a legacy `sha256-<hex>.att` attestation. They are
 * listed under their artifact (attestations as such), hidden from the plain tag and artifact lists, protected with
 * their subject, never deleted alone by cleanup nor collected by GC while the subject lives, deleted with it; and an
 * image cache registry takes no signature.
 */
import { createPublicKey, sign } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { openCosignKey } from '../../src/domain/trust/cosign-key.js';
import { runCli } from '../helpers/cli-inprocess.js';
import { OciClient, sha256 } from '../helpers/oci-client.js';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';
import { bundleManifest, dsseBundle, inTotoStatement } from '../helpers/sigstore-bundle.js';
import { runGc } from '../gc/gc-helpers.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const HOUR = 3600_000;

describe.each(DB_KINDS)('signatures belong to their subject (%s)', { timeout: 120_000 }, (db) => {
  const clock = new ManualClock();
  let s: TestServer;
  let work: string;
  let env: Record<string, string>;
  /** the images and each one's accessories: the .sig manifest, the bundle referrer, the .att manifest */
  const img: Record<'keep' | 'drop', { digest: string; body: string; sig: string; bundle: string; bundleBlob: string; att?: string }> = {} as never;
  const client = () => new OciClient(s.url, s.admin); // fresh: tokens from before a clock jump have expired
  const api = (m: string, p: string, b?: unknown) => s.api(m, `/api/v1/registries/acc${p}`, b);
  const head = async (ref: string) => (await client().req('HEAD', `/v2/acc/app/manifests/${ref}`, { headers: { accept: MANIFEST } })).status;

  beforeAll(async () => {
    s = await startServer({ db, adapters: { clock }, config: { endpoints: { allowPrivateNetworks: true } } });
    work = await mkdtemp(join(tmpdir(), 'ncr-trust-acc-'));
    env = { NCR_URL: s.url, NCR_ACCESS_KEY: s.admin.accessKey, NCR_SECRET_KEY: s.admin.secretKey, COSIGN_PASSWORD: 'pw' };
    expect((await s.api('POST', '/api/v1/registries', { name: 'acc' })).status).toBe(201);
    expect((await runCli(['generate-key-pair'], env, work)).code).toBe(0);
    const priv = openCosignKey(await readFile(join(work, 'cosign.key'), 'utf8'), 'pw');
    const pub = createPublicKey(priv);
    const c = client();
    for (const name of ['keep', 'drop'] as const) {
      const pushed = await c.pushImage('acc/app', `v-${name}`, `acc-${name}-${db}`);
      const signed = await runCli(['sign', '--key', 'cosign.key', `acc/app:v-${name}`], env, work);
      expect(signed.code, signed.stderr).toBe(0);
      const sigTag = `${pushed.digest.replace(':', '-')}.sig`;
      const sig = sha256(await (await c.req('GET', `/v2/acc/app/manifests/${sigTag}`, { headers: { accept: MANIFEST } })).text());
      await c.pushBlob('acc/app', '{}');
      const bundleJson = JSON.stringify(dsseBundle(inTotoStatement(pushed.digest), priv, pub));
      const bundleBlob = await c.pushBlob('acc/app', bundleJson);
      const manifest = bundleManifest({ mediaType: MANIFEST, digest: pushed.digest, size: Buffer.byteLength(pushed.body) }, { digest: bundleBlob, size: Buffer.byteLength(bundleJson) });
      expect((await c.pushManifest('acc/app', sha256(manifest), manifest)).status).toBe(201);
      img[name] = { ...pushed, sig, bundle: sha256(manifest), bundleBlob };
    }
    // cosign attest (legacy layout): a DSSE envelope of an in-toto statement under sha256-<hex>.att
    const statement = inTotoStatement(img.keep.digest, 'https://slsa.dev/provenance/v1', { buildType: 'test' });
    const type = 'application/vnd.in-toto+json';
    const envelope = JSON.stringify({
      payloadType: type,
      payload: statement.toString('base64'),
      signatures: [{ keyid: '', sig: sign('sha256', Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${statement.length} `), statement]), priv).toString('base64') }],
    });
    const attManifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: 2, digest: await c.pushBlob('acc/app', '{}') },
      layers: [{ mediaType: 'application/vnd.dsse.envelope.v1+json', size: Buffer.byteLength(envelope), digest: await c.pushBlob('acc/app', envelope), annotations: { 'dev.cosignproject.cosign/signature': '', predicateType: 'https://slsa.dev/provenance/v1' } }],
    });
    expect((await c.pushManifest('acc/app', `${img.keep.digest.replace(':', '-')}.att`, attManifest)).status).toBe(201);
    img.keep.att = sha256(attManifest);
    expect((await api('POST', '/trust/keys', { name: 'release', pem: await readFile(join(work, 'cosign.pub'), 'utf8') })).status).toBe(201);
  });
  afterAll(async () => {
    await s?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('both signatures are listed under the image and verify; the .att attestation is listed as an attestation', async () => {
    const t = (await api('GET', `/images/app/artifacts/${img.keep.digest}/signatures`)).body;
    expect(t.status).toBe('verified');
    expect(t.signatures.map((x: { kind: string; status: string; keyName: string }) => [x.kind, x.status, x.keyName]).sort()).toEqual([
      ['cosign', 'verified', 'release'],
      ['sigstore-bundle', 'verified', 'release'],
    ]);
    expect(t.attestations).toEqual([expect.objectContaining({ digest: img.keep.att, kind: 'attestation' })]);
  });

  it('the plain tag and artifact lists leave accessories out; asked for, or by digest, they are there', async () => {
    const names = async (q: string) => (await api('GET', `/images/app/tags?perPage=100${q}`)).body.items.map((t: { name: string }) => t.name);
    expect(await names('')).toEqual(['v-drop', 'v-keep']);
    expect((await api('GET', '/images/app/tags?perPage=100')).body.total).toBe(2);
    const keepHex = img.keep.digest.slice(7);
    expect(await names('&accessories=true')).toEqual(expect.arrayContaining([`sha256-${keepHex}.sig`, `sha256-${keepHex}.att`, 'v-keep', 'v-drop']));
    expect(await names(`&digest=${img.keep.sig}`)).toEqual([`sha256-${keepHex}.sig`]);
    const image = (await api('GET', '/images?perPage=100')).body.items.find((i: { name: string }) => i.name === 'app');
    expect(image.tagCount).toBe(2);
    const artifacts = (await api('GET', '/images/app/artifacts?perPage=100')).body.items.map((a: { digest: string }) => a.digest);
    expect(artifacts.sort()).toEqual([img.keep.digest, img.drop.digest].sort());
  });

  it('a protected image protects its signatures: neither can be deleted alone', async () => {
    expect((await api('POST', '/protection-policies', { imageFilter: { pattern: 'app' }, tagFilter: { pattern: 'v-keep' } })).status).toBe(201);
    expect((await client().req('DELETE', `/v2/acc/app/manifests/${img.keep.digest.replace(':', '-')}.sig`)).status).toBe(412);
    const bundle = await api('DELETE', `/images/app/artifacts/${img.keep.bundle}`);
    expect(bundle.status).toBe(412);
    expect(bundle.body.errors[0].code).toBe('PROTECTED');
    expect(await head(img.keep.bundle)).toBe(200);
  });

  it('cleanup that matches every tag deletes an image with its signatures, and never the signatures of a kept one', async () => {
    expect((await api('POST', '/cleanup-policies', { imageFilter: { pattern: 'app' }, tagFilter: { pattern: '.*', syntax: 'regex' }, rule: { keep: 'nothing' } })).status).toBe(201);
    const started = await api('POST', '/cleanup/run');
    expect(started.status).toBe(202);
    await s.app.jobs.runner.runDue();
    await s.app.flush();
    expect((await s.api('GET', `/api/v1/executions/${started.body.id}`)).body.status).toBe('succeeded');
    const tasks = (await s.api('GET', `/api/v1/executions/${started.body.id}/tasks?perPage=100`)).body.items as { subject: string; detail: { verdict: string } }[];
    // only the two images are judged, not their accessories
    expect(tasks.map((t) => [t.subject.split('@')[1], t.detail.verdict]).sort()).toEqual(
      [
        [img.keep.digest, 'PROTECTED'],
        [img.drop.digest, 'DELETE'],
      ].sort(),
    );
    for (const d of [img.drop.digest, img.drop.sig, img.drop.bundle]) expect(await head(d), d).toBe(404);
    for (const d of [img.keep.digest, img.keep.sig, img.keep.bundle, img.keep.att!]) expect(await head(d), d).toBe(200);
  });

  it('garbage collection keeps the signatures (and their blobs) of a present image, untagged as a bundle referrer is', async () => {
    clock.advance(3 * HOUR);
    await runGc(s, { deleteUntagged: true });
    for (const d of [img.keep.sig, img.keep.bundle, img.keep.att!]) expect(await head(d), d).toBe(200);
    expect((await client().req('GET', `/v2/acc/app/blobs/${img.keep.bundleBlob}`)).status).toBe(200);
    expect((await client().req('GET', `/v2/acc/app/blobs/${img.drop.bundleBlob}`)).status).toBe(404);
    expect((await api('GET', `/images/app/artifacts/${img.keep.digest}/signatures`)).body).toMatchObject({ status: 'verified', signatures: [{}, {}] });
  });

  it('deleting the image deletes its signatures and attestation', async () => {
    const policies = (await api('GET', '/protection-policies')).body.items as { id: string }[];
    for (const p of policies) expect((await api('DELETE', `/protection-policies/${p.id}`)).status).toBe(204);
    expect((await api('DELETE', `/images/app/artifacts/${img.keep.digest}`)).status).toBe(204);
    for (const d of [img.keep.digest, img.keep.sig, img.keep.bundle, img.keep.att!]) expect(await head(d), d).toBe(404);
  });

  it('an image cache registry takes no signature: ncr sign is refused with DENIED', async () => {
    const c = client();
    await c.pushImage('acc/src', 'v1', `acc-src-${db}`);
    const ep = await s.api('POST', '/api/v1/endpoints', { name: 'self', provider: 'ncr', url: s.url, accessId: s.admin.accessKey, secret: s.admin.secretKey });
    expect(ep.status, JSON.stringify(ep.body)).toBe(201);
    expect((await s.api('POST', '/api/v1/registries', { name: 'mirror', kind: 'cache', endpoint: 'self' })).status).toBe(201);
    expect((await c.req('GET', '/v2/mirror/acc/src/manifests/v1', { headers: { accept: MANIFEST } })).status).toBe(200);
    const refused = await runCli(['sign', '--key', 'cosign.key', 'mirror/acc/src:v1'], env, work);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/image cache.*cannot be pushed, tagged or signed here/);
  });
});
