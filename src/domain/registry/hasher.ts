/**
 * Resumable digests: the hash state is saved after every chunk so an upload survives a restart and can continue
 * on another process. hash-wasm is used because its state can be saved and loaded.
 */
import { createSHA256, createSHA512, type IHasher } from 'hash-wasm';
import type { DigestAlgorithm } from '../../oci/digest.js';

export interface ResumableHash {
  algorithm: DigestAlgorithm;
  update(chunk: Uint8Array): void;
  /** Opaque saved state (base64) to pass to resumeHash later. */
  save(): string;
  /** `algorithm:hex` of everything fed so far. */
  digest(): string;
}

function wrap(algorithm: DigestAlgorithm, h: IHasher): ResumableHash {
  return {
    algorithm,
    update: (chunk) => void h.update(chunk),
    save: () => Buffer.from(h.save()).toString('base64'),
    digest: () => `${algorithm}:${h.digest('hex')}`,
  };
}

export async function newHash(algorithm: DigestAlgorithm = 'sha256'): Promise<ResumableHash> {
  const h = algorithm === 'sha512' ? await createSHA512() : await createSHA256();
  h.init();
  return wrap(algorithm, h);
}

/** Restores a hash from a saved state; throws when the state is not one of this algorithm's. */
export async function resumeHash(state: string, algorithm: DigestAlgorithm = 'sha256'): Promise<ResumableHash> {
  const h = algorithm === 'sha512' ? await createSHA512() : await createSHA256();
  h.init();
  h.load(Buffer.from(state, 'base64'));
  return wrap(algorithm, h);
}
