/**
 * One bucket under a key prefix, and what the blob store and its upload sessions both do there: ranged reads, streamed
 * multipart writes within AWS's part rules, server-side copies, aborting what a dead node left. The S3 SDK's errors are
 * told apart here too.
 */
import { randomBytes } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { AbortMultipartUploadCommand, CopyObjectCommand, GetObjectCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { DirectS3 } from './s3-direct.js';

/** AWS's smallest part of a multipart upload (all but the last part). */
export const MIN_PART = 5 * 1024 * 1024;
/** AWS's largest part, and the largest object one CopyObject copies. */
export const MAX_PART = 5 * 1024 * 1024 * 1024;
/** AWS's most parts in one multipart upload. */
export const MAX_PARTS = 10_000;
/** The part size this driver uses unless an object needs larger ones to stay within MAX_PARTS. */
export const PART_SIZE = 8 * 1024 * 1024;

export class Bucket {
  constructor(
    readonly s3: S3Client,
    readonly name: string,
    /** '' or ending in '/' */
    readonly prefix: string,
    /** GetObject without the SDK's pipeline, where the endpoint allows (s3-direct.ts) */
    private readonly direct?: DirectS3,
  ) {}

  /** The object's bytes, or the inclusive `range` of them. */
  async getObject(key: string, range?: { start: number; end: number }): Promise<Readable> {
    let body: Readable;
    let contentRange: string | undefined;
    let length: number;
    if (this.direct) {
      const res = await this.direct.get(key, range);
      [body, contentRange, length] = [res.body, res.headers['content-range'] as string | undefined, Number(res.headers['content-length'] ?? 0)];
    } else {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.name, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
      [body, contentRange, length] = [res.Body as Readable, res.ContentRange, res.ContentLength ?? 0];
    }
    if (!range) return body;
    // a server that answered another range than asked (an emulator reads `bytes=0-0` as the whole object): cut here
    const from = Number(/^bytes (\d+)-(\d+)\//.exec(contentRange ?? '')?.[1] ?? 0);
    if (from === range.start && length === range.end - range.start + 1) return body;
    return slice(body, { start: range.start - from, end: range.end - from });
  }

  /** Streams `body` (`size` bytes) to `key` with parts AWS accepts: at least MIN_PART but the last, at most MAX_PARTS. */
  async uploadStream(key: string, body: Readable, size: number): Promise<void> {
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.name, Key: key, Body: body },
      partSize: partSizeFor(size),
      queueSize: 2,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  /** Copies object `from` (`size` bytes) to `to`: on the server up to MAX_PART, streamed through this node beyond. */
  async copy(from: string, size: number, to: string): Promise<void> {
    if (size <= MAX_PART) {
      await this.s3.send(new CopyObjectCommand({ Bucket: this.name, Key: to, CopySource: `${this.name}/${encodeURI(from)}` }));
      return;
    }
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.name, Key: from }));
    await this.uploadStream(to, res.Body as Readable, size);
  }

  /** Aborts the multipart uploads under `prefix` (pieces or assemblies whose node died mid-way). */
  async abortMultipart(prefix: string): Promise<void> {
    let page;
    try {
      page = await this.s3.send(new ListMultipartUploadsCommand({ Bucket: this.name, Prefix: prefix }));
    } catch (err) {
      // a store without the listing (some emulators): the bucket's lifecycle rule for incomplete uploads covers it
      if (isNotImplemented(err)) return;
      throw err;
    }
    for (const u of page.Uploads ?? []) {
      await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.name, Key: u.Key!, UploadId: u.UploadId! })).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
  }

  async getBytes(key: string): Promise<Buffer> {
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.name, Key: key }));
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

export function token(): string {
  return randomBytes(8).toString('hex');
}

export function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

export function nameOf(err: unknown): string | undefined {
  return (err as { name?: string } | undefined)?.name;
}

export function isNotFound(err: unknown): boolean {
  return ['NotFound', 'NoSuchKey', 'NoSuchUpload'].includes(nameOf(err) ?? '') || statusOf(err) === 404;
}

export function isNotImplemented(err: unknown): boolean {
  return nameOf(err) === 'NotImplemented' || statusOf(err) === 501;
}

export function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a page holds at least one entry, not ${limit}`);
}
