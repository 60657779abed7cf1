/**
 * Blob uploads (the spec's POST / PATCH / PUT / GET / DELETE on /blobs/uploads). A session is an upload in the
 * BlobStore, named by an id that starts with the repository's id; where it stands is the store's upload state (read
 * afresh for each request), so no metadata write (and no database fsync) is paid per chunk, and any process sharing
 * the storage can continue it. Bytes stream through a SHA-256 kept in this process; when a session continues elsewhere
 * (after a restart, or on another node) the hash is rebuilt from the stored bytes, at the cost of one re-read.
 * Writers to one session are serialised here in-process, and across processes by the store (a writer that finds the
 * session moved gets 416 with the Range it is at).
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { LRUCache } from 'lru-cache';
import { parseDigest, type DigestAlgorithm } from '../../oci/digest.js';
import { NcrError } from '../../oci/errors.js';
import { UploadNotFoundError, UploadOffsetMismatchError, type BlobStore, type UploadState } from '../../storage/blob/port.js';
import type { Clock } from '../clock.js';
import type { Actor } from '../events.js';
import type { RegistryCoreStores, Repository, Upload } from './ports.js';
import type { AfterLink, QuotaGate } from './quota.js';
import type { RepositoryResolver } from './repository-resolver.js';

const SYSTEM: Actor = { userId: null, username: 'system' };

/** `<repository id, 32 hex><random, 32 hex>` */
const ID = /^([0-9a-f]{32})([0-9a-f]{32})$/;

export class UploadService {
  /** One writer per session at a time in this process. */
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Running hashes of this process's sessions and the offset each covers. */
  private readonly live = new LRUCache<string, { hash: Hash; offset: number }>({ max: 10_000, ttl: 24 * 3600_000 });

  constructor(
    private readonly stores: RegistryCoreStores,
    private readonly blobStore: BlobStore,
    private readonly resolver: RepositoryResolver,
    private readonly clock: Clock,
    private readonly quota?: QuotaGate,
  ) {}

  /** Opens a session in the repository (created on first push; its registry must exist). */
  async start(repoName: string): Promise<Upload> {
    const repo = await this.resolver.forPush(repoName);
    const id = hex(repo.id) + newId();
    const state = await this.blobStore.createUpload(id);
    return { id, repositoryId: repo.id, offset: state.size };
  }

  /** The session, checked to belong to the repository; throws BLOB_UPLOAD_UNKNOWN otherwise. */
  async get(repoName: string, id: string): Promise<Upload> {
    const { upload } = await this.session(repoName, id);
    return upload;
  }

  /**
   * Appends a chunk. When `range` is given its start must equal the current offset: RANGE_INVALID otherwise, whose
   * detail `{ uploadId, offset }` says where the session stands. When `length` is given the body must have exactly
   * that many bytes.
   */
  async append(repoName: string, id: string, body: Readable, range?: { start: number; end?: number }, length?: number): Promise<Upload> {
    return this.exclusive(id, async () => {
      const { upload, state } = await this.session(repoName, id);
      if (range && range.start !== state.size) {
        body.resume();
        throw rangeInvalid(id, state.size, `chunk starts at byte ${range.start} but the upload holds ${state.size} bytes: send the chunk that starts at ${state.size}`);
      }
      const expected = length ?? (range?.end !== undefined ? range.end - range.start + 1 : undefined);
      const next = await this.write(repoName, id, state, body, expected, false);
      return { ...upload, offset: next.size };
    });
  }

  /** Finishes the session: optional last chunk, digest check, durable commit, link into the repository. */
  async finish(repoName: string, id: string, digest: string, body?: Readable, length?: number, actor: Actor = SYSTEM): Promise<{ digest: string; size: number }> {
    const { algorithm } = parseDigest(digest);
    return this.exclusive(id, async () => {
      const session = await this.session(repoName, id);
      if (body && session.state.size === 0 && this.blobStore.putBlob) {
        // the whole blob in this request (POST, then PUT with the body): straight to its place, no session bytes
        try {
          const { size, afterLink } = await this.put(digest, body, length, (n) => this.quotaFor(session.repo, digest, n, actor));
          const now = this.clock.now();
          await this.stores.blobs.link(session.upload.repositoryId, digest, size, now, now);
          await afterLink();
          return { digest, size };
        } finally {
          await this.blobStore.abortUpload(id).catch(() => undefined);
          this.live.delete(id);
        }
      }
      const state = body ? await this.write(repoName, id, session.state, body, length, true) : session.state;
      await this.verify(repoName, id, state, algorithm, digest);
      const afterLink = await this.admit(session.repo, id, digest, state.size, actor);
      await this.blobStore.commitUpload(id, state, digest).catch((err: unknown) => rethrow(err, repoName, id, state));
      // the bytes are committed before the link row that references them (the GC ordering rule, storage/blob/port.ts)
      const now = this.clock.now();
      await this.stores.blobs.link(session.upload.repositoryId, digest, state.size, now, now);
      await afterLink();
      this.live.delete(id);
      return { digest, size: state.size };
    });
  }

  /** Monolithic upload in one request (POST ?digest=): the same, without a session a client could see. */
  async monolithic(repoName: string, digest: string, body: Readable, length?: number, actor: Actor = SYSTEM): Promise<{ digest: string; size: number }> {
    return this.oneShot(repoName, digest, body, length, false, actor);
  }

  /**
   * The image cache's write of a blob it is pulling from its source (also into a cache registry): streamed into the
   * store as it arrives, digest checked, committed and linked; a failed or abandoned fill leaves nothing behind. A
   * cache registry's quota holds for it too.
   */
  async fill(repoName: string, digest: string, body: Readable, length?: number, actor: Actor = SYSTEM): Promise<{ digest: string; size: number }> {
    return this.oneShot(repoName, digest, body, length, true, actor);
  }

  private async oneShot(repoName: string, digest: string, body: Readable, length: number | undefined, pulled: boolean, actor: Actor): Promise<{ digest: string; size: number }> {
    const { algorithm } = parseDigest(digest);
    const repo = await this.resolver.forPush(repoName, { pulled });
    if (this.blobStore.putBlob) {
      const { size, afterLink } = await this.put(digest, body, length, (n) => this.quotaFor(repo, digest, n, actor));
      const now = this.clock.now();
      await this.stores.blobs.link(repo.id, digest, size, now, now);
      await afterLink();
      return { digest, size };
    }
    const id = hex(repo.id) + newId();
    const created = await this.blobStore.createUpload(id);
    try {
      const state = await this.write(repoName, id, created, body, length, true);
      await this.verify(repoName, id, state, algorithm, digest);
      const afterLink = await this.admit(repo, id, digest, state.size, actor);
      await this.blobStore.commitUpload(id, state, digest).catch((err: unknown) => rethrow(err, repoName, id, state));
      const now = this.clock.now();
      await this.stores.blobs.link(repo.id, digest, state.size, now, now);
      await afterLink();
      return { digest, size: state.size };
    } catch (err) {
      await this.blobStore.abortUpload(id).catch(() => undefined);
      throw err;
    } finally {
      this.live.delete(id);
    }
  }

  /**
   * The registry's quota lets the blob in, or the upload is discarded (its bytes would only wait for the purge) and
   * DENIED is thrown.
   */
  private async admit(repo: Repository, id: string, digest: string, size: number, actor: Actor): Promise<AfterLink> {
    try {
      return await this.quotaFor(repo, digest, size, actor);
    } catch (err) {
      await this.blobStore.abortUpload(id).catch(() => undefined);
      this.live.delete(id);
      throw err;
    }
  }

  /** The quota's verdict on the blob (DENIED when it would go over), and what to call once it is linked. */
  private async quotaFor(repo: Repository, digest: string, size: number, actor: Actor): Promise<AfterLink> {
    if (!this.quota) return async () => undefined;
    return this.quota.admit(repo, digest, size, actor);
  }

  async cancel(repoName: string, id: string): Promise<void> {
    const { upload } = await this.session(repoName, id);
    await this.blobStore.abortUpload(upload.id);
    this.live.delete(upload.id);
  }

  /** Discards sessions idle for longer than `maxIdleMs` (abandoned pushes); returns how many. */
  async purgeStale(maxIdleMs: number): Promise<number> {
    const before = this.clock.now() - maxIdleMs;
    let purged = 0;
    let cursor: string | undefined;
    do {
      const page = await this.blobStore.listUploads({ cursor, limit: 500 });
      for (const { id, lastWrittenAt } of page.uploads) {
        if (lastWrittenAt >= before || this.locks.has(id)) continue;
        await this.blobStore.abortUpload(id);
        this.live.delete(id);
        purged++;
      }
      cursor = page.next;
    } while (cursor !== undefined);
    return purged;
  }

  /** The session and where it stands; BLOB_UPLOAD_UNKNOWN when it is not in this repository. */
  private async session(repoName: string, id: string): Promise<{ upload: Upload; state: UploadState; repo: Repository }> {
    const m = ID.exec(id);
    const repo = m ? await this.stores.repositories.getByName(repoName) : undefined;
    let state: UploadState | undefined;
    if (repo && hex(repo.id) === m![1]) {
      try {
        state = await this.blobStore.uploadStatus(id);
      } catch (err) {
        if (!(err instanceof UploadNotFoundError)) throw err;
      }
    }
    if (!repo || !state) throw uploadUnknown(repoName, id);
    return { upload: { id, repositoryId: repo.id, offset: state.size }, state, repo };
  }

  /**
   * Streams `body` into the upload after `state` through the running hash; resolves with the new state. `last`: the
   * chunk a commit follows, so its bytes are flushed to disk as they are closed. A body that fails, or has more or
   * fewer bytes than `expected`, leaves the upload at `state`.
   */
  private async write(repoName: string, id: string, state: UploadState, body: Readable, expected: number | undefined, last: boolean): Promise<UploadState> {
    const hash = (await this.hashAt(repoName, id, state)).copy();
    let seen = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        seen += chunk.length;
        if (expected !== undefined && seen > expected) return cb(new NcrError('SIZE_INVALID', `the body is longer than the ${expected} bytes its Content-Length or Content-Range announced; resend the chunk from byte ${state.size}`));
        hash.update(chunk);
        cb(null, chunk);
      },
      // failing here, before the store sees the end, makes the store drop the short chunk
      flush(cb) {
        if (expected !== undefined && seen !== expected) return cb(new NcrError('SIZE_INVALID', `the body had ${seen} bytes but ${expected} were announced; resend the chunk from byte ${state.size}`));
        cb();
      },
    });
    let bodyFailed = false;
    body.on('error', (err) => {
      bodyFailed = true;
      tap.destroy(err);
    });
    let next: UploadState;
    try {
      next = await this.blobStore.appendUpload(id, state, body.pipe(tap), { flush: last });
    } catch (err) {
      // whatever the client still sends is read and dropped, so the response can go out on a usable connection
      body.unpipe(tap);
      body.resume();
      if (err instanceof NcrError) throw err;
      if (bodyFailed) {
        throw new NcrError('BLOB_UPLOAD_INVALID', `the request body broke off before the chunk was complete; the upload still holds ${state.size} bytes: resend the chunk from there`, { cause: err });
      }
      rethrow(err, repoName, id, state);
    }
    this.live.set(id, { hash, offset: next.size });
    return next;
  }

  /**
   * Streams a whole blob in one request straight to the store (`putBlob`), through a hash of the digest's algorithm:
   * the store makes it visible only once the body had `expected` bytes (when given) and the digest matched.
   */
  private async put(digest: string, body: Readable, expected: number | undefined, admit: (size: number) => Promise<AfterLink>): Promise<{ size: number; afterLink: AfterLink }> {
    const { algorithm } = parseDigest(digest);
    const hash = createHash(algorithm);
    let seen = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        seen += chunk.length;
        if (expected !== undefined && seen > expected) return cb(new NcrError('SIZE_INVALID', `the body is longer than the ${expected} bytes its Content-Length announced; upload the blob again`));
        hash.update(chunk);
        cb(null, chunk);
      },
      flush(cb) {
        if (expected !== undefined && seen !== expected) return cb(new NcrError('SIZE_INVALID', `the body had ${seen} bytes but ${expected} were announced; upload the blob again`));
        cb();
      },
    });
    let bodyFailed = false;
    body.on('error', (err) => {
      bodyFailed = true;
      tap.destroy(err);
    });
    try {
      let afterLink: AfterLink = async () => undefined;
      const size = await this.blobStore.putBlob!(digest, body.pipe(tap), async () => {
        const actual = `${algorithm}:${hash.digest('hex')}`;
        if (actual !== digest) throw new NcrError('DIGEST_INVALID', `the uploaded ${seen} bytes have digest ${actual}, not ${digest}: check what was sent and upload again`, { detail: { expected: digest, actual } });
        // over the registry's quota: DENIED, and the store never shows the blob
        afterLink = await admit(seen);
      }, expected);
      return { size, afterLink };
    } catch (err) {
      body.unpipe(tap);
      body.resume();
      if (err instanceof NcrError) throw err;
      if (bodyFailed) throw new NcrError('BLOB_UPLOAD_INVALID', 'the request body broke off before the blob was complete: upload it again', { cause: err });
      throw err;
    }
  }

  /** The SHA-256 of the upload's bytes up to `state`: the live one, or rebuilt from the stored bytes. */
  private async hashAt(repoName: string, id: string, state: UploadState): Promise<Hash> {
    const entry = this.live.get(id);
    if (entry && entry.offset === state.size) return entry.hash;
    const hash = await hashStored(this.blobStore, id, state, 'sha256').catch((err: unknown) => rethrow(err, repoName, id, state));
    this.live.set(id, { hash, offset: state.size });
    return hash;
  }

  private async verify(repoName: string, id: string, state: UploadState, algorithm: DigestAlgorithm, expected: string): Promise<void> {
    const hash =
      algorithm === 'sha256'
        ? (await this.hashAt(repoName, id, state)).copy()
        : await hashStored(this.blobStore, id, state, algorithm).catch((err: unknown) => rethrow(err, repoName, id, state));
    const actual = `${algorithm}:${hash.digest('hex')}`;
    if (actual !== expected) {
      throw new NcrError('DIGEST_INVALID', `the uploaded ${state.size} bytes have digest ${actual}, not ${expected}: check what was sent and upload again`, { detail: { expected, actual } });
    }
  }

  private async exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(fn);
    this.locks.set(id, run);
    try {
      return await run;
    } finally {
      if (this.locks.get(id) === run) this.locks.delete(id);
    }
  }
}

function uploadUnknown(repoName: string, id: string): NcrError {
  return new NcrError('BLOB_UPLOAD_UNKNOWN', `upload session ${id} is not known in ${repoName}: it was finished, cancelled or never started; start a new upload`);
}

/** http adds the Range, Location and Docker-Upload-UUID headers from the detail (http/errors.ts). */
function rangeInvalid(id: string, offset: number, message: string): NcrError {
  return new NcrError('RANGE_INVALID', message, { detail: { uploadId: id, offset } });
}

/**
 * A store failure as the client should see it: the typed ones as the spec's codes; anything else goes up unchanged for
 * http/errors.ts, which logs it and answers UNAVAILABLE or INTERNAL without its message (it can name server paths).
 */
function rethrow(err: unknown, repoName: string, id: string, state: UploadState): never {
  if (err instanceof NcrError) throw err;
  if (err instanceof UploadNotFoundError) throw uploadUnknown(repoName, id);
  if (err instanceof UploadOffsetMismatchError) {
    const at = err.actual ?? state.size;
    throw rangeInvalid(id, at, `another request to upload session ${id} moved it (or is writing to it) meanwhile: it holds ${at} bytes; send one chunk at a time, the next from byte ${at}`);
  }
  throw err;
}

function newId(): string {
  return randomUUID().replace(/-/g, '');
}

/** A repository id (a UUID) as 32 hex digits. */
function hex(uuid: string): string {
  return uuid.replace(/-/g, '');
}

async function hashStored(store: BlobStore, id: string, state: UploadState, algorithm: DigestAlgorithm): Promise<Hash> {
  const hash = createHash(algorithm);
  if (state.size === 0) return hash;
  const stream = await store.readUpload(id, state);
  for await (const chunk of stream as AsyncIterable<Buffer>) hash.update(chunk);
  return hash;
}
