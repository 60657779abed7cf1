import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3Keys } from '../paths.js';
import {
  BlobNotFoundError,
  UploadNotFoundError,
  UploadOffsetMismatchError,
  type BlobBody,
  type BlobInfo,
  type BlobStore,
  type UploadInfo,
  type UploadState,
} from '../port.js';

/** AWS's smallest part of a multipart upload (all but the last part). */
export const MIN_PART = 5 * 1024 * 1024;
/** AWS's largest part, and the largest object one CopyObject copies. */
export const MAX_PART = 5 * 1024 * 1024 * 1024;
/** AWS's most parts in one multipart upload. */
export const MAX_PARTS = 10_000;
/** The part size this driver uses unless an object needs larger ones to stay within MAX_PARTS. */
const PART_SIZE = 8 * 1024 * 1024;

export interface S3BlobStoreOptions {
  bucket: string;
  /** Key prefix, '' or ending in '/'. */
  prefix?: string;
  /** The SDK client configuration (endpoint, region, credentials, forcePathStyle). */
  client: S3ClientConfig;
  /** Blob GETs answer 307 to a presigned URL valid this long; off when undefined. */
  redirect?: { endpoint?: string };
  /** The store's address for clients on ncr's private endpoint (presigned URLs for them); default the client's endpoint. */
  privateEndpoint?: string;
}

/**
 * The driver's upload state: the bytes are the concatenation of `pieces` (size and object name under the upload's
 * prefix), `gen` counts the appends. Pieces are immutable and never removed before the upload is committed or
 * aborted, so any state handed out stays readable (a commit of an older state, a hash rebuilt on another node).
 */
type S3UploadState = UploadState & { gen: number; pieces: [number, string][] };

/**
 * BlobStore on an S3-compatible object store. An append writes its bytes as one new object (a piece, streamed: a
 * multipart upload when it is large) and then the upload's state object, guarded by the ETag read before (If-Match):
 * everything lives in the bucket, so any node continues, reads back or commits any upload. Small pieces are merged in
 * the bucket as they come (two neighbours of like size become one, as a binary counter carries) until they reach a
 * part's size, so a client sending 1 KiB chunks leaves O(log n) pieces, not n. Commit joins the pieces with one
 * multipart upload (parts of at least MIN_PART but the last, at most MAX_PARTS) and copies the result to its blob key.
 */
export class S3BlobStore implements BlobStore {
  private readonly s3: S3Client;
  private readonly presigner: S3Client | undefined;
  private readonly privatePresigner: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(opts: S3BlobStoreOptions) {
    this.bucket = opts.bucket;
    this.prefix = opts.prefix ?? '';
    if (this.prefix !== '' && !this.prefix.endsWith('/')) this.prefix += '/';
    // checksums only where S3 requires them: S3-compatible servers differ in the newer (trailer) checksum headers
    const base: S3ClientConfig = { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED', ...opts.client };
    this.s3 = new S3Client(base);
    this.presigner = opts.redirect ? new S3Client({ ...base, ...(opts.redirect.endpoint ? { endpoint: opts.redirect.endpoint } : {}) }) : undefined;
    this.privatePresigner = opts.privateEndpoint ? new S3Client({ ...base, endpoint: opts.privateEndpoint }) : this.s3;
  }

  close(): void {
    this.s3.destroy();
    this.presigner?.destroy();
    if (this.privatePresigner !== this.s3) this.privatePresigner.destroy();
  }

  async stat(digest: string) {
    try {
      const h = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: s3Keys.blob(this.prefix, digest) }));
      return { size: h.ContentLength ?? 0, modifiedAt: h.LastModified?.getTime() ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async read(digest: string, range?: { start: number; end: number }): Promise<BlobBody> {
    try {
      return { stream: await this.getObject(s3Keys.blob(this.prefix, digest), range), release: () => undefined };
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(digest);
      throw err;
    }
  }

  /** The object's bytes, or the inclusive `range` of them. */
  private async getObject(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
    const body = res.Body as Readable;
    if (!range) return body;
    // a server that answered another range than asked (an emulator reads `bytes=0-0` as the whole object): cut here
    const from = Number(/^bytes (\d+)-(\d+)\//.exec(res.ContentRange ?? '')?.[1] ?? 0);
    const length = res.ContentLength ?? 0;
    if (from === range.start && length === range.end - range.start + 1) return body;
    return slice(body, { start: range.start - from, end: range.end - from });
  }

  async redirectUrl(digest: string, opts: { expiresInSeconds: number; private?: boolean }): Promise<string | undefined> {
    const presigner = opts.private ? this.privatePresigner : this.presigner;
    if (!presigner) return undefined;
    return getSignedUrl(presigner, new GetObjectCommand({ Bucket: this.bucket, Key: s3Keys.blob(this.prefix, digest) }), { expiresIn: opts.expiresInSeconds });
  }

  async delete(digest: string) {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: s3Keys.blob(this.prefix, digest) }));
  }

  async list({ cursor, limit }: { cursor?: string; limit: number }): Promise<{ digests: BlobInfo[]; next?: string }> {
    checkLimit(limit);
    const digests: BlobInfo[] = [];
    // pages by StartAfter, not continuation tokens: the same on every S3 implementation
    let startAfter = cursor === undefined ? undefined : s3Keys.blob(this.prefix, cursor);
    // one more than asked: an exact fit has no next page
    while (digests.length <= limit) {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: s3Keys.blobsPrefix(this.prefix), StartAfter: startAfter, MaxKeys: Math.min(1000, limit + 1 - digests.length) }),
      );
      const contents = page.Contents ?? [];
      for (const o of contents) {
        const digest = o.Key === undefined ? undefined : s3Keys.digestOf(this.prefix, o.Key);
        if (digest) digests.push({ digest, size: o.Size ?? 0, modifiedAt: o.LastModified?.getTime() ?? 0 });
      }
      if (!page.IsTruncated || contents.length === 0) break;
      startAfter = contents[contents.length - 1]!.Key;
    }
    if (digests.length > limit) {
      digests.length = limit;
      return { digests, next: digests[limit - 1]!.digest };
    }
    return { digests };
  }

  async createUpload(id: string): Promise<UploadState> {
    const found = await this.readState(id).catch((err: unknown) => {
      if (err instanceof UploadNotFoundError) return undefined;
      throw err;
    });
    if (found) return found.state;
    const state: S3UploadState = { size: 0, gen: 0, pieces: [] };
    try {
      await this.putState(id, state, { IfNoneMatch: '*' });
    } catch (err) {
      // created meanwhile by a retried request on another node: its state counts
      if (isPreconditionFailed(err)) return (await this.readState(id)).state;
      throw err;
    }
    return state;
  }

  async uploadStatus(id: string): Promise<UploadState> {
    return (await this.readState(id)).state;
  }

  async appendUpload(id: string, state: UploadState, source: Readable): Promise<UploadState> {
    // An error of `source` before the write has started would have no listener yet: keep it and fail with it.
    let early: unknown;
    const onEarly = (err: unknown) => void (early ??= err);
    source.on('error', onEarly);
    try {
      const current = await this.readState(id);
      const given = state as S3UploadState;
      if (current.state.gen !== given.gen || current.state.size !== given.size) throw new UploadOffsetMismatchError(id, state.size, current.state.size);
      if (early) throw early;
      const gen = current.state.gen + 1;
      const name = pieceName(gen);
      const written = await this.writePiece(id, name, source);
      if (written === 0) return current.state;
      const pieces = await this.mergeSmall(id, gen, [...current.state.pieces, [written, name]]);
      const next: S3UploadState = { size: current.state.size + written, gen, pieces };
      try {
        // only if nobody wrote the state since it was read: writers never interleave
        await this.putState(id, next, { IfMatch: current.etag });
      } catch (err) {
        if (isNotFound(err)) throw new UploadNotFoundError(id);
        if (isPreconditionFailed(err)) throw new UploadOffsetMismatchError(id, state.size);
        throw err;
      }
      return next;
    } catch (err) {
      source.destroy();
      throw err;
    } finally {
      source.off('error', onEarly);
    }
  }

  /** Streams `source` into the piece `name`; resolves with its byte count (0: nothing was stored). Rethrows the source's error. */
  private async writePiece(id: string, name: string, source: Readable): Promise<number> {
    let count = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        count += chunk.length;
        cb(null, chunk);
      },
    });
    const body = new PassThrough();
    // The first bytes decide: an empty append stores nothing.
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: `${s3Keys.upload(this.prefix, id)}${name}`, Body: body },
      partSize: PART_SIZE,
      queueSize: 2,
      leavePartsOnError: false,
    });
    const piped = pipeline(source, counter, body);
    // a store that fails stops reading `body`: end the pipeline too instead of waiting on it for ever
    const done = upload.done().catch((err: unknown) => {
      body.destroy(err as Error);
      throw err;
    });
    const [p, u] = await Promise.allSettled([piped, done]);
    // the source's error first: it is the caller's to see (a client that went away)
    if (p.status === 'rejected') {
      await upload.abort().catch(() => undefined);
      throw p.reason;
    }
    if (u.status === 'rejected') throw u.reason;
    return count;
  }

  /**
   * Merges trailing small pieces while the one before the last is no larger than the last (a binary counter's
   * carry) and both are below a part: the bytes are read and written again in the bucket, never kept by a node
   * between requests. The merged-away pieces stay until commit or abort (an older state may still name them).
   */
  private async mergeSmall(id: string, gen: number, pieces: [number, string][]): Promise<[number, string][]> {
    const out = [...pieces];
    while (out.length >= 2) {
      const [a, b] = [out[out.length - 2]!, out[out.length - 1]!];
      if (a[0] >= MIN_PART || b[0] >= MIN_PART || a[0] > b[0]) break;
      const parts = await Promise.all([a, b].map(([, n]) => this.getBytes(`${s3Keys.upload(this.prefix, id)}${n}`)));
      const name = pieceName(gen);
      const body = Buffer.concat(parts);
      await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: `${s3Keys.upload(this.prefix, id)}${name}`, Body: body, ContentLength: body.length }));
      out.splice(out.length - 2, 2, [body.length, name]);
    }
    return out;
  }

  async readUpload(id: string, state: UploadState): Promise<Readable> {
    await this.readState(id);
    return Readable.from(this.pieceBytes(id, state as S3UploadState));
  }

  /** The bytes of the first `state.size` bytes of the upload, piece after piece. */
  private async *pieceBytes(id: string, state: S3UploadState): AsyncGenerator<Buffer> {
    let left = state.size;
    for (const [size, name] of state.pieces) {
      if (left <= 0) break;
      const take = Math.min(size, left);
      const body = await this.getObject(`${s3Keys.upload(this.prefix, id)}${name}`, take < size ? { start: 0, end: take - 1 } : undefined);
      let got = 0;
      for await (const c of body as AsyncIterable<Buffer>) {
        got += c.length;
        yield c;
      }
      if (got !== take) throw new Error(`upload ${id}: piece ${name} held ${got} bytes, not ${take}`);
      left -= take;
    }
    if (left > 0) throw new Error(`upload ${id} holds fewer bytes than its state says`);
  }

  async commitUpload(id: string, state: UploadState, digest: string) {
    const current = await this.readState(id);
    const given = state as S3UploadState;
    if (current.state.size < given.size || current.state.gen < given.gen) throw new UploadOffsetMismatchError(id, state.size, current.state.size);
    const dest = s3Keys.blob(this.prefix, digest);
    const pieces = given.pieces;
    if (pieces.length === 0) {
      await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: dest, Body: Buffer.alloc(0), ContentLength: 0 }));
    } else {
      let source = `${s3Keys.upload(this.prefix, id)}${pieces[0]![1]}`;
      if (pieces.length > 1) {
        // one multipart upload joins the pieces, under the upload's prefix so an abort finds what a dead node left
        source = s3Keys.assembled(this.prefix, id, token());
        await this.uploadStream(source, Readable.from(this.pieceBytes(id, given)), given.size);
      }
      await this.copy(source, given.size, dest);
    }
    // the state goes first: from then on the upload is gone for every node, whatever of its pieces remain
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: s3Keys.uploadState(this.prefix, id) }));
    await this.removeUploadObjects(id);
  }

  /** Streams `body` (`size` bytes) to `key` with parts AWS accepts: at least MIN_PART but the last, at most MAX_PARTS. */
  private async uploadStream(key: string, body: Readable, size: number): Promise<void> {
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: body },
      partSize: partSizeFor(size),
      queueSize: 2,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  /** Copies object `from` (`size` bytes) to `to`: on the server up to MAX_PART, streamed through this node beyond. */
  private async copy(from: string, size: number, to: string): Promise<void> {
    if (size <= MAX_PART) {
      await this.s3.send(new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: `${this.bucket}/${encodeURI(from)}` }));
      return;
    }
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: from }));
    await this.uploadStream(to, res.Body as Readable, size);
  }

  /**
   * The whole blob straight to its key: up to one part in memory and then PutObject, or a multipart upload at the
   * blob's key (its parts go out while the next one arrives; nothing is visible before CompleteMultipartUpload), so
   * `verify` runs before the bytes can be seen. Parts grow every 1,000 (8, 16, 24 MiB, ...) so unknown lengths stay
   * within 10,000 parts. What a node that died mid-way left is aborted by the upload purge (listUploads shows it).
   */
  async putBlob(digest: string, source: Readable, verify: () => Promise<void>): Promise<number> {
    const key = s3Keys.blob(this.prefix, digest);
    const started = Date.now();
    let buffered: Buffer[] = [];
    let bufferedBytes = 0;
    let total = 0;
    let uploadId: string | undefined;
    const parts: { PartNumber: number; ETag: string }[] = [];
    let inFlight: Promise<void> | undefined;
    const sendPart = async (body: Buffer) => {
      uploadId ??= (await this.s3.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }))).UploadId!;
      const PartNumber = parts.length + 1;
      if (PartNumber > MAX_PARTS) throw new RangeError(`blob ${digest} needs more than ${MAX_PARTS} parts`);
      parts.push({ PartNumber, ETag: '' });
      const res = await this.s3.send(new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber, Body: body, ContentLength: body.length }));
      parts[PartNumber - 1]!.ETag = res.ETag!;
    };
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        buffered.push(chunk);
        bufferedBytes += chunk.length;
        total += chunk.length;
        const partSize = PART_SIZE * (1 + Math.floor(parts.length / 1000));
        if (bufferedBytes >= partSize) {
          const body = Buffer.concat(buffered);
          buffered = [];
          bufferedBytes = 0;
          // one part on the wire while the next one fills
          await inFlight;
          inFlight = sendPart(body);
          inFlight.catch(() => undefined);
        }
      }
      await inFlight;
      await verify();
      const rest = Buffer.concat(buffered);
      if (uploadId === undefined) {
        await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: rest, ContentLength: rest.length }));
        return total;
      }
      if (rest.length > 0) await sendPart(rest);
      await this.s3.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
      // a multipart object is as old as its upload's start: GC's safe window must count from now
      if (Date.now() - started > 60_000) await this.s3.send(new CopyObjectCommand({ Bucket: this.bucket, Key: key, CopySource: `${this.bucket}/${encodeURI(key)}`, MetadataDirective: 'REPLACE' }));
      return total;
    } catch (err) {
      source.destroy();
      await inFlight?.catch(() => undefined);
      if (uploadId !== undefined) await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
      throw err;
    }
  }

  async abortUpload(id: string) {
    if (id.startsWith(MULTIPART_ID)) {
      // putBlob's multipart upload, as listUploads named it
      const u = (await this.blobMultipartUploads()).find((m) => m.id === id);
      if (u) {
        await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.key, UploadId: u.uploadId })).catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
      }
      return;
    }
    // an append or commit in flight on a dead node may have left multipart uploads under the upload's prefix:
    // removeUploadObjects aborts them where the store lists them
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: s3Keys.uploadState(this.prefix, id) }));
    await this.removeUploadObjects(id);
  }

  /** Deletes every object under the upload's prefix and aborts its multipart uploads. */
  private async removeUploadObjects(id: string): Promise<void> {
    const prefix = s3Keys.upload(this.prefix, id);
    for (;;) {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix }));
      const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length > 0) await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }));
      if (!page.IsTruncated || keys.length === 0) break;
    }
    await this.abortMultipart(prefix);
  }

  /** Aborts the multipart uploads under `prefix` (pieces or assemblies whose node died mid-way). */
  private async abortMultipart(prefix: string): Promise<void> {
    let page;
    try {
      page = await this.s3.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix }));
    } catch (err) {
      // a store without the listing (some emulators): the bucket's lifecycle rule for incomplete uploads covers it
      if (isNotImplemented(err)) return;
      throw err;
    }
    for (const u of page.Uploads ?? []) {
      await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key!, UploadId: u.UploadId! })).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
  }

  async listUploads({ cursor, limit }: { cursor?: string; limit: number }): Promise<{ uploads: UploadInfo[]; next?: string }> {
    checkLimit(limit);
    // every id (uploads in progress are few); sorted here: key order (`<id>/`) is not id order when ids hold a '-'
    const root = s3Keys.uploadsPrefix(this.prefix);
    const ids: string[] = [];
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: root, Delimiter: '/', StartAfter: startAfter }));
      const prefixes = (page.CommonPrefixes ?? []).map((p) => p.Prefix!);
      for (const p of prefixes) {
        const id = p.slice(root.length, -1);
        if (id) ids.push(id);
      }
      const last = [...prefixes, ...(page.Contents ?? []).map((o) => o.Key!)].sort().pop();
      if (!page.IsTruncated || last === undefined) break;
      // past every key under the last id (ids are ASCII; U+FFFF sorts after them)
      startAfter = last.endsWith('/') ? `${last}\uffff` : last;
    }
    // and the multipart uploads of putBlob whose node died before completing or aborting them
    const orphans = new Map((await this.blobMultipartUploads()).map((u) => [u.id, u.initiated]));
    ids.push(...orphans.keys());
    const uploads: UploadInfo[] = [];
    for (const id of ids.filter((i) => cursor === undefined || i > cursor).sort()) {
      if (uploads.length === limit) return { uploads, next: uploads[uploads.length - 1]!.id };
      const at = orphans.get(id) ?? (await this.lastWrittenAt(id));
      if (at !== undefined) uploads.push({ id, lastWrittenAt: at });
    }
    return { uploads };
  }

  /**
   * The multipart uploads in progress under blobs/ (putBlob's), each named by an upload id of its own (`mpu_` and a
   * hash of its key and S3 upload id); none on a store that does not list them (its lifecycle rule cleans up).
   */
  private async blobMultipartUploads(): Promise<{ id: string; key: string; uploadId: string; initiated: number }[]> {
    const out: { id: string; key: string; uploadId: string; initiated: number }[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      let page;
      try {
        page = await this.s3.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: s3Keys.blobsPrefix(this.prefix), KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
      } catch (err) {
        if (isNotImplemented(err)) return out;
        throw err;
      }
      for (const u of page.Uploads ?? []) {
        out.push({ id: multipartId(u.Key!, u.UploadId!), key: u.Key!, uploadId: u.UploadId!, initiated: u.Initiated?.getTime() ?? 0 });
      }
      if (!page.IsTruncated) return out;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  /** When the upload last changed: its state's time, or (what a dead node left without one) its newest object's. */
  private async lastWrittenAt(id: string): Promise<number | undefined> {
    try {
      const h = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: s3Keys.uploadState(this.prefix, id) }));
      return h.LastModified?.getTime() ?? 0;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: s3Keys.upload(this.prefix, id) }));
    const times = (page.Contents ?? []).map((o) => o.LastModified?.getTime() ?? 0);
    return times.length > 0 ? Math.max(...times) : undefined;
  }

  async ping() {
    const key = s3Keys.ping(this.prefix, token());
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: String(Date.now()) }));
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  private async readState(id: string): Promise<{ state: S3UploadState; etag: string | undefined }> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: s3Keys.uploadState(this.prefix, id) }));
      const text = await res.Body!.transformToString();
      return { state: JSON.parse(text) as S3UploadState, etag: res.ETag };
    } catch (err) {
      if (isNotFound(err)) throw new UploadNotFoundError(id);
      throw err;
    }
  }

  private async putState(id: string, state: S3UploadState, cond: { IfMatch?: string; IfNoneMatch?: string }): Promise<void> {
    const body = JSON.stringify(state);
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: s3Keys.uploadState(this.prefix, id), Body: body, ContentType: 'application/json', ...cond }),
    );
  }

  private async getBytes(key: string): Promise<Buffer> {
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return Buffer.from(await res.Body!.transformToByteArray());
  }
}

/**
 * The part size for an object of `size` bytes: PART_SIZE, or larger when that would need more than MAX_PARTS parts.
 * Every part but the last is then exactly this size, so at least MIN_PART.
 */
export function partSizeFor(size: number): number {
  const needed = Math.ceil(size / MAX_PARTS);
  const part = Math.max(PART_SIZE, Math.ceil(needed / (1024 * 1024)) * 1024 * 1024);
  if (part > MAX_PART) throw new RangeError(`an object of ${size} bytes exceeds S3's largest multipart upload`);
  return part;
}

/** The inclusive `range` of `body`'s bytes. */
function slice(body: Readable, range: { start: number; end: number }): Readable {
  let at = 0;
  const cut = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const from = Math.max(0, range.start - at);
      const to = Math.min(chunk.length, range.end + 1 - at);
      at += chunk.length;
      cb(null, from < to ? chunk.subarray(from, to) : undefined);
    },
  });
  body.on('error', (err) => cut.destroy(err));
  return body.pipe(cut);
}

/** Upload ids listUploads gives putBlob's multipart uploads (never a session's: those are hex). */
const MULTIPART_ID = 'mpu_';

function multipartId(key: string, uploadId: string): string {
  return MULTIPART_ID + createHash('sha256').update(`${key}\n${uploadId}`).digest('hex').slice(0, 40);
}

function pieceName(gen: number): string {
  return `piece-${String(gen).padStart(10, '0')}-${token()}`;
}

function token(): string {
  return randomBytes(8).toString('hex');
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function nameOf(err: unknown): string | undefined {
  return (err as { name?: string } | undefined)?.name;
}

function isNotFound(err: unknown): boolean {
  return ['NotFound', 'NoSuchKey', 'NoSuchUpload'].includes(nameOf(err) ?? '') || statusOf(err) === 404;
}

function isPreconditionFailed(err: unknown): boolean {
  // 409 ConditionalRequestConflict: another conditional write to the key is in flight
  return nameOf(err) === 'PreconditionFailed' || statusOf(err) === 412 || nameOf(err) === 'ConditionalRequestConflict';
}

function isNotImplemented(err: unknown): boolean {
  return nameOf(err) === 'NotImplemented' || statusOf(err) === 501;
}

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a page holds at least one entry, not ${limit}`);
}
