/**
 * Image trust end to end on the shared server of each database: `ncr generate-key-pair`, `ncr sign` (cosign's layout
 * and payload), `ncr verify`, the Authentication status in the artifact list (unsigned / unverified / verified with
 * the key's name / invalid), Sigstore bundles as cosign v3 attaches them (`--new-bundle-format`: verified offline with
 * the registered keys, invalid when changed or for another digest, attestation bundles listed as attestations), global
 * keys, and the pull policy "only verified images" (412 naming the keys, signatures themselves still served, a
 * bundle-verified image served).
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCosignKey } from '../../src/domain/trust/cosign-key.js';
import { signPayload, simpleSigningPayload } from '../../src/domain/trust/signatures.js';
import { runCli } from '../helpers/cli-inprocess.js';
import { OciClient, sha256 } from '../helpers/oci-client.js';
import { DB_KINDS } from '../helpers/server.js';
import { ownAdmin, sharedServer, unique, type SharedServer } from '../helpers/shared.js';
import { bundleManifest, dsseBundle, inTotoStatement, messageBundle } from '../helpers/sigstore-bundle.js';

const REG = unique('trust');
const OTHER = unique('trust-other');
const SIMPLESIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
/** cosign's key hint: base64 of the SHA-256 of the DER SubjectPublicKeyInfo */
const createHashOf = (pub: KeyObject) => createHash('sha256').update(pub.export({ format: 'der', type: 'spki' })).digest('base64');

describe.each(DB_KINDS)('image trust (%s)', { timeout: 120_000 }, (db) => {
  let s: SharedServer & { username: string };
  let c: OciClient;
  let work: string;
  let env: Record<string, string>;
  const images: Record<string, { digest: string; body: string }> = {};
  const ncr = (...args: string[]) => runCli(args, env, work);
  const auth = async (reg: string, tag: string) => {
    const list = await s.api('GET', `/api/v1/registries/${reg}/images/app/artifacts?perPage=100`);
    return list.body.items.find((a: { tags: string[] }) => a.tags.includes(tag))?.authentication;
  };

  beforeAll(async () => {
    s = await ownAdmin(sharedServer(db), `trust-${db}`);
    c = new OciClient(s.url, s.admin);
    work = await mkdtemp(join(tmpdir(), 'ncr-trust-'));
    env = { NCR_URL: s.url, NCR_ACCESS_KEY: s.admin.accessKey, NCR_SECRET_KEY: s.admin.secretKey, COSIGN_PASSWORD: 'correct horse' };
    for (const r of [REG, OTHER]) expect((await s.api('POST', '/api/v1/registries', { name: r })).status).toBe(201);
    images.signed = await c.pushImage(`${REG}/app`, 'signed', `signed-${db}`);
    images.plain = await c.pushImage(`${REG}/app`, 'plain', `plain-${db}`);
    images.other = await c.pushImage(`${OTHER}/app`, 'v1', `other-${db}`);
    expect((await ncr('generate-key-pair')).code).toBe(0);
    expect((await ncr('generate-key-pair', '--output-key-prefix', 'stranger')).code).toBe(0);
  });
  afterAll(async () => rm(work, { recursive: true, force: true }));

  it('ncr sign pushes what cosign pushes: sha256-<hex>.sig with a simple-signing payload of the digest', async () => {
    const signed = await ncr('sign', '--key', 'cosign.key', `${REG}/app:signed`);
    expect(signed.code, signed.stderr).toBe(0);
    const tag = `${images.signed.digest.replace(':', '-')}.sig`;
    expect(signed.stdout).toContain(`Pushing signature to: ${s.host}/${REG}/app:${tag}`);
    const res = await c.req('GET', `/v2/${REG}/app/manifests/${tag}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(res.status).toBe(200);
    const m = (await res.json()) as { layers: { mediaType: string; digest: string; annotations: Record<string, string> }[] };
    expect(m.layers).toHaveLength(1);
    expect(m.layers[0]!.mediaType).toBe(SIMPLESIGNING);
    expect(m.layers[0]!.annotations['dev.cosignproject.cosign/signature']).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const payload = await (await c.req('GET', `/v2/${REG}/app/blobs/${m.layers[0]!.digest}`)).text();
    expect(JSON.parse(payload)).toEqual({ critical: { identity: { 'docker-reference': `${s.host}/${REG}/app` }, image: { 'docker-manifest-digest': images.signed.digest }, type: 'cosign container image signature' }, optional: null });
    expect(sha256(payload)).toBe(m.layers[0]!.digest);
  });

  it('Authentication: unverified until a key is registered, then verified with its name; unsigned stays unsigned', async () => {
    expect(await auth(REG, 'signed')).toEqual({ status: 'unverified', keys: [], signatures: 1 });
    expect(await auth(REG, 'plain')).toEqual({ status: 'unsigned', keys: [], signatures: 0 });
    // the signature is listed under its artifact, not as one of its own (unless asked for)
    const plainList = await s.api('GET', `/api/v1/registries/${REG}/images/app/artifacts?perPage=100`);
    expect(plainList.body.items.map((a: { tags: string[] }) => a.tags).flat().sort()).toEqual(['plain', 'signed']);
    const all = await s.api('GET', `/api/v1/registries/${REG}/images/app/artifacts?perPage=100&accessories=true`);
    expect(all.body.total).toBe(3);
    const added = await ncr('trust', 'add-key', 'release', 'cosign.pub', REG);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/release\s+ECDSA P-256\s+[0-9a-f]{64}/);
    expect(await auth(REG, 'signed')).toEqual({ status: 'verified', keys: ['release'], signatures: 1 });
    const detail = await s.api('GET', `/api/v1/registries/${REG}/images/app/artifacts/${images.signed.digest}/signatures`);
    expect(detail.body.signatures).toEqual([expect.objectContaining({ kind: 'cosign', status: 'verified', keyName: 'release' })]);
    const dup = await s.api('POST', `/api/v1/registries/${REG}/trust/keys`, { name: 'release', pem: await readFile(join(work, 'stranger.pub'), 'utf8') });
    expect(dup.status).toBe(409);
    const bad = await s.api('POST', `/api/v1/registries/${REG}/trust/keys`, { name: 'junk', pem: 'not a key' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].message).toContain('BEGIN PUBLIC KEY');
  });

  it('ncr verify checks against a public key, as cosign verify does', async () => {
    const ok = await ncr('verify', '--key', 'cosign.pub', `${REG}/app:signed`);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)[0].critical.image['docker-manifest-digest']).toBe(images.signed.digest);
    const wrong = await ncr('verify', '--key', 'stranger.pub', `${REG}/app:signed`);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/no matching signatures/);
    expect((await ncr('verify', '--key', 'cosign.pub', `${REG}/app:plain`)).stderr).toMatch(/no signatures found/);
    const badPassword = await runCli(['sign', '--key', 'cosign.key', `${REG}/app:plain`], { ...env, COSIGN_PASSWORD: 'nope' }, work);
    expect(badPassword.stderr).toMatch(/wrong password/);
  });

  it('a second signature is a second layer; either key verifies', async () => {
    expect((await ncr('sign', '--key', 'stranger.key', `${REG}/app:signed`)).code).toBe(0);
    expect((await ncr('verify', '--key', 'stranger.pub', `${REG}/app:signed`)).code).toBe(0);
    expect(await auth(REG, 'signed')).toEqual({ status: 'verified', keys: ['release'], signatures: 2 });
  });

  it('a signature whose payload signs another digest is invalid', async () => {
    // sign "signed", then copy its signature manifest under plain's .sig tag: it claims the wrong digest
    const tag = `${images.signed.digest.replace(':', '-')}.sig`;
    const sig = await (await c.req('GET', `/v2/${REG}/app/manifests/${tag}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).text();
    expect((await c.pushManifest(`${REG}/app`, `${images.plain.digest.replace(':', '-')}.sig`, sig)).status).toBe(201);
    const a = await auth(REG, 'plain');
    expect(a.status).toBe('invalid');
    const detail = await s.api('GET', `/api/v1/registries/${REG}/images/app/artifacts/${images.plain.digest}/signatures`);
    expect(detail.body.signatures[0].reason).toContain(`signs ${images.signed.digest}`);
  });

  it('OCI 1.1 referrer signatures verify too', async () => {
    const img = await c.pushImage(`${REG}/app`, 'referred', `referred-${db}`);
    const key = openCosignKey(await readFile(join(work, 'cosign.key'), 'utf8'), 'correct horse');
    const payload = simpleSigningPayload(`${s.host}/${REG}/app`, img.digest);
    const payloadDigest = await c.pushBlob(`${REG}/app`, payload);
    const emptyConfig = '{}';
    const configDigest = await c.pushBlob(`${REG}/app`, emptyConfig);
    const subject = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.digest, size: Buffer.byteLength(img.body) };
    const referrer = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: configDigest, size: 2 },
      layers: [{ mediaType: SIMPLESIGNING, digest: payloadDigest, size: payload.byteLength, annotations: { 'dev.cosignproject.cosign/signature': signPayload(payload, key) } }],
      subject,
    };
    const body = JSON.stringify(referrer);
    expect((await c.pushManifest(`${REG}/app`, sha256(body), body)).status).toBe(201);
    expect(await auth(REG, 'referred')).toEqual({ status: 'verified', keys: ['release'], signatures: 1 });
  });

  describe('Sigstore bundles (cosign sign --new-bundle-format)', () => {
    let release: { priv: KeyObject; pub: KeyObject };
    let stranger: { priv: KeyObject; pub: KeyObject };
    let bundleDigest: string;
    const keyPair = async (file: string) => {
      const priv = openCosignKey(await readFile(join(work, file), 'utf8'), 'correct horse');
      return { priv, pub: createPublicKey(priv) };
    };
    /** pushes the bundle blob and cosign's referrer manifest for it (by digest, as cosign does); returns the manifest's digest */
    const attach = async (img: { digest: string; body: string }, bundle: unknown, predicateType: string | null = 'https://sigstore.dev/cosign/sign/v1') => {
      await c.pushBlob(`${REG}/app`, '{}');
      const json = JSON.stringify(bundle);
      const blob = await c.pushBlob(`${REG}/app`, json);
      const manifest = bundleManifest({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.digest, size: Buffer.byteLength(img.body) }, { digest: blob, size: Buffer.byteLength(json) }, predicateType);
      const res = await c.pushManifest(`${REG}/app`, sha256(manifest), manifest);
      expect(res.status, await res.text()).toBe(201);
      return sha256(manifest);
    };
    const signatures = async (digest: string) => (await s.api('GET', `/api/v1/registries/${REG}/images/app/artifacts/${digest}/signatures`)).body;

    beforeAll(async () => {
      release = await keyPair('cosign.key');
      stranger = await keyPair('stranger.key');
      images.bundled = await c.pushImage(`${REG}/app`, 'bundled', `bundled-${db}`);
      bundleDigest = await attach(images.bundled, dsseBundle(inTotoStatement(images.bundled.digest), release.priv, release.pub, { tlogEntry: true }));
    });

    it('a DSSE bundle signed with a registered key is verified with its name, listed under its artifact only', async () => {
      expect(await auth(REG, 'bundled')).toEqual({ status: 'verified', keys: ['release'], signatures: 1 });
      expect(await signatures(images.bundled.digest)).toMatchObject({ status: 'verified', signatures: [{ kind: 'sigstore-bundle', status: 'verified', keyName: 'release', reason: null }], attestations: [] });
      // the referrer is there for cosign (referrers API) but not an artifact of its own in the plain list
      const referrers = (await (await c.req('GET', `/v2/${REG}/app/referrers/${images.bundled.digest}`)).json()) as { manifests: { artifactType: string }[] };
      expect(referrers.manifests.map((m) => m.artifactType)).toEqual(['application/vnd.dev.sigstore.bundle.v0.3+json']);
      const digests = async (q: string) => (await s.api('GET', `/api/v1/registries/${REG}/images/app/artifacts?perPage=100${q}`)).body.items.map((a: { digest: string }) => a.digest);
      expect(await digests('')).not.toContain(bundleDigest);
      expect(await digests('&accessories=true')).toContain(bundleDigest);
    });

    it('a bundle changed after signing is invalid; one for another digest is invalid', async () => {
      const img = await c.pushImage(`${REG}/app`, 'b-tampered', `b-tampered-${db}`);
      const bundle = dsseBundle(inTotoStatement(img.digest), release.priv, release.pub) as { dsseEnvelope: { payload: string } };
      bundle.dsseEnvelope.payload = Buffer.from(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString().replace('"predicate":{}', '"predicate":{"builder":"evil"}')).toString('base64');
      await attach(img, bundle);
      expect(await auth(REG, 'b-tampered')).toEqual({ status: 'invalid', keys: [], signatures: 1 });
      expect((await signatures(img.digest)).signatures[0].reason).toMatch(/changed after signing/);

      const other = await c.pushImage(`${REG}/app`, 'b-other', `b-other-${db}`);
      await attach(other, dsseBundle(inTotoStatement(images.bundled.digest), release.priv, release.pub));
      expect(await auth(REG, 'b-other')).toEqual({ status: 'invalid', keys: [], signatures: 1 });
      expect((await signatures(other.digest)).signatures[0].reason).toBe(`the bundle signs ${images.bundled.digest}, not ${other.digest}`);
    });

    it('a bundle signed with a key nobody registered is signed, unverified', async () => {
      const img = await c.pushImage(`${REG}/app`, 'b-stranger', `b-stranger-${db}`);
      await attach(img, dsseBundle(inTotoStatement(img.digest), stranger.priv, stranger.pub));
      expect(await auth(REG, 'b-stranger')).toEqual({ status: 'unverified', keys: [], signatures: 1 });
      expect((await signatures(img.digest)).signatures[0]).toMatchObject({ kind: 'sigstore-bundle', status: 'unverified', reason: 'none of the registered public keys verifies the bundle' });
    });

    it('ncr sign --new-bundle-format pushes the referrer cosign v3 pushes; the server and ncr verify check it', async () => {
      const img = await c.pushImage(`${REG}/app`, 'b-ncr', `b-ncr-${db}`);
      const signed = await ncr('sign', '--new-bundle-format', '--key', 'cosign.key', `${REG}/app:b-ncr`);
      expect(signed.code, signed.stderr).toBe(0);
      const at = /@(sha256:[0-9a-f]{64})/.exec(signed.stdout)![1]!;
      const m = (await (await c.req('GET', `/v2/${REG}/app/manifests/${at}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).json()) as Record<string, any>;
      expect(m).toMatchObject({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2, digest: sha256('{}') },
        layers: [{ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }],
        annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope', 'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1' },
        subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.digest, size: Buffer.byteLength(img.body) },
      });
      const bundle = (await (await c.req('GET', `/v2/${REG}/app/blobs/${m.layers[0].digest}`)).json()) as Record<string, any>;
      expect(bundle.verificationMaterial.publicKey.hint).toBe(createHashOf(release.pub));
      expect(bundle.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
      expect(JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString())).toEqual({ _type: 'https://in-toto.io/Statement/v1', subject: [{ digest: { sha256: img.digest.slice(7) } }], predicateType: 'https://sigstore.dev/cosign/sign/v1', predicate: {} });
      expect(await auth(REG, 'b-ncr')).toEqual({ status: 'verified', keys: ['release'], signatures: 1 });
      const ok = await ncr('verify', '--key', 'cosign.pub', `${REG}/app:b-ncr`);
      expect(ok.code, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)[0].subject[0].digest.sha256).toBe(img.digest.slice(7));
      const wrong = await ncr('verify', '--key', 'stranger.pub', `${REG}/app:b-ncr`);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/no matching signatures.*none of the registered public keys verifies the bundle/);
    });

    it('a message-signature bundle over the manifest verifies; an attestation bundle is listed as an attestation', async () => {
      const img = await c.pushImage(`${REG}/app`, 'b-message', `b-message-${db}`);
      await attach(img, messageBundle(Buffer.from(img.body), release.priv, release.pub), null);
      expect(await auth(REG, 'b-message')).toEqual({ status: 'verified', keys: ['release'], signatures: 1 });

      const att = await c.pushImage(`${REG}/app`, 'b-attested', `b-attested-${db}`);
      const attDigest = await attach(att, dsseBundle(inTotoStatement(att.digest, 'https://slsa.dev/provenance/v1', { buildDefinition: {} }), release.priv, release.pub), 'https://slsa.dev/provenance/v1');
      expect(await auth(REG, 'b-attested')).toEqual({ status: 'unsigned', keys: [], signatures: 0 });
      expect((await signatures(att.digest)).attestations).toEqual([expect.objectContaining({ digest: attDigest, kind: 'attestation' })]);
    });
  });

  it('global keys are trusted in every registry, and only admins add them', async () => {
    expect((await ncr('sign', '--key', 'stranger.key', `${OTHER}/app:v1`)).code).toBe(0);
    expect(await auth(OTHER, 'v1')).toMatchObject({ status: 'unverified' });
    const name = `global-${db}-${unique('k')}`;
    const g = await s.api('POST', '/api/v1/trust/keys', { name, pem: await readFile(join(work, 'stranger.pub'), 'utf8') });
    expect(g.status).toBe(201);
    expect(await auth(OTHER, 'v1')).toEqual({ status: 'verified', keys: [name], signatures: 1 });
    expect((await s.api('DELETE', `/api/v1/trust/keys/${g.body.id}`)).status).toBe(204);
    expect(await auth(OTHER, 'v1')).toMatchObject({ status: 'unverified' });
  });

  it('"only verified images" refuses the rest with 412 naming the keys; signatures are still served', async () => {
    const set = await ncr('trust', 'policy', REG, 'verified-only');
    expect(set.code, set.stderr).toBe(0);
    const refused = await c.req('GET', `/v2/${REG}/app/manifests/plain`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(refused.status).toBe(412);
    const err = ((await refused.json()) as { errors: { code: string; message: string }[] }).errors[0]!;
    expect(err.code).toBe('PULL_REFUSED');
    expect(err.message).toMatch(/serves only verified images: .* is signed, but the signature is invalid .*one of the registry's keys \(release\)/);
    expect((await c.req('GET', `/v2/${REG}/app/manifests/signed`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).status).toBe(200);
    // a Sigstore bundle verified by a registered key satisfies the policy; one nobody's key verifies does not
    expect((await c.req('GET', `/v2/${REG}/app/manifests/bundled`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).status).toBe(200);
    const strangerBundle = await c.req('GET', `/v2/${REG}/app/manifests/b-stranger`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(strangerBundle.status).toBe(412);
    expect(((await strangerBundle.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(/is signed, but not verified; it needs .*\(release\)/);
    const sigTag = `${images.signed.digest.replace(':', '-')}.sig`;
    expect((await c.req('GET', `/v2/${REG}/app/manifests/${sigTag}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).status).toBe(200);
    // another registry is not affected
    expect((await c.req('GET', `/v2/${OTHER}/app/manifests/v1`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).status).toBe(200);
    expect((await ncr('trust', 'policy', REG, 'any')).code).toBe(0);
    expect((await c.req('GET', `/v2/${REG}/app/manifests/plain`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).status).toBe(200);
  });
});
