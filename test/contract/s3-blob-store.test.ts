import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UploadOffsetMismatchError } from '../../src/storage/blob/port.js';
import { MIN_PART, S3BlobStore, partSizeFor } from '../../src/storage/blob/s3/s3-blob-store.js';
import { startS3, type S3Request, type TestS3 } from '../helpers/s3.js';
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
  const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

  /** Every multipart upload the server saw (in `requests`): its parts' sizes in part-number order. */
  function multipartUploads(requests: S3Request[] = s3.requests): number[][] {
    const byUpload = new Map<string, Map<number, number>>();
    for (const r of requests) {
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

  it('putBlob: visible only once verified; a failed check or source stores nothing and keeps what was there', async () => {
    const store = new S3BlobStore({
      bucket: await s3.newBucket(),
      client: { endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials, forcePathStyle: true },
    });
    const bytesOf = async (digest: string) => {
      const parts: Buffer[] = [];
      for await (const c of (await store.read(digest)).stream as AsyncIterable<Buffer>) parts.push(c);
      return Buffer.concat(parts);
    };
    try {
      for (const size of [0, 1000, 17 * 1024 * 1024 + 3]) {
        const data = randomBytes(size);
        const digest = sha256(data);
        const seenBefore = s3.requests.length;
        let visibleAtVerify: unknown = 'not called';
        const stored = await store.putBlob(digest, Readable.from(size ? [data.subarray(0, 1000), data.subarray(1000)] : []), async () => {
          visibleAtVerify = await store.stat(digest);
        });
        expect(stored).toBe(size);
        expect(visibleAtVerify).toBeUndefined();
        expect((await bytesOf(digest)).equals(data)).toBe(true);
        const parts = multipartUploads(s3.requests.slice(seenBefore));
        for (const p of parts) for (const n of p.slice(0, -1)) expect(n).toBeGreaterThanOrEqual(MIN_PART);
        if (size > 16 * 1024 * 1024) expect(parts).toHaveLength(1);
      }
      // a refused check: nothing stored, the error is the check's; a blob already there is left as it was
      for (const size of [1000, 17 * 1024 * 1024]) {
        const data = randomBytes(size);
        const refused = store.putBlob(sha256(data), Readable.from([data]), async () => {
          throw new Error('digest mismatch');
        });
        await expect(refused).rejects.toThrow('digest mismatch');
        expect(await store.stat(sha256(data))).toBeUndefined();
      }
      const kept = randomBytes(2000);
      const digest = sha256(kept);
      await store.putBlob(digest, Readable.from([kept]), async () => undefined);
      await expect(store.putBlob(digest, Readable.from([randomBytes(2000)]), async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
      expect((await bytesOf(digest)).equals(kept)).toBe(true);
      // a source that fails mid-way
      const failing = new Readable({ read() {} });
      failing.push(randomBytes(9 * 1024 * 1024));
      setTimeout(() => failing.destroy(new Error('client went away')), 50);
      await expect(store.putBlob(sha256('never'), failing, async () => undefined)).rejects.toThrow('client went away');
      expect(await store.stat(sha256('never'))).toBeUndefined();
    } finally {
      store.close();
    }
  });

  it('two nodes appending to one upload at once from the same state: exactly one wins, the other writes nothing', async () => {
    const bucket = await s3.newBucket();
    const node = () => new S3BlobStore({ bucket, client: { endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials, forcePathStyle: true } });
    const [a, b] = [node(), node()];
    try {
      const id = randomBytes(8).toString('hex');
      const s0 = await a.appendUpload(id, await a.createUpload(id), Readable.from([Buffer.from('start-')]));
      for (let round = 0; round < 5; round++) {
        const now = await a.uploadStatus(id);
        const results = await Promise.allSettled([a.appendUpload(id, now, Readable.from([Buffer.from('A'.repeat(100))])), b.appendUpload(id, now, Readable.from([Buffer.from('B'.repeat(100))]))]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(lost.reason).toBeInstanceOf(UploadOffsetMismatchError);
      }
      const end = await b.uploadStatus(id);
      expect(end.size).toBe(s0.size + 5 * 100);
      const back: Buffer[] = [];
      for await (const c of (await b.readUpload(id, end)) as AsyncIterable<Buffer>) back.push(c);
      const text = Buffer.concat(back).toString();
      expect(text).toMatch(/^start-((A{100})|(B{100})){5}$/);
      // and a create racing an existing upload keeps it
      expect((await b.createUpload(id)).size).toBe(end.size);
    } finally {
      a.close();
      b.close();
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
