import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { LRUCache } from 'lru-cache';
import { s3Keys } from '../paths.js';
import { BlobNotFoundError, type BlobBody, type BlobInfo, type BlobStore, type UploadInfo, type UploadRecords, type UploadState } from '../port.js';
import { Bucket, MAX_PART, MAX_PARTS, PART_SIZE, checkLimit, isNotFound, isNotImplemented, token } from './s3-bucket.js';
import { DirectS3 } from './s3-direct.js';
import { releaseChunk } from '../chunk-pool.js';
import { S3Uploads } from './s3-uploads.js';

export { MAX_PART, MAX_PARTS, MIN_PART, partSizeFor } from './s3-bucket.js';

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
  /** Where upload sessions keep their state (the metadata database, shared by every node). */
  records: UploadRecords;
}

/**
 * BlobStore on an S3-compatible object store. Blobs live at their digest's key (paths.ts); upload sessions are
 * S3Uploads' (pieces and a state object in the bucket, so any node continues any upload); a whole blob sent in one
 * request goes straight to its key (putBlob). Presigned GET URLs for 307 redirects, public and private.
 */
export class S3BlobStore implements BlobStore {
  private readonly s3: S3Client;
  private readonly presigner: S3Client | undefined;
  private readonly privatePresigner: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly b: Bucket;
  private readonly uploads: S3Uploads;
  private readonly direct: DirectS3 | undefined;
  /** Presigned URLs recently handed out, by endpoint, validity and digest (redirectUrl). */
  private readonly signed = new LRUCache<string, string>({ max: 10_000, ttl: 300_000 });

  constructor(opts: S3BlobStoreOptions) {
    this.bucket = opts.bucket;
    this.prefix = opts.prefix ?? '';
    if (this.prefix !== '' && !this.prefix.endsWith('/')) this.prefix += '/';
    // checksums only where S3 requires them: S3-compatible servers differ in the newer (trailer) checksum headers
    const base: S3ClientConfig = { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED', ...opts.client };
    this.s3 = new S3Client(base);
    this.presigner = opts.redirect ? new S3Client({ ...base, ...(opts.redirect.endpoint ? { endpoint: opts.redirect.endpoint } : {}) }) : undefined;
    this.privatePresigner = opts.privateEndpoint ? new S3Client({ ...base, endpoint: opts.privateEndpoint }) : this.s3;
    // on a configured endpoint, PutObject and GetObject skip the SDK's pipeline (s3-direct.ts)
    const endpoint = typeof opts.client.endpoint === 'string' ? opts.client.endpoint : undefined;
    this.direct = endpoint ? new DirectS3(this.s3, endpoint, this.bucket, opts.client.forcePathStyle === true) : undefined;
    this.b = new Bucket(this.s3, this.bucket, this.prefix, this.direct);
    this.uploads = new S3Uploads(this.b, opts.records);
  }

  close(): void {
    this.direct?.close();
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
      // chunks read off the socket are lent from the chunk pool (raw-get.ts); others are ignored by releaseChunk
      return { stream: await this.b.getObject(s3Keys.blob(this.prefix, digest), range), release: releaseChunk };
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(digest);
      throw err;
    }
  }

  /**
   * A presigned GET URL of the blob, valid `expiresInSeconds`. Signing runs the SDK's whole request pipeline, so a URL
   * is handed out again for up to a quarter of its validity (at most 5 minutes): every URL given still has at least
   * three quarters of it left. The caller has checked the client may read the blob before asking.
   */
  async redirectUrl(digest: string, opts: { expiresInSeconds: number; private?: boolean }): Promise<string | undefined> {
    const presigner = opts.private ? this.privatePresigner : this.presigner;
    if (!presigner) return undefined;
    const key = `${opts.private ? 'private' : 'public'}\0${opts.expiresInSeconds}\0${digest}`;
    const cached = this.signed.get(key);
    if (cached) return cached;
    const url = await getSignedUrl(presigner, new GetObjectCommand({ Bucket: this.bucket, Key: s3Keys.blob(this.prefix, digest) }), { expiresIn: opts.expiresInSeconds });
    this.signed.set(key, url, { ttl: Math.min(opts.expiresInSeconds * 250, 300_000) });
    return url;
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

  createUpload(id: string): Promise<UploadState> {
    return this.uploads.createUpload(id);
  }

  uploadStatus(id: string): Promise<UploadState> {
    return this.uploads.uploadStatus(id);
  }

  appendUpload(id: string, state: UploadState, source: Readable): Promise<UploadState> {
    return this.uploads.appendUpload(id, state, source);
  }

  readUpload(id: string, state: UploadState): Promise<Readable> {
    return this.uploads.readUpload(id, state);
  }

  commitUpload(id: string, state: UploadState, digest: string): Promise<void> {
    return this.uploads.commitUpload(id, state, digest);
  }

  /**
   * The whole blob straight to its key: up to one part in memory and then PutObject, or a multipart upload at the
   * blob's key (its parts go out while the next one arrives; nothing is visible before CompleteMultipartUpload), so
   * `verify` runs before the bytes can be seen. Parts grow every 1,000 (8, 16, 24 MiB, ...) so unknown lengths stay
   * within 10,000 parts. What a node that died mid-way left is aborted by the upload purge (listUploads shows it).
   */
  async putBlob(digest: string, source: Readable, verify: () => Promise<void>, length?: number): Promise<number> {
    const key = s3Keys.blob(this.prefix, digest);
    if (length !== undefined && length >= STREAMED_PUT && length <= MAX_PART) return this.putStreamed(key, source, verify, length);
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

  /**
   * A blob of known length in one PutObject streamed as it arrives: the object store writes it once (a multipart
   * upload's parts are joined in a second pass on most servers), and a streamed body is sent unsigned, so this node
   * hashes it only for its digest. The last chunk is held back until `verify` resolves: S3 creates an object only when
   * all Content-Length bytes arrived, so a refused digest, a short body or a failed check aborts the request and
   * leaves nothing (an existing blob of the digest stays as it was).
   */
  private async putStreamed(key: string, source: Readable, verify: () => Promise<void>, length: number): Promise<number> {
    let held: Buffer | undefined;
    let total = 0;
    const gate = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        total += chunk.length;
        if (total > length) return cb(new Error(`the blob has more than the ${length} bytes announced`));
        const ready = held;
        held = chunk;
        cb(null, ready);
      },
      flush(cb) {
        if (total !== length) return cb(new Error(`the blob had ${total} bytes, not the ${length} announced`));
        verify().then(() => cb(null, held), cb);
      },
    });
    const abort = new AbortController();
    const body = pipeline(source, gate).catch((err: unknown) => {
      // a pipe does not end the request on an error: abort it, so the store never sees the last bytes
      abort.abort(err);
      throw err;
    });
    const put = this.direct
      ? this.direct.put(key, gate, length, abort.signal)
      : this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: gate, ContentLength: length }), { abortSignal: abort.signal });
    const [b, p] = await Promise.allSettled([body, put]);
    if (b.status === 'rejected') {
      source.destroy();
      throw b.reason;
    }
    if (p.status === 'rejected') {
      source.destroy();
      throw p.reason;
    }
    return total;
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
    // the session's removal aborts them where the store lists them
    await this.uploads.abort(id);
  }

  async listUploads({ cursor, limit }: { cursor?: string; limit: number }): Promise<{ uploads: UploadInfo[]; next?: string }> {
    checkLimit(limit);
    // every id (uploads in progress are few): the sessions with a state, and whatever has objects in the bucket (a
    // session's pieces, or what an append left after its session was gone); sorted here: key order (`<id>/`) is not
    // id order when ids hold a '-'
    const root = s3Keys.uploadsPrefix(this.prefix);
    const ids = new Set<string>();
    for (let after: string | undefined; ; ) {
      const page = await this.uploads.recorded(after, 1000);
      for (const id of page) ids.add(id);
      if (page.length < 1000) break;
      after = page[page.length - 1];
    }
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: root, Delimiter: '/', StartAfter: startAfter }));
      const prefixes = (page.CommonPrefixes ?? []).map((p) => p.Prefix!);
      for (const p of prefixes) {
        const id = p.slice(root.length, -1);
        if (id) ids.add(id);
      }
      const last = [...prefixes, ...(page.Contents ?? []).map((o) => o.Key!)].sort().pop();
      if (!page.IsTruncated || last === undefined) break;
      // past every key under the last id (ids are ASCII; U+FFFF sorts after them)
      startAfter = last.endsWith('/') ? `${last}\uffff` : last;
    }
    // and the multipart uploads of putBlob whose node died before completing or aborting them
    const orphans = new Map((await this.blobMultipartUploads()).map((u) => [u.id, u.initiated]));
    for (const id of orphans.keys()) ids.add(id);
    const uploads: UploadInfo[] = [];
    for (const id of [...ids].filter((i) => cursor === undefined || i > cursor).sort()) {
      if (uploads.length === limit) return { uploads, next: uploads[uploads.length - 1]!.id };
      const at = orphans.get(id) ?? (await this.uploads.lastWrittenAt(id));
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

  async ping() {
    const key = s3Keys.ping(this.prefix, token());
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: String(Date.now()) }));
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

}

/**
 * From this length on a blob of known length goes out as one streamed PutObject; below it the bytes are buffered and
 * sent signed (the SDK hashes a buffered body for its signature).
 */
const STREAMED_PUT = 256 * 1024;

/** Upload ids listUploads gives putBlob's multipart uploads (never a session's: those are hex). */
const MULTIPART_ID = 'mpu_';

function multipartId(key: string, uploadId: string): string {
  return MULTIPART_ID + createHash('sha256').update(`${key}\n${uploadId}`).digest('hex').slice(0, 40);
}
