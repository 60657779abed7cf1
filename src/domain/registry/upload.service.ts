/**
 * Blob uploads (the spec's POST / PATCH / PUT / GET / DELETE on /blobs/uploads). Bytes stream through a hash into the
 * BlobStore; the hash state and offset are saved after every chunk, so a session survives a restart of the server.
 */
import { randomUUID } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { parseDigest } from '../../oci/digest.js';
import { NcrError } from '../../oci/errors.js';
import type { BlobStore } from '../../storage/blob/port.js';
import type { Actor, EventBus } from '../events.js';
import { newHash, resumeHash, type ResumableHash } from './hasher.js';
import type { RegistryCoreStores, Upload } from './ports.js';
import type { RepositoryResolver } from './repository-resolver.js';

export class UploadService {
  /** One writer per session at a time in this process. */
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly stores: RegistryCoreStores,
    private readonly blobStore: BlobStore,
    private readonly resolver: RepositoryResolver,
    private readonly events: EventBus,
    private readonly now: () => number = Date.now,
  ) {}

  /** Opens a session in the repository (created on first push; its registry must exist). */
  async start(repoName: string): Promise<Upload> {
    const repo = await this.resolver.forPush(repoName);
    const t = this.now();
    const upload: Upload = { id: randomUUID().replace(/-/g, ''), repositoryId: repo.id, offset: 0, hashState: null, hashOffset: 0, startedAt: t, updatedAt: t };
    await this.blobStore.createUpload(upload.id);
    await this.stores.uploads.create(upload);
    return upload;
  }

  /** The session, checked to belong to the repository; throws BLOB_UPLOAD_UNKNOWN otherwise. */
  async get(repoName: string, id: string): Promise<Upload> {
    const repo = await this.stores.repositories.getByName(repoName);
    const upload = /^[A-Za-z0-9_-]{1,64}$/.test(id) ? await this.stores.uploads.get(id) : undefined;
    if (!repo || !upload || upload.repositoryId !== repo.id) {
      throw new NcrError('BLOB_UPLOAD_UNKNOWN', `upload session ${id} is not known in ${repoName}: it was finished, cancelled or never started; start a new upload with POST /v2/${repoName}/blobs/uploads/`);
    }
    return upload;
  }

  /**
   * Appends a chunk. When `range` is given its start must equal the current offset (416 otherwise, with the Range
   * the session is at). When `length` is given the body must have exactly that many bytes.
   */
  async append(repoName: string, id: string, body: Readable, range?: { start: number; end?: number }, length?: number): Promise<Upload> {
    return this.exclusive(id, async () => {
      const upload = await this.get(repoName, id);
      if (range && range.start !== upload.offset) {
        body.resume();
        throw new NcrError('RANGE_INVALID', `chunk starts at byte ${range.start} but the upload holds ${upload.offset} bytes: send the chunk that starts at ${upload.offset}`, {
          status: 416,
          headers: { Range: rangeHeader(upload.offset), 'Docker-Upload-UUID': id, Location: `/v2/${repoName}/blobs/uploads/${id}` },
        });
      }
      const expected = length ?? (range?.end !== undefined ? range.end - range.start + 1 : undefined);
      return this.write(upload, body, expected);
    });
  }

  /** Finishes the session: optional last chunk, digest check, durable commit, link into the repository. */
  async finish(repoName: string, id: string, digest: string, actor: Actor, body?: Readable, length?: number): Promise<{ digest: string; size: number }> {
    const { algorithm } = parseDigest(digest);
    return this.exclusive(id, async () => {
      let upload = await this.get(repoName, id);
      if (body) upload = await this.write(upload, body, length);
      let actual: string;
      if (algorithm === 'sha256') {
        actual = (await this.hashFor(upload)).digest();
      } else {
        const h = await newHash(algorithm);
        await feed(await this.blobStore.readUpload(id, 0), h);
        actual = h.digest();
      }
      if (actual !== digest) {
        throw new NcrError('DIGEST_INVALID', `the uploaded ${upload.offset} bytes have digest ${actual}, not ${digest}: check what was sent and upload again`, { detail: { expected: digest, actual } });
      }
      await this.blobStore.commitUpload(id, digest, upload.offset);
      await this.stores.blobs.link(upload.repositoryId, digest, upload.offset, this.now());
      await this.stores.uploads.delete(id);
      this.events.publish({ type: 'BlobUploaded', at: this.now(), actor, repository: repoName, digest, size: upload.offset });
      return { digest, size: upload.offset };
    });
  }

  /** Monolithic upload in one request (POST ?digest=). */
  async monolithic(repoName: string, digest: string, body: Readable, actor: Actor, length?: number) {
    parseDigest(digest);
    const upload = await this.start(repoName);
    try {
      return await this.finish(repoName, upload.id, digest, actor, body, length);
    } catch (err) {
      await this.cancel(repoName, upload.id).catch(() => undefined);
      throw err;
    }
  }

  async cancel(repoName: string, id: string): Promise<void> {
    const upload = await this.get(repoName, id);
    await this.stores.uploads.delete(upload.id);
    await this.blobStore.deleteUpload(upload.id);
  }

  /** Discards sessions idle for longer than `maxIdleMs` (abandoned pushes); returns how many. */
  async purgeStale(maxIdleMs: number): Promise<number> {
    let purged = 0;
    for (;;) {
      const ids = await this.stores.uploads.stale(this.now() - maxIdleMs, 500);
      for (const id of ids) {
        if (this.locks.has(id)) continue;
        await this.stores.uploads.delete(id);
        await this.blobStore.deleteUpload(id);
        purged++;
      }
      if (ids.length < 500) return purged;
    }
  }

  private async write(upload: Upload, body: Readable, expected?: number): Promise<Upload> {
    const hash = await this.hashFor(upload);
    let seen = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        seen += chunk.length;
        if (expected !== undefined && seen > expected) return cb(new NcrError('SIZE_INVALID', `the body is longer than the ${expected} bytes its Content-Length or Content-Range announced`));
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    body.on('error', (err) => tap.destroy(err));
    let newOffset: number;
    try {
      newOffset = await this.blobStore.appendUpload(upload.id, upload.offset, body.pipe(tap));
    } catch (err) {
      if (err instanceof NcrError) throw err;
      throw new NcrError('BLOB_UPLOAD_INVALID', `the chunk could not be stored: ${(err as Error).message}; the upload still holds ${upload.offset} bytes, resend from there`, { cause: err });
    }
    if (expected !== undefined && seen !== expected) {
      await this.blobStore.appendUpload(upload.id, upload.offset, emptyStream()).catch(() => undefined);
      throw new NcrError('SIZE_INVALID', `the body had ${seen} bytes but ${expected} were announced; resend the chunk from byte ${upload.offset}`);
    }
    const updated = { offset: newOffset, hashState: hash.save(), hashOffset: newOffset, updatedAt: this.now() };
    await this.stores.uploads.update(upload.id, updated);
    return { ...upload, ...updated };
  }

  /** The sha256 state at the session's offset: loaded, or rebuilt from the stored bytes when it lags behind. */
  private async hashFor(upload: Upload): Promise<ResumableHash> {
    if (upload.hashState && upload.hashOffset === upload.offset) return resumeHash(upload.hashState);
    const h = await newHash('sha256');
    if (upload.offset > 0) await feed(await this.blobStore.readUpload(upload.id, 0), h, upload.offset);
    return h;
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

export function rangeHeader(offset: number): string {
  return `0-${Math.max(0, offset - 1)}`;
}

async function feed(stream: Readable, h: ResumableHash, limit = Infinity): Promise<void> {
  let left = limit;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (left <= 0) break;
    const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
    h.update(part);
    left -= part.length;
  }
  stream.destroy();
}

function emptyStream(): Readable {
  const t = new Transform();
  t.end();
  return t;
}
