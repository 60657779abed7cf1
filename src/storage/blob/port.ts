import type { Readable } from 'node:stream';

/**
 * The BlobStore contract: content-addressed blob bytes plus the scratch space of uploads in progress.
 * Nothing outside a driver knows where or how bytes are kept. Digests are `algorithm:hex` and already validated.
 * A committed blob is never partially visible: it appears whole, under its digest, or not at all.
 */
export interface BlobStore {
  /** Size of a committed blob, or undefined when it does not exist. */
  stat(digest: string): Promise<{ size: number } | undefined>;
  /** Streams a committed blob, or the inclusive byte range of it. Rejects with code 'ENOENT' when it does not exist. */
  read(digest: string, range?: { start: number; end: number }): Promise<Readable>;
  /** Removes a committed blob; removing an absent one is not an error. */
  delete(digest: string): Promise<void>;

  /** Creates an empty upload area for a new session id; safe to call again for the same id. */
  createUpload(id: string): Promise<void>;
  /**
   * Writes `source` to the upload starting at `offset`, which the caller has read as the upload's current size.
   * Resolves with the new total size. If the source fails, the upload is cut back to `offset` and the error is
   * rethrown, so a session never holds half a chunk. `flush`: the bytes are on stable storage when it resolves (the
   * last chunk before a commit; the commit then need not flush them again).
   */
  appendUpload(id: string, offset: number, source: Readable, opts?: { flush?: boolean }): Promise<number>;
  /** Cuts the upload back to `size` bytes (a chunk that turned out shorter or longer than announced). */
  truncateUpload(id: string, size: number): Promise<void>;
  /** Current size of an upload's data, or undefined when the upload does not exist. */
  uploadSize(id: string): Promise<number | undefined>;
  /** Streams an upload's bytes from `start` (used to rebuild a hash whose saved state was lost). */
  readUpload(id: string, start?: number): Promise<Readable>;
  /**
   * Makes the upload's first `size` bytes durable as the blob `digest` (flushed to stable storage before resolving)
   * and removes the upload. If the blob already exists the upload is just removed. The caller has verified the digest.
   */
  commitUpload(id: string, digest: string, size: number): Promise<void>;
  /** Discards an upload; discarding an absent one is not an error. */
  deleteUpload(id: string): Promise<void>;
  /** Ids of uploads not written to since `before` (epoch ms), at most `limit`. */
  staleUploads(before: number, limit: number): Promise<string[]>;

  /** Resolves when the store is reachable and writable; rejects otherwise (used by /readyz). */
  ping(): Promise<void>;
}
