/**
 * What signs what: the signature layouts cosign and notation write, recognised from a manifest, and cosign's
 * "simple signing" payload, built and checked. Pure, apart from node:crypto's verify and sign.
 *
 * - cosign, tag layout: an OCI manifest under the tag `sha256-<hex>.sig` whose layers are simple-signing payloads
 *   (`application/vnd.dev.cosign.simplesigning.v1+json`), each with its signature in the annotation
 *   `dev.cosignproject.cosign/signature` (base64); several signatures are several layers.
 * - cosign, OCI 1.1 referrer: the same layers in a manifest with artifactType
 *   `application/vnd.dev.cosign.artifact.sig.v1+json` and a `subject`.
 * - Sigstore bundle (`application/vnd.dev.sigstore.bundle.v0.3+json`, cosign v3's default): a signature when its
 *   in-toto predicate is cosign's sign predicate (verified in bundle.ts), an attestation when the manifest's
 *   `dev.sigstore.bundle.predicateType` annotation names another predicate (`cosign attest --new-bundle-format`).
 * - Notary v2 (`application/vnd.cncf.notary.signature`): recognised as a signature; shown as signed, not verified.
 * - Attestations (`.att` tags, in-toto DSSE layers) and SBOMs (`.sbom`) are accessories but not signatures.
 */
import { createHash, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { accessoryTagSubject } from '../../oci/accessories.js';
import { BUNDLE_PREDICATE_ANNOTATION, COSIGN_SIGN_PREDICATE } from './bundle.js';

export const SIMPLESIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const COSIGN_SIG_ARTIFACT = 'application/vnd.dev.cosign.artifact.sig.v1+json';
export const SIGSTORE_BUNDLE_PREFIX = 'application/vnd.dev.sigstore.bundle';
export const NOTARY_SIGNATURE = 'application/vnd.cncf.notary.signature';
export const DSSE_ENVELOPE = 'application/vnd.dsse.envelope.v1+json';
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';

export type AccessoryKind = 'cosign' | 'sigstore-bundle' | 'notation' | 'attestation' | 'sbom';

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}
export interface ManifestLike {
  mediaType?: string;
  artifactType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** One simple-signing signature in a signature manifest: the payload's digest and the base64 signature. */
export interface SimpleSignature {
  payloadDigest: string;
  payloadSize: number;
  signature: string;
}

/** What kind of accessory a manifest is (by its artifact type, config, layers or cosign tag), or undefined. */
export function accessoryKind(m: ManifestLike, tags: readonly string[] = []): AccessoryKind | undefined {
  const type = m.artifactType ?? m.config?.mediaType ?? '';
  const layerTypes = (m.layers ?? []).map((l) => l.mediaType ?? '');
  if (type === COSIGN_SIG_ARTIFACT || layerTypes.includes(SIMPLESIGNING)) return 'cosign';
  if (type.startsWith(SIGSTORE_BUNDLE_PREFIX) || layerTypes.some((t) => t.startsWith(SIGSTORE_BUNDLE_PREFIX))) {
    const predicate = m.annotations?.[BUNDLE_PREDICATE_ANNOTATION];
    return predicate !== undefined && predicate !== COSIGN_SIGN_PREDICATE ? 'attestation' : 'sigstore-bundle';
  }
  if (type === NOTARY_SIGNATURE) return 'notation';
  const tagged = tags.map((t) => accessoryTagSubject(t)?.kind).find(Boolean);
  if (tagged === 'att' || layerTypes.includes(DSSE_ENVELOPE) || type.includes('in-toto')) return 'attestation';
  if (tagged === 'sbom' || /spdx|cyclonedx|sbom/i.test(type)) return 'sbom';
  if (tagged === 'sig') return 'cosign';
  return undefined;
}

export function isSignature(kind: AccessoryKind | undefined): boolean {
  return kind === 'cosign' || kind === 'sigstore-bundle' || kind === 'notation';
}

/** The simple-signing signatures of a cosign signature manifest. */
export function simpleSignatures(m: ManifestLike): SimpleSignature[] {
  return (m.layers ?? [])
    .filter((l) => l.mediaType === SIMPLESIGNING && typeof l.annotations?.[SIGNATURE_ANNOTATION] === 'string')
    .map((l) => ({ payloadDigest: l.digest, payloadSize: l.size, signature: l.annotations![SIGNATURE_ANNOTATION]! }));
}

/** cosign's payload for signing `digest` of the image at `reference` (registry host/repository). */
export function simpleSigningPayload(reference: string, digest: string): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({ critical: { identity: { 'docker-reference': reference }, image: { 'docker-manifest-digest': digest }, type: COSIGN_SIGNATURE_TYPE }, optional: null }),
  );
}

const hashFor = (key: KeyObject) => (key.asymmetricKeyType === 'ed25519' ? null : 'sha256');

/** Signs a payload as cosign does: base64 of the DER ECDSA (or RSA PKCS#1 v1.5, or Ed25519) signature over it. */
export function signPayload(payload: Uint8Array, privateKey: KeyObject): string {
  return cryptoSign(hashFor(privateKey), payload, privateKey).toString('base64');
}

export type SignatureCheck =
  | { status: 'verified'; keyId: string }
  | { status: 'unverified'; reason: string }
  | { status: 'invalid'; reason: string };

/**
 * Checks one simple signing signature of `subject`: the payload's bytes have the digest the layer names, it is a cosign
 * image signature for exactly `subject`, and one of `keys` verifies the signature over those bytes.
 */
export function checkSimpleSignature(sig: SimpleSignature, payload: Uint8Array, subject: string, keys: { id: string; key: KeyObject }[]): SignatureCheck {
  const actual = `sha256:${createHash('sha256').update(payload).digest('hex')}`;
  if (actual !== sig.payloadDigest) return { status: 'invalid', reason: `the payload's digest is ${actual}, not ${sig.payloadDigest}` };
  let claims: { critical?: { type?: string; image?: { 'docker-manifest-digest'?: string } } };
  try {
    claims = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return { status: 'invalid', reason: 'the payload is not JSON' };
  }
  if (claims.critical?.type !== COSIGN_SIGNATURE_TYPE) return { status: 'invalid', reason: `the payload's type is "${claims.critical?.type}", not "${COSIGN_SIGNATURE_TYPE}"` };
  const signed = claims.critical.image?.['docker-manifest-digest'];
  if (signed !== subject) return { status: 'invalid', reason: `the payload signs ${signed}, not ${subject}` };
  const bytes = Buffer.from(sig.signature, 'base64');
  for (const k of keys) {
    try {
      if (cryptoVerify(hashFor(k.key), payload, k.key, bytes)) return { status: 'verified', keyId: k.id };
    } catch {
      // a key of another type cannot verify it: try the next
    }
  }
  return { status: 'unverified', reason: keys.length ? 'none of the registered public keys verifies the signature' : 'no public key is registered to verify it with' };
}
