import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UploadOffsetMismatchError } from '../../src/storage/blob/port.js';
import { MIN_PART, S3BlobStore, partSizeFor, type S3BlobStoreOptions } from '../../src/storage/blob/s3/s3-blob-store.js';
import { openMetaDb, type MetaDb } from '../../src/storage/meta/kysely/connect.js';
import { openUploadRecords } from '../../src/storage/meta/kysely/upload-records.repo.js';
import { startS3, type S3Request, type TestS3 } from '../helpers/s3.js';
import { createPgDatabase, DB_KINDS } from '../helpers/server.js';
import { blobStoreContract } from './blob-store.contract.js';

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => s3?.close());

// upload sessions keep their state in the metadata database: every test here runs on each
describe.each(DB_KINDS)('on %s', (db) => {
  let meta: MetaDb;
  let uploads: Awaited<ReturnType<typeof openUploadRecords>>;
  let closeMeta: () => Promise<void>;
  beforeAll(async () => {
    if (db === 'postgres') {
      const pg = await createPgDatabase();
      meta = await openMetaDb({ databaseUrl: pg.url, dataDir: tmpdir() });
      closeMeta = async () => {
        await meta.close();
        await pg.drop();
      };
    } else {
      const dir = await mkdtemp(join(tmpdir(), 'ncr-s3-contract-'));
      meta = await openMetaDb({ dataDir: dir });
      closeMeta = async () => {
        await meta.close();
        await rm(dir, { recursive: true, force: true });
      };
    }
  });
  beforeAll(async () => {
    uploads = await openUploadRecords(meta);
  });
  afterAll(async () => {
    await uploads?.close();
    await closeMeta?.();
  });

  /** A store (a node) on `bucket`; stores on one bucket share the database as nodes do. */
  const options = (bucket: string, prefix?: string): S3BlobStoreOptions => ({
    bucket,
    prefix,
    client: { endpoint: s3.endpoint, region: s3.region, credentials: s3.credentials, forcePathStyle: true },
    records: uploads.records(`s3://${bucket}/${prefix ?? ''}`),
  });

blobStoreContract('S3BlobStore', async () => {
  const store = new S3BlobStore(options(await s3.newBucket(), 'ncr/'));
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
    const store = new S3BlobStore(options(await s3.newBucket()));
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
      const other = new S3BlobStore(options((store as unknown as { bucket: string }).bucket));
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

  // with the length known (one streamed PutObject from 256 KiB on) and without it (buffered, or a multipart upload)
  it.each([false, true])('putBlob (length given: %s): visible only once verified; a failed check or source stores nothing and keeps what was there', async (known) => {
    const len = (n: number) => (known ? n : undefined);
    const store = new S3BlobStore(options(await s3.newBucket()));
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
        const stored = await store.putBlob(
          digest,
          Readable.from(size ? [data.subarray(0, 1000), data.subarray(1000)] : []),
          async () => {
            visibleAtVerify = await store.stat(digest);
          },
          len(size),
        );
        expect(stored).toBe(size);
        expect(visibleAtVerify).toBeUndefined();
        expect((await bytesOf(digest)).equals(data)).toBe(true);
        const parts = multipartUploads(s3.requests.slice(seenBefore));
        for (const p of parts) for (const n of p.slice(0, -1)) expect(n).toBeGreaterThanOrEqual(MIN_PART);
        if (size > 16 * 1024 * 1024) expect(parts).toHaveLength(known ? 0 : 1);
        // a known length above 256 KiB: one PutObject at the blob's key, nothing else written
        if (known && size > 256 * 1024) expect(s3.requests.slice(seenBefore).filter((r) => r.method === 'PUT' || r.method === 'POST')).toHaveLength(1);
      }
      // a refused check: nothing stored, the error is the check's; a blob already there is left as it was
      for (const size of [1000, 17 * 1024 * 1024]) {
        const data = randomBytes(size);
        const refused = store.putBlob(
          sha256(data),
          Readable.from([data]),
          async () => {
            throw new Error('digest mismatch');
          },
          len(size),
        );
        await expect(refused).rejects.toThrow('digest mismatch');
        expect(await store.stat(sha256(data))).toBeUndefined();
      }
      const kept = randomBytes(2000);
      const digest = sha256(kept);
      await store.putBlob(digest, Readable.from([kept]), async () => undefined, len(kept.length));
      await expect(store.putBlob(digest, Readable.from([randomBytes(2000)]), async () => Promise.reject(new Error('no')), len(2000))).rejects.toThrow('no');
      expect((await bytesOf(digest)).equals(kept)).toBe(true);
      const big = randomBytes(1024 * 1024);
      const bigDigest = sha256(big);
      await store.putBlob(bigDigest, Readable.from([big]), async () => undefined, len(big.length));
      await expect(store.putBlob(bigDigest, Readable.from([randomBytes(1024 * 1024)]), async () => Promise.reject(new Error('no')), len(big.length))).rejects.toThrow('no');
      expect((await bytesOf(bigDigest)).equals(big)).toBe(true);
      if (known) {
        // fewer bytes than announced: refused, nothing stored
        const short = randomBytes(1024 * 1024);
        await expect(store.putBlob(sha256(short), Readable.from([short]), async () => undefined, short.length + 1)).rejects.toThrow(/bytes/);
        expect(await store.stat(sha256(short))).toBeUndefined();
      }
      // a source that fails mid-way
      const failing = new Readable({ read() {} });
      failing.push(randomBytes(9 * 1024 * 1024));
      setTimeout(() => failing.destroy(new Error('client went away')), 50);
      await expect(store.putBlob(sha256('never'), failing, async () => undefined, len(20 * 1024 * 1024))).rejects.toThrow('client went away');
      expect(await store.stat(sha256('never'))).toBeUndefined();
    } finally {
      store.close();
    }
  });

  it('two nodes appending to one upload at once from the same state: exactly one wins, the other writes nothing', async () => {
    const bucket = await s3.newBucket();
    const node = () => new S3BlobStore(options(bucket));
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

  it(`upload states: replaced only at the generation read, kept apart by scope, and where ${db === 'sqlite' ? 'a file of their own' : 'the shared database'} keeps them`, async () => {
    const a = uploads.records('s3://one/');
    const b = uploads.records('s3://two/');
    expect(await a.insert('u1', '{"n":0}', 1)).toBe(true);
    expect(await a.insert('u1', '{"n":9}', 2)).toBe(false);
    expect(await b.get('u1')).toBeUndefined();
    expect(await a.replace('u1', 1, '{"n":1}', 3)).toBe(false);
    expect(await a.replace('u1', 0, '{"n":1}', 3)).toBe(true);
    expect(await a.get('u1')).toEqual({ gen: 1, state: '{"n":1}', updatedAt: 3 });
    expect(await a.page(undefined, 10)).toEqual([{ id: 'u1', updatedAt: 3 }]);
    const mainTables = await sql<{ n: number }>`select count(*) as n from ${sql.raw(db === 'sqlite' ? "sqlite_master where type = 'table' and" : 'information_schema.tables where')} ${sql.raw(db === 'sqlite' ? 'name' : 'table_name')} = 'blob_upload_records'`.execute(meta.db);
    if (db === 'sqlite') {
      // beside the database, not in it: its commits skip the fsync the metadata's pay
      expect(Number(mainTables.rows[0]!.n)).toBe(0);
      expect(existsSync(meta.file!.replace(/\.db$/, '-uploads.db'))).toBe(true);
      // and what was written is there for the next process
      const again = await openUploadRecords(meta);
      expect(await again.records('s3://one/').get('u1')).toEqual({ gen: 1, state: '{"n":1}', updatedAt: 3 });
      await again.close();
    } else {
      expect(Number(mainTables.rows[0]!.n)).toBe(1);
    }
    expect(await a.delete('u1')).toBe(1);
    expect(await a.delete('u1')).toBeUndefined();
  });
});
