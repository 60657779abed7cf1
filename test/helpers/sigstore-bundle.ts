/**
 * Sigstore bundles built as cosign v3 builds them (`cosign sign --new-bundle-format --key cosign.key`, `cosign attest
 * --new-bundle-format`), with node:crypto only, independently of ncr's reader: a DSSE envelope around an in-toto
 * statement (protojson field names, base64 bytes), the key's hint (base64 SHA-256 of its DER SubjectPublicKeyInfo), and
 * the OCI 1.1 referrer manifest cosign's WriteReferrer puts it in.
 */
import { createHash, sign, type KeyObject } from 'node:crypto';

export const BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
export const EMPTY_JSON_DIGEST = `sha256:${createHash('sha256').update('{}').digest('hex')}`;

/** The in-toto statement cosign signs for `digest` (`sha256:<hex>`). */
export function inTotoStatement(digest: string, predicateType = SIGN_PREDICATE, predicate: object = {}): Buffer {
  const [alg, hex] = digest.split(':');
  return Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ digest: { [alg!]: hex }, annotations: {} }], predicateType, predicate }));
}

const hashFor = (key: KeyObject) => (key.asymmetricKeyType === 'ed25519' ? null : 'sha256');
export const hintOf = (pub: KeyObject) => createHash('sha256').update(pub.export({ format: 'der', type: 'spki' })).digest('base64');

interface BundleOptions {
  /** the key's hint; default: the hint of `publicKey` */
  hint?: string;
  /** add a Rekor entry as cosign does when it uploads to the transparency log (ncr does not check it) */
  tlogEntry?: boolean;
}

function material(publicKey: KeyObject, o: BundleOptions) {
  return {
    publicKey: { hint: o.hint ?? hintOf(publicKey) },
    ...(o.tlogEntry
      ? {
          tlogEntries: [
            {
              logIndex: '4242',
              logId: { keyId: Buffer.alloc(32, 7).toString('base64') },
              kindVersion: { kind: 'dsse', version: '0.0.1' },
              integratedTime: '1760000000',
              inclusionPromise: { signedEntryTimestamp: Buffer.alloc(70, 1).toString('base64') },
              inclusionProof: { logIndex: '4242', rootHash: Buffer.alloc(32, 3).toString('base64'), treeSize: '5000', hashes: [Buffer.alloc(32, 4).toString('base64')], checkpoint: { envelope: 'rekor.sigstore.dev - 1\n5000\nAwMD\n' } },
              canonicalizedBody: Buffer.from('{"kind":"dsse"}').toString('base64'),
            },
          ],
        }
      : {}),
  };
}

/** A DSSE bundle of `payload` (an in-toto statement) signed with `privateKey`, as JSON. */
export function dsseBundle(payload: Buffer, privateKey: KeyObject, publicKey: KeyObject, o: BundleOptions = {}): Record<string, unknown> {
  const type = 'application/vnd.in-toto+json';
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${payload.length} `), payload]);
  const sig = sign(hashFor(privateKey), pae, privateKey);
  return {
    mediaType: BUNDLE_V03,
    verificationMaterial: material(publicKey, o),
    dsseEnvelope: { payload: payload.toString('base64'), payloadType: type, signatures: [{ sig: sig.toString('base64') }] },
  };
}

/** A message-signature bundle over `artifact` (here: the subject's manifest bytes), as `cosign sign-blob` writes. */
export function messageBundle(artifact: Buffer, privateKey: KeyObject, publicKey: KeyObject, o: BundleOptions = {}): Record<string, unknown> {
  return {
    mediaType: BUNDLE_V03,
    verificationMaterial: material(publicKey, o),
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(artifact).digest('base64') },
      signature: sign(hashFor(privateKey), artifact, privateKey).toString('base64'),
    },
  };
}

/** The referrer manifest cosign writes for a bundle blob (empty config, one layer, the bundle annotations). */
export function bundleManifest(subject: { mediaType: string; digest: string; size: number }, bundle: { digest: string; size: number }, predicateType: string | null = SIGN_PREDICATE): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2, digest: EMPTY_JSON_DIGEST, artifactType: BUNDLE_V03 },
    layers: [{ mediaType: BUNDLE_V03, size: bundle.size, digest: bundle.digest }],
    annotations: {
      'dev.sigstore.bundle.content': predicateType ? 'dsse-envelope' : 'message-signature',
      ...(predicateType ? { 'dev.sigstore.bundle.predicateType': predicateType } : {}),
      'org.opencontainers.image.created': new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    },
    subject,
    artifactType: BUNDLE_V03,
  });
}
