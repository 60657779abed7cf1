import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dsseBundle, inTotoStatement, messageBundle } from '../../../test/helpers/sigstore-bundle.js';
import { bundleReferrer, checkBundle, COSIGN_SIGN_PREDICATE, cosignSignBundle, isSignatureBundle, keyHint, parseBundle } from './bundle.js';

const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}');
const SUBJECT = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
const OTHER = `sha256:${'b'.repeat(64)}`;
const bytes = (o: unknown) => Buffer.from(JSON.stringify(o));

describe('Sigstore bundles (cosign --new-bundle-format), verified offline with registered keys', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys = [{ id: 'release', key: ec.publicKey }];

  it('reads a DSSE bundle: in-toto subject, predicate type, key hint', () => {
    const p = parseBundle(bytes(dsseBundle(inTotoStatement(SUBJECT), ec.privateKey, ec.publicKey)));
    expect(p).toMatchObject({ content: 'dsse', predicateType: COSIGN_SIGN_PREDICATE, subjects: [SUBJECT], keyed: true, hint: keyHint(ec.publicKey) });
    expect(isSignatureBundle(p)).toBe(true);
    expect(isSignatureBundle(parseBundle(bytes(dsseBundle(inTotoStatement(SUBJECT, 'https://slsa.dev/provenance/v1'), ec.privateKey, ec.publicKey))))).toBe(false);
  });

  it('verified with the registered key (ECDSA P-256, Ed25519, RSA), also when it carries a Rekor entry ncr does not check', () => {
    expect(checkBundle(parseBundle(bytes(dsseBundle(inTotoStatement(SUBJECT), ec.privateKey, ec.publicKey))), SUBJECT, manifest, keys)).toEqual({ status: 'verified', keyId: 'release' });
    expect(checkBundle(parseBundle(bytes(dsseBundle(inTotoStatement(SUBJECT), ec.privateKey, ec.publicKey, { tlogEntry: true }))), SUBJECT, manifest, keys)).toEqual({ status: 'verified', keyId: 'release' });
    for (const pair of [generateKeyPairSync('ed25519'), generateKeyPairSync('rsa', { modulusLength: 2048 })]) {
      const b = parseBundle(bytes(dsseBundle(inTotoStatement(SUBJECT), pair.privateKey, pair.publicKey)));
      expect(checkBundle(b, SUBJECT, manifest, [...keys, { id: 'other', key: pair.publicKey }])).toEqual({ status: 'verified', keyId: 'other' });
    }
    // a hint that names no registered key: every key is still tried
    expect(checkBundle(parseBundle(bytes(dsseBundle(inTotoStatement(SUBJECT), ec.privateKey, ec.publicKey, { hint: '' }))), SUBJECT, manifest, keys).status).toBe('verified');
  });

  it('a changed payload is invalid; another key is unverified; another digest is invalid', () => {
    const good = dsseBundle(inTotoStatement(SUBJECT), ec.privateKey, ec.publicKey) as { dsseEnvelope: { payload: string } };
    const tampered = structuredClone(good);
    tampered.dsseEnvelope.payload = Buffer.from(Buffer.from(good.dsseEnvelope.payload, 'base64').toString().replace('"predicate":{}', '"predicate":{"x":1}')).toString('base64');
    expect(checkBundle(parseBundle(bytes(tampered)), SUBJECT, manifest, keys)).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/changed after signing/) });
    const byStranger = parseBundle(bytes(dsseBundle(inTotoStatement(SUBJECT), stranger.privateKey, stranger.publicKey)));
    expect(checkBundle(byStranger, SUBJECT, manifest, keys)).toMatchObject({ status: 'unverified', reason: expect.stringMatching(/none of the registered/) });
    expect(checkBundle(byStranger, SUBJECT, manifest, [])).toMatchObject({ status: 'unverified', reason: expect.stringMatching(/no public key/) });
    const elsewhere = parseBundle(bytes(dsseBundle(inTotoStatement(OTHER), ec.privateKey, ec.publicKey)));
    expect(checkBundle(elsewhere, SUBJECT, manifest, keys)).toEqual({ status: 'invalid', reason: `the bundle signs ${OTHER}, not ${SUBJECT}` });
  });

  it('message signatures sign the subject manifest itself', () => {
    const b = parseBundle(bytes(messageBundle(manifest, ec.privateKey, ec.publicKey)));
    expect(b).toMatchObject({ content: 'message', subjects: [SUBJECT] });
    expect(isSignatureBundle(b)).toBe(true);
    expect(checkBundle(b, SUBJECT, manifest, keys)).toEqual({ status: 'verified', keyId: 'release' });
    expect(checkBundle(b, SUBJECT, Buffer.concat([manifest, Buffer.from(' ')]), keys).status).toBe('invalid');
    expect(checkBundle(b, OTHER, manifest, keys).status).toBe('invalid');
  });

  it('keyless bundles are recognised, not verified; what is not a bundle is refused with the reason', () => {
    const keyless = dsseBundle(inTotoStatement(SUBJECT), ec.privateKey, ec.publicKey) as Record<string, unknown>;
    const cert = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    keyless.verificationMaterial = { certificate: { rawBytes: cert } };
    expect(checkBundle(parseBundle(bytes(keyless)), SUBJECT, manifest, keys)).toMatchObject({ status: 'unverified', reason: expect.stringMatching(/keyless/) });
    expect(() => parseBundle(Buffer.from('nope'))).toThrow(/not JSON/);
    expect(() => parseBundle(bytes({ mediaType: 'x' }))).toThrow(/not a Sigstore bundle/);
    const notInToto = dsseBundle(inTotoStatement(SUBJECT), ec.privateKey, ec.publicKey) as { dsseEnvelope: { payloadType: string } };
    notInToto.dsseEnvelope.payloadType = 'text/plain';
    expect(() => parseBundle(bytes(notInToto))).toThrow(/payload type/);
  });

  it('ncr sign --new-bundle-format: the bundle and referrer cosign writes, verifiable by the key it names', () => {
    for (const pair of [ec, generateKeyPairSync('ed25519')]) {
      const bundle = cosignSignBundle(SUBJECT, pair.privateKey);
      const json = JSON.parse(Buffer.from(bundle).toString());
      expect(json).toMatchObject({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', verificationMaterial: { publicKey: { hint: keyHint(pair.publicKey) } }, dsseEnvelope: { payloadType: 'application/vnd.in-toto+json' } });
      expect(JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64').toString())).toEqual(JSON.parse(inTotoStatement(SUBJECT).toString().replace(',"annotations":{}', '')));
      const p = parseBundle(bundle);
      expect(checkBundle(p, SUBJECT, manifest, [{ id: 'k', key: pair.publicKey }])).toEqual({ status: 'verified', keyId: 'k' });
      expect(checkBundle(p, SUBJECT, manifest, [{ id: 's', key: stranger.publicKey }]).status).toBe('unverified');
    }
    const referrer = JSON.parse(bundleReferrer({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: SUBJECT, size: manifest.length }, { digest: OTHER, size: 10 }, `sha256:${'e'.repeat(64)}`, new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678))));
    expect(referrer).toMatchObject({ artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json', subject: { digest: SUBJECT }, annotations: { 'org.opencontainers.image.created': '2026-01-02T03:04:05Z', 'dev.sigstore.bundle.predicateType': COSIGN_SIGN_PREDICATE } });
  });
});
