/**
 * Blob uploads (the spec's POST / PATCH / PUT / GET / DELETE on /blobs/uploads). A session is its bytes in the
 * BlobStore's upload area, named by an id that starts with the repository's id: its offset is the stored size, so no
 * metadata write (and no database fsync) is paid per chunk, and any process sharing the storage can continue it.
 * Bytes stream through a SHA-256 kept in this process; when a session continues elsewhere (after a restart, or on
 * another node) the hash is rebuilt from the stored bytes, at the cost of one re-read.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { LRUCache } from 'lru-cache';
import { parseDigest, type DigestAlgorithm } from '../../oci/digest.js';
import { NcrError } from '../../oci/errors.js';
import type { BlobStore } from '../../storage/blob/port.js';
import type { Clock } from '../clock.js';
import type { RegistryCoreStores, Upload } from './ports.js';
import type { RepositoryResolver } from './repository-resolver.js';

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
  ) {}

  /** Opens a session in the repository (created on first push; its registry must exist). */
  async start(repoName: string): Promise<Upload> {
    const repo = await this.resolver.forPush(repoName);
    const upload: Upload = { id: hex(repo.id) + newId(), repositoryId: repo.id, offset: 0 };
    await this.blobStore.createUpload(upload.id);
    return upload;
  }

  /** The session, checked to belong to the repository; throws BLOB_UPLOAD_UNKNOWN otherwise. */
  async get(repoName: string, id: string): Promise<Upload> {
    const m = ID.exec(id);
    const repo = m ? await this.stores.repositories.getByName(repoName) : undefined;
    const offset = repo && hex(repo.id) === m![1] ? await this.blobStore.uploadSize(id) : undefined;
    if (!repo || offset === undefined) {
      throw new NcrError('BLOB_UPLOAD_UNKNOWN', `upload session ${id} is not known in ${repoName}: it was finished, cancelled or never started; start a new upload`);
    }
    return { id, repositoryId: repo.id, offset };
  }

  /**
   * Appends a chunk. When `range` is given its start must equal the current offset: RANGE_INVALID otherwise, whose
   * detail `{ uploadId, offset }` says where the session stands. When `length` is given the body must have exactly
   * that many bytes.
   */
  async append(repoName: string, id: string, body: Readable, range?: { start: number; end?: number }, length?: number): Promise<Upload> {
    return this.exclusive(id, async () => {
      const upload = await this.get(repoName, id);
      if (range && range.start !== upload.offset) {
        body.resume();
        throw new NcrError('RANGE_INVALID', `chunk starts at byte ${range.start} but the upload holds ${upload.offset} bytes: send the chunk that starts at ${upload.offset}`, {
          detail: { uploadId: id, offset: upload.offset },
        });
      }
      const expected = length ?? (range?.end !== undefined ? range.end - range.start + 1 : undefined);
      const offset = await this.write(upload.id, upload.offset, body, expected, false);
      return { ...upload, offset };
    });
  }

  /** Finishes the session: optional last chunk, digest check, durable commit, link into the repository. */
  async finish(repoName: string, id: string, digest: string, body?: Readable, length?: number): Promise<{ digest: string; size: number }> {
    const { algorithm } = parseDigest(digest);
    return this.exclusive(id, async () => {
      const upload = await this.get(repoName, id);
      const size = body ? await this.write(id, upload.offset, body, length, true) : upload.offset;
      await this.verify(id, size, algorithm, digest);
      await this.blobStore.commitUpload(id, digest, size);
      await this.stores.blobs.link(upload.repositoryId, digest, size, this.clock.now());
      this.live.delete(id);
      return { digest, size };
    });
  }

  /** Monolithic upload in one request (POST ?digest=): the same, without a session a client could see. */
  async monolithic(repoName: string, digest: string, body: Readable, length?: number): Promise<{ digest: string; size: number }> {
    const { algorithm } = parseDigest(digest);
    const repo = await this.resolver.forPush(repoName);
    const id = hex(repo.id) + newId();
    await this.blobStore.createUpload(id);
    try {
      const size = await this.write(id, 0, body, length, true);
      await this.verify(id, size, algorithm, digest);
      await this.blobStore.commitUpload(id, digest, size);
      await this.stores.blobs.link(repo.id, digest, size, this.clock.now());
      return { digest, size };
    } catch (err) {
      await this.blobStore.deleteUpload(id).catch(() => undefined);
      throw err;
    } finally {
      this.live.delete(id);
    }
  }

  async cancel(repoName: string, id: string): Promise<void> {
    const upload = await this.get(repoName, id);
    await this.blobStore.deleteUpload(upload.id);
    this.live.delete(upload.id);
  }

  /** Discards sessions idle for longer than `maxIdleMs` (abandoned pushes); returns how many. */
  async purgeStale(maxIdleMs: number): Promise<number> {
    let purged = 0;
    for (;;) {
      const ids = await this.blobStore.staleUploads(this.clock.now() - maxIdleMs, 500);
      for (const id of ids) {
        if (this.locks.has(id)) continue;
        await this.blobStore.deleteUpload(id);
        this.live.delete(id);
        purged++;
      }
      if (ids.length < 500) return purged;
    }
  }

  /**
   * Streams `body` into the upload at `offset` through the running hash; resolves with the new size. `last`: the
   * chunk a commit follows, so its bytes are flushed to disk as they are closed.
   */
  private async write(id: string, offset: number, body: Readable, expected: number | undefined, last: boolean): Promise<number> {
    const hash = (await this.hashAt(id, offset)).copy();
    let seen = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        seen += chunk.length;
        if (expected !== undefined && seen > expected) return cb(new NcrError('SIZE_INVALID', `the body is longer than the ${expected} bytes its Content-Length or Content-Range announced`));
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    let bodyFailed = false;
    body.on('error', (err) => {
      bodyFailed = true;
      tap.destroy(err);
    });
    let size: number;
    try {
      size = await this.blobStore.appendUpload(id, offset, body.pipe(tap), { flush: last });
    } catch (err) {
      if (err instanceof NcrError) throw err;
      // The store failing is not the client's doing: it goes up as it is (http/errors.ts answers UNAVAILABLE for a
      // full or failing disk, INTERNAL otherwise) and its message, which may name paths, is logged, not shown.
      if (!bodyFailed && !body.readableAborted && (err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err;
      throw new NcrError('BLOB_UPLOAD_INVALID', `the chunk was not received whole (the connection broke); the upload still holds ${offset} bytes, resend from there`, { cause: err });
    }
    if (expected !== undefined && seen !== expected) {
      await this.blobStore.truncateUpload(id, offset).catch(() => undefined);
      throw new NcrError('SIZE_INVALID', `the body had ${seen} bytes but ${expected} were announced; resend the chunk from byte ${offset}`);
    }
    this.live.set(id, { hash, offset: size });
    return size;
  }

  /** The SHA-256 of the upload's first `offset` bytes: the live one, or rebuilt from the stored bytes. */
  private async hashAt(id: string, offset: number): Promise<Hash> {
    const entry = this.live.get(id);
    if (entry && entry.offset === offset) return entry.hash;
    const hash = await hashStored(this.blobStore, id, offset, 'sha256');
    this.live.set(id, { hash, offset });
    return hash;
  }

  private async verify(id: string, size: number, algorithm: DigestAlgorithm, expected: string): Promise<void> {
    const hash = algorithm === 'sha256' ? (await this.hashAt(id, size)).copy() : await hashStored(this.blobStore, id, size, algorithm);
    const actual = `${algorithm}:${hash.digest('hex')}`;
    if (actual !== expected) {
      throw new NcrError('DIGEST_INVALID', `the uploaded ${size} bytes have digest ${actual}, not ${expected}: check what was sent and upload again`, { detail: { expected, actual } });
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

function newId(): string {
  return randomUUID().replace(/-/g, '');
}

/** A repository id (a UUID) as 32 hex digits. */
function hex(uuid: string): string {
  return uuid.replace(/-/g, '');
}

async function hashStored(store: BlobStore, id: string, limit: number, algorithm: DigestAlgorithm): Promise<Hash> {
  const hash = createHash(algorithm);
  if (limit === 0) return hash;
  const stream = await store.readUpload(id, 0);
  let left = limit;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
    hash.update(part);
    left -= part.length;
    if (left <= 0) break;
  }
  stream.destroy();
  return hash;
}
