import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uploadPath } from '../paths.js';
import { FsBlobStore } from './fs-blob-store.js';

let dir: string;
let store: FsBlobStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ncr-fs-blob-'));
  store = new FsBlobStore(dir);
  await store.init();
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sha = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

describe('FsBlobStore', () => {
  it('appends chunks, flushes the last, commits under the digest and reads whole or by range', async () => {
    await store.createUpload('u1');
    expect(await store.appendUpload('u1', 0, Readable.from([Buffer.from('hello ')]))).toBe(6);
    expect(await store.appendUpload('u1', 6, Readable.from([Buffer.from('world')]), { flush: true })).toBe(11);
    await store.commitUpload('u1', sha('hello world'), 11);
    expect(await store.uploadSize('u1')).toBeUndefined();
    expect(await store.stat(sha('hello world'))).toEqual({ size: 11 });
    expect(await text(await store.read(sha('hello world')))).toBe('hello world');
    expect(await text(await store.read(sha('hello world'), { start: 6, end: 10 }))).toBe('world');
  });

  it('commits only the first `size` bytes when the upload holds more than was flushed', async () => {
    await store.createUpload('u2');
    await store.appendUpload('u2', 0, Readable.from([Buffer.from('abc')]), { flush: true });
    await store.appendUpload('u2', 3, Readable.from([Buffer.from('def')]));
    await store.commitUpload('u2', sha('abcd'), 4);
    expect(await text(await store.read(sha('abcd')))).toBe('abcd');
  });

  it('commits exactly `size` bytes even when another process appended after the flush', async () => {
    await store.createUpload('u4');
    await store.appendUpload('u4', 0, Readable.from([Buffer.from('abc')]), { flush: true });
    appendFileSync(uploadPath(dir, 'u4'), 'zzz'); // a writer elsewhere, unknown to this process
    await store.commitUpload('u4', sha('abc'), 3);
    expect(await text(await store.read(sha('abc')))).toBe('abc');
  });

  it('cuts a failed chunk back to where it started, and truncates on request', async () => {
    await store.createUpload('u3');
    await store.appendUpload('u3', 0, Readable.from([Buffer.from('keep')]));
    const failing = new Readable({
      read() {
        this.push(Buffer.from('half a chunk'));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(store.appendUpload('u3', 4, failing)).rejects.toThrow('client went away');
    expect(await store.uploadSize('u3')).toBe(4);
    await store.truncateUpload('u3', 2);
    expect(await store.uploadSize('u3')).toBe(2);
  });

  it('a large chunk (synced to disk while it arrives) is stored whole', async () => {
    const part = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < part.length; i++) part[i] = i & 0xff;
    const parts = Array.from({ length: 40 }, (_, i) => Buffer.concat([Buffer.from([i]), part.subarray(1)]));
    const whole = Buffer.concat(parts);
    const digest = `sha256:${createHash('sha256').update(whole).digest('hex')}`;
    await store.createUpload('big');
    expect(await store.appendUpload('big', 0, Readable.from(parts), { flush: true })).toBe(whole.length);
    await store.commitUpload('big', digest, whole.length);
    const back = createHash('sha256');
    for await (const c of await store.read(digest)) back.update(c as Buffer);
    expect(`sha256:${back.digest('hex')}`).toBe(digest);
  });

  it('reports a missing upload and a missing blob as ENOENT', async () => {
    await expect(store.appendUpload('nope', 0, Readable.from([Buffer.from('x')]))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(store.read(sha('absent'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('committing a blob that already exists keeps it whole', async () => {
    for (const id of ['a', 'b']) {
      await store.createUpload(id);
      await store.appendUpload(id, 0, Readable.from([Buffer.from('same bytes')]), { flush: true });
      await store.commitUpload(id, sha('same bytes'), 10);
    }
    expect(await text(await store.read(sha('same bytes')))).toBe('same bytes');
  });
});
