import type { Readable } from 'node:stream';

/**
 * The BlobStore contract: content-addressed blob bytes plus the scratch space of uploads in progress, kept on a
 * local filesystem (fs/) or in an S3-compatible bucket (s3/: objects, multipart uploads, ETags). Nothing outside a driver
 * knows where or how bytes are kept. What callers act on is thrown as the typed errors at the end of this file, whose
 * messages name no path or bucket; any other rejection is a storage failure, whose message may well name one: callers
 * log it and never show it to a client.
 *
 * Digests are `algorithm:hex` and already validated; upload ids are `[A-Za-z0-9_-]+` and chosen by the caller.
 * A committed blob is never partially visible: it appears whole, under its digest, or not at all.
 *
 * Garbage collection and the ordering rule that makes it safe: a blob's link row is committed in the metadata
 * database (after `commitUpload` resolved, or after a mount saw the blob with `stat`) before the blob is considered
 * referenced; GC deletes only blobs older than its safe window (by `modifiedAt`, hours) that no link references, so a
 * blob written but not yet linked is never collected while its upload is young. `commitUpload` leaves `modifiedAt`
 * no earlier than a minute before the commit, also when the blob already existed, so the window counts from the
 * commit and not from an upload's first bytes.
 */
export interface BlobStore {
  /** Size and last-modified time (epoch ms, the driver's clock) of a committed blob, or undefined when it does not exist. */
  stat(digest: string): Promise<{ size: number; modifiedAt: number } | undefined>;
  /**
   * Streams a committed blob, or the inclusive byte range of it (which must lie within the blob). Rejects with
   * BlobNotFoundError when the blob does not exist (before any byte is streamed, so a caller can still answer 404).
   * Chunks may be lent from the driver's buffer pool: see BlobBody.
   */
  read(digest: string, range?: { start: number; end: number }): Promise<BlobBody>;
  /**
   * A URL a client may fetch the committed blob from directly, valid for `expiresInSeconds` (a presigned object-store
   * URL), or undefined when the driver serves bytes only through `read` (fs). `private`: for a client on ncr's private
   * endpoint: a URL on the store's private address, whenever the store can presign one (redirects for public clients
   * may be off). Does not check that the blob exists.
   */
  redirectUrl(digest: string, opts: { expiresInSeconds: number; private?: boolean }): Promise<string | undefined>;
  /** Removes a committed blob; removing an absent one is not an error. Readers already streaming it may finish. */
  delete(digest: string): Promise<void>;
  /**
   * One page of all committed blobs in digest order (plain string order of `algorithm:hex`), at most `limit` (>= 1),
   * starting after `cursor` (the `next` of the previous page; omitted for the first). `next` is absent on the last
   * page. Blobs committed or deleted while paging may or may not appear; every blob present throughout appears once.
   */
  list(opts: { cursor?: string; limit: number }): Promise<{ digests: BlobInfo[]; next?: string }>;

  /**
   * Creates an empty upload under a new `id` and returns its state. Calling it again for an id that exists returns
   * that upload's current state (a retried create is harmless).
   */
  createUpload(id: string): Promise<UploadState>;
  /** Where the upload stands now, as any process sharing the storage sees it. Throws UploadNotFoundError. */
  uploadStatus(id: string): Promise<UploadState>;
  /**
   * Appends `source` to the upload and resolves with its new state. `state` is the one the caller last read (from
   * `createUpload`, `uploadStatus` or the previous append): when the upload is no longer there, because another
   * writer (in any process) moved it or is writing to it now, rejects with UploadOffsetMismatchError without
   * writing. Writers never interleave. When `source` fails (an error, or a byte count the caller refuses by
   * destroying it) the upload is left at `state` and the source's error is rethrown: a session never holds half a
   * chunk. `flush`: the bytes are on stable storage when it resolves (the last chunk before a commit; the commit
   * then need not flush them again). `source` is read to its end, or destroyed when the append fails; its errors are
   * handled from the moment of the call. Throws UploadNotFoundError.
   */
  appendUpload(id: string, state: UploadState, source: Readable, opts?: { flush?: boolean }): Promise<UploadState>;
  /**
   * Streams exactly the first `state.size` bytes of the upload (to rebuild a hash whose running state was lost).
   * Throws UploadNotFoundError; the stream fails if the upload holds fewer bytes.
   */
  readUpload(id: string, state: UploadState): Promise<Readable>;
  /**
   * Makes the upload's bytes as `state` describes them durable as the blob `digest`, then removes the upload; bytes
   * appended after `state` was read are discarded. The caller has verified the digest. When the blob already exists
   * the result is the same blob (same digest, same bytes): committing twice is harmless. Resolves only once the blob
   * is on stable storage. Throws UploadNotFoundError, and UploadOffsetMismatchError while another writer holds the
   * upload or when it holds fewer bytes than `state`.
   */
  commitUpload(id: string, state: UploadState, digest: string): Promise<void>;
  /**
   * Optional, for stores that can keep bytes invisible until they are complete (an object store's multipart upload
   * at the blob's key): stores `source` as the blob `digest` in one go, without an upload session. `verify` is
   * called once `source` has ended; the blob becomes visible only after it resolved, and when it or `source` rejects,
   * nothing is stored (an existing blob of that digest stays as it was) and that error is rethrown. Resolves with the
   * blob's size once it is on stable storage, with `modifiedAt` as `commitUpload` leaves it. Callers without it use
   * an upload session. `length`, when the caller knows it (the request's Content-Length), lets a store send the
   * bytes in one request as they arrive.
   */
  putBlob?(digest: string, source: Readable, verify: () => Promise<void>, length?: number): Promise<number>;
  /** Discards an upload and everything kept for it; discarding an absent one is not an error. */
  abortUpload(id: string): Promise<void>;
  /**
   * One page of the uploads in progress (or their remains), in id order, at most `limit` (>= 1), starting after
   * `cursor`; `next` is absent on the last page. `lastWrittenAt` is when the upload last changed, by the driver's
   * clock (epoch ms): callers compare it with their own times, allowing for skew.
   */
  listUploads(opts: { cursor?: string; limit: number }): Promise<{ uploads: UploadInfo[]; next?: string }>;

  /** Resolves when the store is reachable and writable; rejects otherwise (used by /readyz). */
  ping(): Promise<void>;
}

/** A value that survives JSON.stringify / JSON.parse unchanged. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * Where an upload stands, as its driver records it: JSON-serialisable and opaque beyond `size`. Callers keep the value
 * a method returned and hand it back unchanged; they never build or edit one. (fs: `{size}`; an object store would add
 * its multipart upload id and the parts with their ETags.)
 */
export interface UploadState {
  /** Bytes the upload holds. */
  readonly size: number;
  readonly [driverField: string]: JsonValue;
}

/**
 * A stream of a blob's bytes whose chunks may be lent from the driver's buffer pool (reused instead of allocated:
 * measured ~40% less server CPU per byte pulled, bench/PROFILE.md).
 */
export interface BlobBody {
  readonly stream: Readable;
  /**
   * Gives a chunk of `stream` back to the pool. Call it only once nothing refers to the chunk's bytes any more (e.g.
   * in the callback of the socket write that sent it, not when handing it to `write`): the pool refills it for the
   * next read. Optional: a chunk never given back is garbage-collected. Chunks of other streams are ignored.
   */
  release(chunk: Buffer): void;
}

export interface BlobInfo {
  digest: string;
  size: number;
  /** epoch ms, the driver's clock */
  modifiedAt: number;
}

export interface UploadInfo {
  id: string;
  /** epoch ms, the driver's clock */
  lastWrittenAt: number;
}

/** The blob is not in the store. */
export class BlobNotFoundError extends Error {
  constructor(readonly digest: string) {
    super(`blob ${digest} is not in the store`);
    this.name = 'BlobNotFoundError';
  }
}

/** The upload is not in the store (finished, aborted, purged or never created). */
export class UploadNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`upload ${id} is not in the store`);
    this.name = 'UploadNotFoundError';
  }
}

/**
 * The upload is not where the caller's state says: another writer moved it since, or is writing to it now.
 * `actual` is its size as the driver saw it, when known (it may still be changing).
 */
export class UploadOffsetMismatchError extends Error {
  constructor(
    readonly id: string,
    readonly expected: number,
    readonly actual?: number,
  ) {
    super(`upload ${id} is not at byte ${expected}${actual === undefined ? '' : ` but at ${actual}`}, or another writer holds it`);
    this.name = 'UploadOffsetMismatchError';
  }
}

/**
 * Where an object-store driver keeps the state of its upload sessions: the metadata database, which every node shares
 * (an object store's own conditional writes are not on every S3-compatible server, and each of its requests costs
 * far more than a row). A state is replaced only by the writer that read its generation, so two nodes never both
 * append at one offset.
 */
export interface UploadRecords {
  /** Adds the session at generation 0; false when the id has one already. */
  insert(id: string, state: string, at: number): Promise<boolean>;
  get(id: string): Promise<{ gen: number; state: string; updatedAt: number } | undefined>;
  /** Replaces the state of generation `gen` with `state` at `gen + 1`; false when the session is gone or has moved on. */
  replace(id: string, gen: number, state: string, at: number): Promise<boolean>;
  /** Removes the session; resolves with the generation it was at (undefined: there was none). */
  delete(id: string): Promise<number | undefined>;
  /** Sessions after `cursor` in id order, at most `limit`, with when each was last written (epoch ms). */
  page(cursor: string | undefined, limit: number): Promise<{ id: string; updatedAt: number }[]>;
}
