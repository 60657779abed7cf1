import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uploadLockPath, uploadPath } from '../paths.js';
import { UploadOffsetMismatchError, type UploadState } from '../port.js';
import { FsBlobStore } from './fs-blob-store.js';

let dir: string;
let store: FsBlobStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ncr-fs-blob-'));
  store = new FsBlobStore(dir);
  await store.init();
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sha = (s: string | Buffer) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const from = (s: string) => Readable.from([Buffer.from(s)]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `count` chunks of `size` bytes filled with `fill`, one every `everyMs`: a client sending slowly. */
function slow(fill: number, count: number, size: number, everyMs: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent === count) return void this.push(null);
      sent++;
      setTimeout(() => this.push(Buffer.alloc(size, fill)), everyMs);
    },
  });
}

describe('FsBlobStore', () => {
  it('keeps an upload as one file whose size is its state, and commits by renaming it into blobs/', async () => {
    const s0 = await store.createUpload('u1');
    expect(s0).toEqual({ size: 0 });
    const s1 = await store.appendUpload('u1', s0, from('hello '));
    expect(s1).toEqual({ size: 6 });
    expect(statSync(uploadPath(dir, 'u1')).size).toBe(6);
    const s2 = await store.appendUpload('u1', s1, from('world'), { flush: true });
    await store.commitUpload('u1', s2, sha('hello world'));
    expect(existsSync(uploadPath(dir, 'u1'))).toBe(false);
    expect(existsSync(uploadLockPath(dir, 'u1'))).toBe(false);
    expect(await text((await store.read(sha('hello world'))).stream)).toBe('hello world');
  });

  it('a chunk whose client goes away is cut back every time, and the store keeps its descriptor to do it', async () => {
    // The write stream closes its descriptor when the source fails (even with autoClose off) while a write may still
    // be in flight; the store must wait for that write, cut the file by its own descriptor, and close it once.
    const failing = (first: Buffer) => {
      let sent = false;
      return new Readable({
        read() {
          if (!sent) {
            sent = true;
            this.push(first);
          } else this.destroy(new Error('client went away'));
        },
      });
    };
    const s0 = await store.appendUpload('cut', await store.createUpload('cut'), from('keep'));
    for (let i = 0; i < 10; i++) {
      await expect(store.appendUpload('cut', s0, failing(Buffer.alloc(8 * 1024 * 1024 + i, 0x78)))).rejects.toThrow('client went away');
      expect(statSync(uploadPath(dir, 'cut')).size).toBe(4);
    }
    const s1 = await store.appendUpload('cut', s0, from('+more'), { flush: true });
    expect(readFileSync(uploadPath(dir, 'cut'), 'utf8')).toBe('keep+more');
    expect(s1.size).toBe(9);
  });

  it('commits exactly the state’s bytes even when another process appended after the flush', async () => {
    const s = await store.appendUpload('u4', await store.createUpload('u4'), from('abc'), { flush: true });
    appendFileSync(uploadPath(dir, 'u4'), 'zzz'); // a writer elsewhere, unknown to this process
    await store.commitUpload('u4', s, sha('abc'));
    expect(await text((await store.read(sha('abc'))).stream)).toBe('abc');
  });

  it('a commit recreates a blob directory removed since this process made it', async () => {
    const s1 = await store.appendUpload('d1', await store.createUpload('d1'), from('one'), { flush: true });
    await store.commitUpload('d1', s1, sha('one'));
    await store.delete(sha('one'));
    rmSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    const s2 = await store.appendUpload('d2', await store.createUpload('d2'), from('one'), { flush: true });
    await store.commitUpload('d2', s2, sha('one'));
    expect(await text((await store.read(sha('one'))).stream)).toBe('one');
  });

  it('a commit of an upload last written long ago stamps the blob with the commit time (GC safe window)', async () => {
    const s = await store.appendUpload('old', await store.createUpload('old'), from('old bytes'), { flush: true });
    const dayAgo = new Date(Date.now() - 24 * 3600_000);
    utimesSync(uploadPath(dir, 'old'), dayAgo, dayAgo);
    const before = Date.now();
    await store.commitUpload('old', s, sha('old bytes'));
    expect((await store.stat(sha('old bytes')))!.modifiedAt).toBeGreaterThanOrEqual(before - 1000);
  });

  it('listUploads reports the file times, and the remains of a writer that died (a lock without data)', async () => {
    await store.createUpload('aaa');
    writeFileSync(uploadLockPath(dir, 'zzz'), ''); // data committed or aborted, lock left by a crash
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(uploadPath(dir, 'aaa'), hourAgo, hourAgo);
    utimesSync(uploadLockPath(dir, 'zzz'), hourAgo, hourAgo);
    const { uploads } = await store.listUploads({ limit: 10 });
    expect(uploads.map((u) => u.id)).toEqual(['aaa', 'zzz']);
    expect(uploads[0]!.lastWrittenAt).toBeCloseTo(hourAgo.getTime(), -3);
    await store.abortUpload('zzz');
    expect(readdirSync(join(dir, 'uploads'))).toEqual(['aaa']);
  });

  it('a missing upload or blob is the typed error, and its message names no path', async () => {
    const errs: unknown[] = await Promise.all([
      store.appendUpload('nope', { size: 0 }, from('x')).catch((e: unknown) => e),
      store.read(sha('absent')).catch((e: unknown) => e),
      store.uploadStatus('nope').catch((e: unknown) => e),
    ]);
    for (const e of errs) {
      expect(e).toBeInstanceOf(Error);
      expect((e as Error).message).not.toContain(dir);
    }
    expect(existsSync(uploadLockPath(dir, 'nope'))).toBe(false);
  });

  describe('two processes on one directory', () => {
    let other: FsBlobStore;
    beforeEach(async () => {
      other = new FsBlobStore(dir);
      await other.init();
    });

    it('writing concurrently to one upload: exactly one wins, the other gets the mismatch, bytes never interleave', async () => {
      for (let round = 0; round < 5; round++) {
        const id = `race${round}`;
        const base = await store.appendUpload(id, await store.createUpload(id), from('base:'));
        const seen = await other.uploadStatus(id);
        // each writer sends 32 x 64 KiB, a few ms apart: long enough to overlap the other writer's chunks
        const results = await Promise.allSettled([
          store.appendUpload(id, base, slow(0x61, 32, 64 * 1024, round % 2 ? 1 : 0)),
          other.appendUpload(id, seen, slow(0x62, 32, 64 * 1024, round % 2 ? 0 : 1)),
        ]);
        const won = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<UploadState>[];
        const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0]!.reason).toBeInstanceOf(UploadOffsetMismatchError);
        const bytes = readFileSync(uploadPath(dir, id));
        expect(bytes.length).toBe(5 + 32 * 64 * 1024);
        expect(won[0]!.value.size).toBe(bytes.length);
        const body = bytes.subarray(5);
        expect(body.every((b) => b === body[0])).toBe(true);
        expect(existsSync(uploadLockPath(dir, id))).toBe(false);
      }
    });

    it('a writer that read the state before another appended gets the mismatch (size re-checked under the lock)', async () => {
      const s0 = await store.createUpload('seq');
      const seen = await other.uploadStatus('seq');
      await store.appendUpload('seq', s0, from('first'));
      await expect(other.appendUpload('seq', seen, from('second'))).rejects.toMatchObject({ name: 'UploadOffsetMismatchError', expected: 0, actual: 5 });
      expect(readFileSync(uploadPath(dir, 'seq'), 'utf8')).toBe('first');
    });

    it('a commit while another process is appending is refused, and the blob is not touched by the append', async () => {
      const s0 = await store.appendUpload('c', await store.createUpload('c'), from('abc'), { flush: true });
      const appending = other.appendUpload('c', s0, slow(0x7a, 10, 1024, 20));
      await sleep(50);
      await expect(store.commitUpload('c', s0, sha('abc'))).rejects.toBeInstanceOf(UploadOffsetMismatchError);
      const s1 = await appending;
      await store.commitUpload('c', s1, sha(Buffer.concat([Buffer.from('abc'), Buffer.alloc(10 * 1024, 0x7a)])));
    });
  });

  describe('stale locks', () => {
    it('a lock left by a dead writer is broken once stale; a fresh one is respected', async () => {
      const quick = new FsBlobStore(dir, { lockStaleMs: 500 });
      const s0 = await quick.createUpload('l');
      writeFileSync(uploadLockPath(dir, 'l'), ''); // a writer in another process holds it
      await expect(quick.appendUpload('l', s0, from('x'))).rejects.toBeInstanceOf(UploadOffsetMismatchError);
      const old = new Date(Date.now() - 10_000);
      utimesSync(uploadLockPath(dir, 'l'), old, old); // ... and died long ago
      expect(await quick.appendUpload('l', s0, from('x'))).toEqual({ size: 1 });
      expect(existsSync(uploadLockPath(dir, 'l'))).toBe(false);
    });

    it('a long append keeps its lock fresh, so nobody breaks it', async () => {
      const a = new FsBlobStore(dir, { lockStaleMs: 150 });
      const b = new FsBlobStore(dir, { lockStaleMs: 150 });
      const s0 = await a.createUpload('long');
      // nothing arrives for 500 ms (so the size still matches `s0`), then 2 KiB: the lock outlives its stale age
      const long = a.appendUpload('long', s0, slow(0x31, 2, 1024, 500));
      await sleep(350);
      await expect(b.appendUpload('long', s0, from('intruder'))).rejects.toBeInstanceOf(UploadOffsetMismatchError);
      expect(await long).toEqual({ size: 2 * 1024 });
      expect(readFileSync(uploadPath(dir, 'long')).every((c) => c === 0x31)).toBe(true);
    });
  });
});
