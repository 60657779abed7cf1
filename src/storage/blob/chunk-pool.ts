/**
 * Read buffers for blob streams, reused instead of allocated per read. A fresh 256 KiB buffer per read costs page
 * faults and garbage collection; pulling through reused buffers measured ~40% less server CPU per byte here
 * (bench/PROFILE.md). A store's stream lends each chunk it pushes, and hands `releaseChunk` out as the `release` of
 * its BlobBody (port.ts): a consumer that knows when the bytes have left (the HTTP layer, in the socket write's
 * callback) gives the chunk back through it. A consumer that does not (a test reading the stream, a pipe) simply
 * never releases, and the buffer is garbage-collected as usual. Only drivers import this file.
 */
export const CHUNK_SIZE = 256 * 1024;
/** Free buffers kept at most (8 MiB): enough for dozens of pulls at once without holding memory after a burst. */
const MAX_FREE = 32;

const free: Buffer[] = [];
const lent = new WeakMap<Buffer, Buffer>();

/** A buffer of CHUNK_SIZE bytes, reused when one is free. Its contents are whatever was there before. */
export function takeChunkBuffer(): Buffer {
  return free.pop() ?? Buffer.allocUnsafeSlow(CHUNK_SIZE);
}

/** Returns a buffer that was never handed out (a read that failed or came back empty). */
export function giveBackChunkBuffer(buf: Buffer): void {
  if (free.length < MAX_FREE && buf.length === CHUNK_SIZE) free.push(buf);
}

/** Marks `chunk` (the buffer, or a view of its first bytes) as lent from the pool buffer `buf`. */
export function lendChunk(chunk: Buffer, buf: Buffer): Buffer {
  lent.set(chunk, buf);
  return chunk;
}

/**
 * Gives a lent chunk back: call only once nothing refers to its bytes any more. Chunks that were not lent are
 * ignored, so a consumer may call this for every chunk of any stream.
 */
export function releaseChunk(chunk: Buffer): void {
  const buf = lent.get(chunk);
  if (!buf) return;
  lent.delete(chunk);
  giveBackChunkBuffer(buf);
}
