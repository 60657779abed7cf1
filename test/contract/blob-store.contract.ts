/**
 * The BlobStore contract suite (src/storage/blob/port.ts): every driver runs it, through a test file that calls
 * `blobStoreContract(name, makeStore)`. It uses only the port, so what it checks is what callers may rely on.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BlobNotFoundError,
  UploadNotFoundError,
  UploadOffsetMismatchError,
  type BlobStore,
  type UploadState,
} from '../../src/storage/blob/port.js';

export interface StoreUnderTest {
  store: BlobStore;
  /** Removes everything the store kept (called after each test). */
  cleanup(): Promise<void>;
}

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const sha512 = (b: Buffer | string) => `sha512:${createHash('sha512').update(b).digest('hex')}`;
const source = (...parts: (Buffer | string)[]) => Readable.from(parts.map((p) => Buffer.from(p)));
/** Upload ids as callers make them: unique, `[A-Za-z0-9_-]+`. */
const newId = () => randomBytes(16).toString('hex');

async function bytesOf(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** A source that sends `first` and then fails, as a client that goes away mid-chunk. */
function failing(first: string): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(Buffer.from(first));
      } else this.destroy(new Error('client went away'));
    },
  });
}

/** State as a caller might keep it between requests: through JSON. */
const roundTrip = (s: UploadState): UploadState => JSON.parse(JSON.stringify(s)) as UploadState;

export function blobStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let t: StoreUnderTest;
    let store: BlobStore;
    beforeEach(async () => {
      t = await makeStore();
      store = t.store;
    });
    afterEach(async () => t.cleanup());

    /** Commits `data` through a one-chunk upload; returns its digest. */
    async function put(data: Buffer | string, digestOf = sha256): Promise<string> {
      const id = newId();
      const state = await store.appendUpload(id, await store.createUpload(id), source(data), { flush: true });
      const digest = digestOf(data);
      await store.commitUpload(id, state, digest);
      return digest;
    }

    describe('blobs', () => {
      it('stat: undefined when absent; size and a current modifiedAt once committed', async () => {
        expect(await store.stat(sha256('absent'))).toBeUndefined();
        const before = Date.now();
        const digest = await put('twelve bytes');
        const s = await store.stat(digest);
        expect(s?.size).toBe(12);
        // the driver's clock: allow for skew, but a fresh commit is not from another hour
        expect(Math.abs(s!.modifiedAt - before)).toBeLessThan(5 * 60_000);
      });

      it('read: whole, by inclusive range, and an empty blob; BlobNotFoundError when absent', async () => {
        const digest = await put('hello world');
        expect((await bytesOf((await store.read(digest)).stream)).toString()).toBe('hello world');
        expect((await bytesOf((await store.read(digest, { start: 6, end: 10 })).stream)).toString()).toBe('world');
        expect((await bytesOf((await store.read(digest, { start: 0, end: 0 })).stream)).toString()).toBe('h');
        const empty = await put('');
        expect(await store.stat(empty)).toMatchObject({ size: 0 });
        expect((await bytesOf((await store.read(empty)).stream)).length).toBe(0);
        const err = await store.read(sha256('absent')).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(BlobNotFoundError);
        expect((err as BlobNotFoundError).digest).toBe(sha256('absent'));
      });

      it('read: chunks given back with release as they are consumed keep later reads byte-exact', async () => {
        const data = randomBytes(3 * 1024 * 1024 + 123);
        const digest = await put(data);
        // two readers at once, each copying a chunk out and releasing it, as the HTTP layer does after the socket write
        const readReleasing = async () => {
          const { stream, release } = await store.read(digest);
          const parts: Buffer[] = [];
          for await (const c of stream as AsyncIterable<Buffer>) {
            parts.push(Buffer.from(c));
            release(c);
          }
          return Buffer.concat(parts);
        };
        const [a, b] = await Promise.all([readReleasing(), readReleasing()]);
        expect(a.equals(data)).toBe(true);
        expect(b.equals(data)).toBe(true);
        const ranged = await store.read(digest, { start: 1_000_000, end: 2_500_000 });
        ranged.release(Buffer.alloc(3)); // not one of its chunks: ignored
        expect((await bytesOf(ranged.stream)).equals(data.subarray(1_000_000, 2_500_001))).toBe(true);
      });

      it('redirectUrl: a URL or undefined, never an error for a digest', async () => {
        const digest = await put('redirect me');
        const url = await store.redirectUrl(digest, { expiresInSeconds: 60 });
        if (url !== undefined) expect(() => new URL(url)).not.toThrow();
      });

      it('delete: the blob goes; deleting an absent blob is not an error', async () => {
        const digest = await put('delete me');
        await store.delete(digest);
        expect(await store.stat(digest)).toBeUndefined();
        await expect(store.read(digest)).rejects.toBeInstanceOf(BlobNotFoundError);
        await store.delete(digest);
        await store.delete(sha256('never there'));
      });

      it('list: pages through every committed blob once, in digest order, with size and modifiedAt', async () => {
        expect(await store.list({ limit: 10 })).toEqual({ digests: [] });
        const datas = Array.from({ length: 9 }, (_, i) => `blob number ${i} ${'x'.repeat(i)}`);
        const digests = [...(await Promise.all(datas.map((d) => put(d)))), await put('a sha512 one', sha512)];
        const sizes = new Map([...datas.map((d, i) => [digests[i]!, Buffer.byteLength(d)] as const), [digests[9]!, 12]]);
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.list({ cursor, limit: 3 });
          expect(page.digests.length).toBeLessThanOrEqual(3);
          for (const b of page.digests) {
            expect(b.size).toBe(sizes.get(b.digest));
            expect(typeof b.modifiedAt).toBe('number');
          }
          seen.push(...page.digests.map((b) => b.digest));
          cursor = page.next;
          if (cursor !== undefined) expect(page.digests).toHaveLength(3);
          expect(++pages).toBeLessThan(10);
        } while (cursor !== undefined);
        expect(seen).toEqual([...digests].sort());
        expect(pages).toBe(4);
        const all = await store.list({ limit: 100 });
        expect(all.next).toBeUndefined();
        expect(all.digests.map((b) => b.digest)).toEqual([...digests].sort());
        // an exact fit has no next page
        const exact = await store.list({ limit: 10 });
        expect(exact.digests).toHaveLength(10);
        expect(exact.next).toBeUndefined();
      });
    });

    describe('uploads', () => {
      it('lifecycle: create, append, status, read back, flush, commit; the upload is gone after', async () => {
        const id = newId();
        const created = await store.createUpload(id);
        expect(created.size).toBe(0);
        expect((await store.uploadStatus(id)).size).toBe(0);
        const one = await store.appendUpload(id, roundTrip(created), source('hello ', 'there '));
        expect(one.size).toBe(12);
        expect((await store.uploadStatus(id)).size).toBe(12);
        const two = await store.appendUpload(id, roundTrip(one), source('world'), { flush: true });
        expect(two.size).toBe(17);
        expect((await bytesOf(await store.readUpload(id, two))).toString()).toBe('hello there world');
        expect((await bytesOf(await store.readUpload(id, one))).toString()).toBe('hello there ');
        const digest = sha256('hello there world');
        await store.commitUpload(id, roundTrip(two), digest);
        expect(await store.stat(digest)).toMatchObject({ size: 17 });
        expect((await bytesOf((await store.read(digest)).stream)).toString()).toBe('hello there world');
        await expect(store.uploadStatus(id)).rejects.toBeInstanceOf(UploadNotFoundError);
        expect((await store.listUploads({ limit: 100 })).uploads.map((u) => u.id)).not.toContain(id);
      });

      it('createUpload again for an existing id returns where that upload stands', async () => {
        const id = newId();
        await store.appendUpload(id, await store.createUpload(id), source('abc'));
        expect((await store.createUpload(id)).size).toBe(3);
      });

      it('a source that fails leaves the upload at its previous state, and the error is the source error', async () => {
        const id = newId();
        const keep = await store.appendUpload(id, await store.createUpload(id), source('keep'));
        await expect(store.appendUpload(id, keep, failing('half a chunk'))).rejects.toThrow('client went away');
        const now = await store.uploadStatus(id);
        expect(now.size).toBe(4);
        const next = await store.appendUpload(id, now, source('+more'), { flush: true });
        expect((await bytesOf(await store.readUpload(id, next))).toString()).toBe('keep+more');
      });

      it('appending with a state that is no longer current is UploadOffsetMismatchError, and writes nothing', async () => {
        const id = newId();
        const s0 = await store.createUpload(id);
        const s1 = await store.appendUpload(id, s0, source('first'));
        const err = await store.appendUpload(id, s0, source('again')).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(UploadOffsetMismatchError);
        expect(err).toMatchObject({ id, expected: 0 });
        expect([undefined, 5]).toContain((err as UploadOffsetMismatchError).actual);
        expect((await store.uploadStatus(id)).size).toBe(5);
        const s2 = await store.appendUpload(id, s1, source('-second'));
        expect((await bytesOf(await store.readUpload(id, s2))).toString()).toBe('first-second');
      });

      it('an upload that is not there is UploadNotFoundError for status, append, read and commit', async () => {
        const id = newId();
        const state = await store.createUpload(id);
        await store.abortUpload(id);
        for (const op of [
          () => store.uploadStatus(id),
          () => store.appendUpload(id, state, source('x')),
          () => store.readUpload(id, state),
          () => store.commitUpload(id, state, sha256('')),
        ]) {
          const err = await op().catch((e: unknown) => e);
          expect(err).toBeInstanceOf(UploadNotFoundError);
          expect((err as UploadNotFoundError).id).toBe(id);
        }
        await expect(store.uploadStatus(newId())).rejects.toBeInstanceOf(UploadNotFoundError);
      });

      it('commit: exactly the bytes the state describes, even when more were appended after it', async () => {
        const id = newId();
        const s1 = await store.appendUpload(id, await store.createUpload(id), source('abc'), { flush: true });
        await store.appendUpload(id, s1, source('def'));
        await store.commitUpload(id, s1, sha256('abc'));
        expect((await bytesOf((await store.read(sha256('abc'))).stream)).toString()).toBe('abc');
      });

      it('commit of a digest that already exists is harmless: same blob, upload removed', async () => {
        const digest = await put('same bytes');
        const id = newId();
        const s = await store.appendUpload(id, await store.createUpload(id), source('same bytes'), { flush: true });
        await store.commitUpload(id, s, digest);
        expect((await bytesOf((await store.read(digest)).stream)).toString()).toBe('same bytes');
        await expect(store.uploadStatus(id)).rejects.toBeInstanceOf(UploadNotFoundError);
        // and once committed, the upload is gone: a second commit of the same session finds nothing
        await expect(store.commitUpload(id, s, digest)).rejects.toBeInstanceOf(UploadNotFoundError);
      });

      it('commit without a flushed last chunk is still durable and whole; a large chunk is stored whole', async () => {
        const data = randomBytes(20 * 1024 * 1024 + 17);
        const id = newId();
        const parts = Array.from({ length: 21 }, (_, i) => data.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
        const s = await store.appendUpload(id, await store.createUpload(id), Readable.from(parts));
        expect(s.size).toBe(data.length);
        await store.commitUpload(id, s, sha256(data));
        const back = createHash('sha256');
        for await (const c of (await store.read(sha256(data))).stream as AsyncIterable<Buffer>) back.update(c);
        expect(`sha256:${back.digest('hex')}`).toBe(sha256(data));
      });

      it('abort: the upload goes; aborting an absent one is not an error', async () => {
        const id = newId();
        await store.appendUpload(id, await store.createUpload(id), source('bytes'));
        await store.abortUpload(id);
        await expect(store.uploadStatus(id)).rejects.toBeInstanceOf(UploadNotFoundError);
        await store.abortUpload(id);
        await store.abortUpload(newId());
        expect((await store.listUploads({ limit: 100 })).uploads.map((u) => u.id)).not.toContain(id);
      });

      it('listUploads: pages through every upload once, in id order, with when each was last written', async () => {
        expect(await store.listUploads({ limit: 10 })).toEqual({ uploads: [] });
        const before = Date.now();
        const ids = Array.from({ length: 7 }, newId);
        for (const id of ids) await store.createUpload(id);
        await store.appendUpload(ids[3]!, await store.uploadStatus(ids[3]!), source('written'));
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listUploads({ cursor, limit: 3 });
          expect(page.uploads.length).toBeLessThanOrEqual(3);
          for (const u of page.uploads) expect(Math.abs(u.lastWrittenAt - before)).toBeLessThan(5 * 60_000);
          seen.push(...page.uploads.map((u) => u.id));
          cursor = page.next;
        } while (cursor !== undefined);
        expect(seen).toEqual([...ids].sort());
        await store.abortUpload(ids[0]!);
        const rest = await store.listUploads({ limit: 7 });
        expect(rest.uploads.map((u) => u.id)).toEqual([...ids].sort().filter((id) => id !== ids[0]));
        expect(rest.next).toBeUndefined();
      });

      it('ping resolves', async () => {
        await store.ping();
      });
    });
  });
}
