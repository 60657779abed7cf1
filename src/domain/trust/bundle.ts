/**
 * Sigstore bundles as cosign attaches them (`cosign sign --new-bundle-format`, cosign v3's default, and `cosign attest
 * --new-bundle-format`): an OCI 1.1 referrer with artifactType `application/vnd.dev.sigstore.bundle.v0.3+json` whose one
 * layer is the bundle's JSON. Read and verified here, offline, with `@sigstore/verify`.
 *
 * - An image signature is a DSSE envelope (payloadType `application/vnd.in-toto+json`) around an in-toto statement with
 *   predicateType `https://sigstore.dev/cosign/sign/v1` whose `subject[].digest` names the image's digest; any other
 *   predicate type makes the bundle an attestation. A `messageSignature` bundle signs the bytes of the subject itself
 *   (its `messageDigest` is the subject's digest).
 * - Verification is key-based: the registered public keys are the only trust anchors. The key's `hint` (base64 of the
 *   SHA-256 of the key's DER SubjectPublicKeyInfo, as cosign writes it) picks the key to try first; every key is tried.
 *   Transparency-log entries and timestamps in the bundle are not checked (ncr has no Rekor or TSA keys and no network
 *   access to them), and keyless bundles (a Fulcio certificate instead of a key) are not verified.
 */
import { createHash, createPublicKey as createPublicKeyOf, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { toSignedEntity, Verifier } from '@sigstore/verify';
import type { SignatureCheck } from './signatures.js';

export const SIGSTORE_BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** The predicate type of an image signature written by `cosign sign --new-bundle-format`. */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** Manifest annotation cosign sets on a bundle referrer: the in-toto predicate type inside. */
export const BUNDLE_PREDICATE_ANNOTATION = 'dev.sigstore.bundle.predicateType';

export interface ParsedBundle {
  bundle: Bundle;
  /** `dsse`: a DSSE envelope (in-toto statement); `message`: a signature over the subject's bytes */
  content: 'dsse' | 'message';
  /** the in-toto statement's predicate type (DSSE only) */
  predicateType: string | null;
  /** the digests (`alg:hex`) the bundle says it signs */
  subjects: string[];
  /** signed with a key (a hint), not a Fulcio certificate */
  keyed: boolean;
  hint: string | null;
}

/** Parses a bundle's JSON; throws an Error saying what is wrong when it is not a Sigstore bundle ncr can read. */
export function parseBundle(bytes: Uint8Array): ParsedBundle {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error('the bundle is not JSON');
  }
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(json);
  } catch (err) {
    throw new Error(`not a Sigstore bundle: ${(err as Error).message}`);
  }
  const material = bundle.verificationMaterial.content;
  const keyed = material.$case === 'publicKey';
  const hint = keyed ? material.publicKey.hint || null : null;
  if (bundle.content.$case === 'messageSignature') {
    const md = bundle.content.messageSignature.messageDigest;
    const alg = md && ({ 0: 'sha256', 1: 'sha256', 2: 'sha384', 3: 'sha512' } as Record<number, string>)[md.algorithm];
    return { bundle, content: 'message', predicateType: null, subjects: md && alg ? [`${alg}:${Buffer.from(md.digest).toString('hex')}`] : [], keyed, hint };
  }
  const env = bundle.content.dsseEnvelope;
  if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw new Error(`the DSSE payload type is "${env.payloadType}", not "${IN_TOTO_PAYLOAD_TYPE}"`);
  let statement: { predicateType?: unknown; subject?: { digest?: Record<string, unknown> }[] };
  try {
    statement = JSON.parse(Buffer.from(env.payload).toString('utf8'));
  } catch {
    throw new Error('the DSSE payload is not a JSON in-toto statement');
  }
  const subjects = (Array.isArray(statement.subject) ? statement.subject : []).flatMap((s) =>
    Object.entries(s?.digest ?? {}).filter(([, hex]) => typeof hex === 'string').map(([alg, hex]) => `${alg}:${String(hex).toLowerCase()}`),
  );
  return { bundle, content: 'dsse', predicateType: typeof statement.predicateType === 'string' ? statement.predicateType : null, subjects, keyed, hint };
}

/** Whether the bundle is an image signature (cosign's sign predicate, or a message signature) rather than an attestation. */
export function isSignatureBundle(p: ParsedBundle): boolean {
  return p.content === 'message' || p.predicateType === COSIGN_SIGN_PREDICATE;
}

/** cosign's key hint: base64 of the SHA-256 of the key's DER SubjectPublicKeyInfo. */
export function keyHint(key: KeyObject): string {
  return createHash('sha256').update(key.export({ format: 'der', type: 'spki' })).digest('base64');
}

/**
 * Checks a parsed bundle against `subject` (the artifact's digest; `subjectBytes` its manifest, which a message
 * signature signs): `invalid` when it signs another digest, or when the key its hint names does not verify it (changed
 * after signing); `verified` with the first of `keys` that verifies the signature; otherwise `unverified`.
 */
export function checkBundle(p: ParsedBundle, subject: string, subjectBytes: Uint8Array | undefined, keys: { id: string; key: KeyObject }[]): SignatureCheck {
  if (!p.subjects.includes(subject)) {
    return { status: 'invalid', reason: p.subjects.length ? `the bundle signs ${p.subjects.join(', ')}, not ${subject}` : 'the bundle names no subject digest' };
  }
  if (!p.keyed) return { status: 'unverified', reason: 'keyless (Fulcio certificate) bundles are recognised but not verified by ncr' };
  if (p.content === 'message' && !subjectBytes) return { status: 'unverified', reason: "the subject's manifest cannot be read to check the message signature" };
  // offline: the registered key is the trust anchor; log entries and timestamps are not checked (no Rekor or TSA keys)
  const entity = toSignedEntity({ ...p.bundle, verificationMaterial: { ...p.bundle.verificationMaterial, tlogEntries: [], timestampVerificationData: undefined } }, subjectBytes ? Buffer.from(subjectBytes) : undefined);
  const hinted = keys.filter((k) => p.hint !== null && keyHint(k.key) === p.hint);
  const ordered = [...hinted, ...keys.filter((k) => !hinted.includes(k))];
  for (const k of ordered) {
    const verifier = new Verifier(
      { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [], publicKey: () => ({ publicKey: k.key, validFor: () => true }) },
      { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 },
    );
    try {
      verifier.verify(entity);
      return { status: 'verified', keyId: k.id };
    } catch {
      // not this key: try the next
    }
  }
  if (hinted.length) return { status: 'invalid', reason: 'the signature does not verify with the key the bundle names: the bundle was changed after signing' };
  return { status: 'unverified', reason: keys.length ? 'none of the registered public keys verifies the bundle' : 'no public key is registered to verify it with' };
}

/** DSSE's pre-authentication encoding: what the envelope's signature signs. */
function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `), payload]);
}

/**
 * The bundle `cosign sign --new-bundle-format --key` makes for `digest` (`alg:hex`): a DSSE envelope around an in-toto
 * statement with cosign's sign predicate, signed with `privateKey`, the public key named by its hint; no log entry.
 */
export function cosignSignBundle(digest: string, privateKey: KeyObject): Uint8Array {
  const [alg, hex] = digest.split(':');
  const statement = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ digest: { [alg!]: hex } }], predicateType: COSIGN_SIGN_PREDICATE, predicate: {} }));
  const sig = cryptoSign(privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256', preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, statement), privateKey);
  const publicKey = createPublicKeyOf(privateKey);
  return new TextEncoder().encode(
    JSON.stringify({
      mediaType: SIGSTORE_BUNDLE_V03,
      verificationMaterial: { publicKey: { hint: keyHint(publicKey) } },
      dsseEnvelope: { payload: statement.toString('base64'), payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig: sig.toString('base64') }] },
    }),
  );
}

/** The OCI 1.1 referrer cosign writes for a bundle blob of `subject` (empty config, the one layer, cosign's annotations). */
export function bundleReferrer(subject: { mediaType: string; digest: string; size: number }, bundle: { digest: string; size: number }, emptyConfigDigest: string, createdAt: Date): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2, digest: emptyConfigDigest, artifactType: SIGSTORE_BUNDLE_V03 },
    layers: [{ mediaType: SIGSTORE_BUNDLE_V03, size: bundle.size, digest: bundle.digest }],
    annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope', [BUNDLE_PREDICATE_ANNOTATION]: COSIGN_SIGN_PREDICATE, 'org.opencontainers.image.created': createdAt.toISOString().replace(/\.\d+Z$/, 'Z') },
    subject,
    artifactType: SIGSTORE_BUNDLE_V03,
  });
}
