import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART, S3BlobStore, partSizeFor } from '../../src/storage/blob/s3/s3-blob-store.js';
import { startS3, type TestS3 } from '../helpers/s3.js';
import { blobStoreContract } from './blob-store.contract.js';

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => s3?.close());

blobStoreContract('S3BlobStore', async () => {
  const bucket = await s3.newBucket();
  const store = new S3BlobStore({
    bucket,
    prefix: 'ncr/',
    client: { endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials, forcePathStyle: true },
  });
  return { store, cleanup: async () => store.close() };
});

/** What the driver sent beyond the contract: AWS's multipart rules, which the emulator does not enforce. */
describe('S3BlobStore against AWS rules', () => {
  const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

  /** Every multipart upload the server saw: its parts' sizes in part-number order. */
  function multipartUploads(): number[][] {
    const byUpload = new Map<string, Map<number, number>>();
    for (const r of s3.requests) {
      const q = new URLSearchParams(r.query);
      if (r.method !== 'PUT' || !q.has('partNumber') || !q.has('uploadId')) continue;
      const parts = byUpload.get(q.get('uploadId')!) ?? new Map<number, number>();
      parts.set(Number(q.get('partNumber')), r.length ?? 0);
      byUpload.set(q.get('uploadId')!, parts);
    }
    return [...byUpload.values()].map((m) => [...m.entries()].sort((a, b) => a[0] - b[0]).map(([, size]) => size));
  }

  it('1 KiB chunks merge in the bucket; commit joins them with parts of at least 5 MiB but the last', async () => {
    const store = new S3BlobStore({
      bucket: await s3.newBucket(),
      client: { endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials, forcePathStyle: true },
    });
    try {
      const id = randomBytes(8).toString('hex');
      const chunks = [...Array.from({ length: 40 }, () => randomBytes(1024)), randomBytes(9 * 1024 * 1024 + 5), randomBytes(1024), randomBytes(1024)];
      let state = await store.createUpload(id);
      const seenBefore = s3.requests.length;
      for (const c of chunks) state = await store.appendUpload(id, state, Readable.from([c]));
      // a binary counter of small pieces: never more than about log2(n) of them, however many chunks came
      expect((state.pieces as unknown[]).length).toBeLessThanOrEqual(8);
      const data = Buffer.concat(chunks);
      expect(state.size).toBe(data.length);
      // another store (another node) reads back and commits what this one appended
      const other = new S3BlobStore({ bucket: (store as unknown as { bucket: string }).bucket, client: { endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials, forcePathStyle: true } });
      const back: Buffer[] = [];
      for await (const c of (await other.readUpload(id, await other.uploadStatus(id))) as AsyncIterable<Buffer>) back.push(c);
      expect(Buffer.concat(back).equals(data)).toBe(true);
      await other.commitUpload(id, await other.uploadStatus(id), sha256(data));
      other.close();
      const got: Buffer[] = [];
      for await (const c of (await store.read(sha256(data))).stream as AsyncIterable<Buffer>) got.push(c);
      expect(Buffer.concat(got).equals(data)).toBe(true);
      // the 9 MiB chunk and the commit's join went as multipart uploads: AWS would take their parts
      s3.requests.splice(0, seenBefore);
      const uploads = multipartUploads();
      expect(uploads.length).toBeGreaterThanOrEqual(2);
      for (const parts of uploads) {
        expect(parts.length).toBeLessThanOrEqual(10_000);
        for (const size of parts.slice(0, -1)) expect(size).toBeGreaterThanOrEqual(MIN_PART);
      }
      expect((await store.listUploads({ limit: 10 })).uploads).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('part sizes keep every object within 10,000 parts of at least 5 MiB', () => {
    for (const size of [0, 1, MIN_PART, 8 * 1024 * 1024 * 10_000, 8 * 1024 * 1024 * 10_000 + 1, 5 * 1024 ** 4]) {
      const part = partSizeFor(size);
      expect(part).toBeGreaterThanOrEqual(MIN_PART);
      expect(Math.ceil(size / part)).toBeLessThanOrEqual(10_000);
    }
    expect(() => partSizeFor(6 * 1024 ** 4 * 10)).toThrow(RangeError);
  });
});
