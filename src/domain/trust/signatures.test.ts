import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateCosignKeyPair, openCosignKey, parsePublicKey, sealCosignKey } from './cosign-key.js';
import { accessoryKind, checkSimpleSignature, COSIGN_SIG_ARTIFACT, NOTARY_SIGNATURE, SIGNATURE_ANNOTATION, signPayload, simpleSignatures, simpleSigningPayload, SIMPLESIGNING } from './signatures.js';

const SUBJECT = `sha256:${'a'.repeat(64)}`;
const digestOf = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('cosign key files', () => {
  it('a generated cosign.key opens with its password (and only with it) and matches cosign.pub', () => {
    const { privateKeyPem, publicKeyPem } = generateCosignKeyPair('s3cret');
    expect(privateKeyPem).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    const body = JSON.parse(Buffer.from(privateKeyPem.split('\n').slice(1, -2).join(''), 'base64').toString());
    expect(body).toMatchObject({ kdf: { name: 'scrypt', params: { N: 32768, r: 8, p: 1 } }, cipher: { name: 'nacl/secretbox' } });
    expect(Buffer.from(body.kdf.salt, 'base64')).toHaveLength(32);
    expect(Buffer.from(body.cipher.nonce, 'base64')).toHaveLength(24);
    const key = openCosignKey(privateKeyPem, 's3cret');
    const payload = simpleSigningPayload('r/app', SUBJECT);
    const pub = parsePublicKey(publicKeyPem);
    expect(pub.algorithm).toBe('ECDSA P-256');
    const sig = { payloadDigest: digestOf(payload), payloadSize: payload.length, signature: signPayload(payload, key) };
    expect(checkSimpleSignature(sig, payload, SUBJECT, [{ id: 'k', key: pub.key }])).toEqual({ status: 'verified', keyId: 'k' });
    expect(() => openCosignKey(privateKeyPem, 'wrong')).toThrow(/wrong password/);
    expect(() => openCosignKey(publicKeyPem, 's3cret')).toThrow(/ENCRYPTED SIGSTORE PRIVATE KEY/);
  });

  it('seals RSA and Ed25519 keys too, and verifies their signatures', () => {
    for (const type of ['rsa', 'ed25519'] as const) {
      const pair = type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ed25519');
      const opened = openCosignKey(sealCosignKey(pair.privateKey, 'pw'), 'pw');
      const payload = simpleSigningPayload('r/app', SUBJECT);
      const sig = { payloadDigest: digestOf(payload), payloadSize: payload.length, signature: signPayload(payload, opened) };
      const pub = parsePublicKey(pair.publicKey.export({ format: 'pem', type: 'spki' }).toString());
      expect(checkSimpleSignature(sig, payload, SUBJECT, [{ id: type, key: pub.key }]).status, type).toBe('verified');
    }
  });

  it('refuses what is not a usable public key', () => {
    expect(() => parsePublicKey('hello')).toThrow(/not a PEM public key/);
    const k = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(() => parsePublicKey(k)).toThrow(/unsupported elliptic curve/);
  });
});

describe('simple signing checks', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const payload = simpleSigningPayload('host/r/app', SUBJECT);
  const good = { payloadDigest: digestOf(payload), payloadSize: payload.length, signature: signPayload(payload, privateKey) };

  it('verified with the right key, unverified with another, invalid when tampered', () => {
    expect(checkSimpleSignature(good, payload, SUBJECT, [{ id: 'x', key: other.publicKey }, { id: 'y', key: publicKey }])).toEqual({ status: 'verified', keyId: 'y' });
    expect(checkSimpleSignature(good, payload, SUBJECT, [{ id: 'x', key: other.publicKey }]).status).toBe('unverified');
    expect(checkSimpleSignature(good, payload, SUBJECT, []).status).toBe('unverified');
    const tampered = new TextEncoder().encode(new TextDecoder().decode(payload).replace('host', 'evil'));
    expect(checkSimpleSignature(good, tampered, SUBJECT, [{ id: 'y', key: publicKey }])).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/digest/) });
    expect(checkSimpleSignature(good, payload, `sha256:${'b'.repeat(64)}`, [{ id: 'y', key: publicKey }])).toMatchObject({ status: 'invalid', reason: expect.stringMatching(/signs sha256:a+/) });
    const wrongSig = { ...good, signature: signPayload(simpleSigningPayload('host/r/app', `sha256:${'c'.repeat(64)}`), privateKey) };
    expect(checkSimpleSignature(wrongSig, payload, SUBJECT, [{ id: 'y', key: publicKey }]).status).toBe('unverified');
  });

  it('recognises the layouts', () => {
    const layer = { mediaType: SIMPLESIGNING, digest: good.payloadDigest, size: good.payloadSize, annotations: { [SIGNATURE_ANNOTATION]: good.signature } };
    const legacy = { mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: SUBJECT, size: 1 }, layers: [layer] };
    expect(accessoryKind(legacy)).toBe('cosign');
    expect(simpleSignatures(legacy)).toEqual([good]);
    expect(accessoryKind({ artifactType: COSIGN_SIG_ARTIFACT, layers: [layer], subject: { digest: SUBJECT, size: 1 } })).toBe('cosign');
    expect(accessoryKind({ artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' })).toBe('sigstore-bundle');
    const bundled = (predicate: string) => ({ artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json', annotations: { 'dev.sigstore.bundle.predicateType': predicate } });
    expect(accessoryKind(bundled('https://sigstore.dev/cosign/sign/v1'))).toBe('sigstore-bundle');
    expect(accessoryKind(bundled('https://slsa.dev/provenance/v1'))).toBe('attestation');
    expect(accessoryKind({ artifactType: NOTARY_SIGNATURE })).toBe('notation');
    expect(accessoryKind({ layers: [{ mediaType: 'application/vnd.dsse.envelope.v1+json', digest: SUBJECT, size: 1 }] }, [`sha256-${'a'.repeat(64)}.att`])).toBe('attestation');
    expect(accessoryKind({ artifactType: 'application/spdx+json' })).toBe('sbom');
    expect(accessoryKind({ config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: SUBJECT, size: 1 }, layers: [] })).toBeUndefined();
  });
});
