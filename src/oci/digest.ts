import { createHash } from 'node:crypto';
import { NcrError } from './errors.js';

/** Content digests as the OCI image spec defines them, limited to the algorithms ncr verifies. */
export type DigestAlgorithm = 'sha256' | 'sha512';

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const SUPPORTED = Object.keys(HEX_LENGTH) as DigestAlgorithm[];

function show(s: string): string {
  return JSON.stringify(s.length > 150 ? `${s.slice(0, 150)}...` : s);
}

/**
 * Splits `algorithm:hex`, accepting only `sha256:<64 lowercase hex>` and `sha512:<128 lowercase hex>`.
 * Throws NcrError DIGEST_INVALID saying what is wrong (no colon, unsupported algorithm, bad length or characters).
 */
export function parseDigest(s: string): { algorithm: DigestAlgorithm; hex: string } {
  const colon = s.indexOf(':');
  if (colon < 0) {
    throw new NcrError(
      'DIGEST_INVALID',
      `digest ${show(s)} is invalid: write it as ALGORITHM:HEX, e.g. sha256: followed by 64 lowercase hex characters`,
    );
  }
  const algorithm = s.slice(0, colon);
  const hex = s.slice(colon + 1);
  if (!Object.hasOwn(HEX_LENGTH, algorithm)) {
    throw new NcrError(
      'DIGEST_INVALID',
      `digest ${show(s)} uses unsupported algorithm ${show(algorithm)}: supported algorithms are ${SUPPORTED.join(', ')}`,
    );
  }
  const alg = algorithm as DigestAlgorithm;
  const want = HEX_LENGTH[alg];
  if (hex.length !== want || !/^[0-9a-f]+$/.test(hex)) {
    const hint = /^[0-9a-fA-F]+$/.test(hex) && /[A-F]/.test(hex) ? ' (uppercase hex is not allowed)' : '';
    throw new NcrError(
      'DIGEST_INVALID',
      `digest ${show(s)} is invalid: ${alg} digests need exactly ${want} lowercase hex characters [0-9a-f] after "${alg}:", got ${hex.length}${hint}`,
    );
  }
  return { algorithm: alg, hex };
}

/** True when parseDigest would accept `s`; never throws. */
export function isDigest(s: string): boolean {
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}

/** Hashes `data` (strings as UTF-8) and returns `algorithm:hex` in lowercase hex; defaults to sha256. */
export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}
