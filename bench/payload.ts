/**
 * Blob contents for the push and pull scenarios: every blob is distinct (a random 32-byte head before bytes shared
 * by all blobs of its size), so neither registry can skip work by recognising a blob it already has, and no blob
 * is copied in memory to make it distinct. Digests are computed before the clock starts.
 */
import { randomBytes } from 'node:crypto';
import { sha256 } from './client.js';

const HEAD = 32;
const shared = new Map<number, Buffer>();

function tail(size: number): Buffer {
  let b = shared.get(size);
  if (!b) {
    b = randomBytes(size - HEAD);
    shared.set(size, b);
  }
  return b;
}

export interface Blob {
  /** the blob's bytes as [head, shared tail]; send back to back */
  parts: Buffer[];
  size: number;
  digest: string;
}

export function uniqueBlob(size: number): Blob {
  if (size <= HEAD) throw new Error(`blob size ${size} is too small`);
  const parts = [randomBytes(HEAD), tail(size)];
  return { parts, size, digest: sha256(...parts) };
}

export function uniqueBlobs(count: number, size: number): Blob[] {
  return Array.from({ length: count }, () => uniqueBlob(size));
}

/** The blob cut into `n` chunks of `chunkSize` bytes (the last one may be shorter), each as buffers back to back. */
export function chunksOf(blob: Blob, chunkSize: number): Buffer[][] {
  const out: Buffer[][] = [];
  const all = Buffer.concat(blob.parts);
  for (let off = 0; off < blob.size; off += chunkSize) out.push([all.subarray(off, Math.min(off + chunkSize, blob.size))]);
  return out;
}
