import { createHash } from 'node:crypto';
import { fstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHUNK_SIZE, releaseChunk, takeChunkBuffer } from '../chunk-pool.js';
import { FileRangeStream } from './file-range-stream.js';

let dir: string;
let file: string;
const bytes = Buffer.alloc(CHUNK_SIZE * 2 + 1000);
for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 11)) & 0xff;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ncr-range-'));
  file = join(dir, 'blob');
  writeFileSync(file, bytes);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Reads the stream like the HTTP layer does: each chunk copied out (as the socket would), then released. */
async function drain(s: FileRangeStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of s) {
    parts.push(Buffer.from(chunk as Buffer));
    releaseChunk(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

const isClosed = (fd: number) => {
  try {
    fstatSync(fd);
    return false;
  } catch {
    return true;
  }
};

describe('FileRangeStream', () => {
  it('streams the whole file, a range, and the end of the file, byte-exact through reused buffers', async () => {
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(sha(await drain(new FileRangeStream(openSync(file, 'r'))))).toBe(sha(bytes));
    expect(await drain(new FileRangeStream(openSync(file, 'r'), 0, bytes.length - 1))).toEqual(bytes);
    expect(await drain(new FileRangeStream(openSync(file, 'r'), 100, CHUNK_SIZE + 99))).toEqual(bytes.subarray(100, CHUNK_SIZE + 100));
    expect(await drain(new FileRangeStream(openSync(file, 'r'), bytes.length - 10))).toEqual(bytes.subarray(bytes.length - 10));
  });

  it('closes its descriptor at the end and when destroyed mid-read', async () => {
    const fd1 = openSync(file, 'r');
    await drain(new FileRangeStream(fd1));
    expect(isClosed(fd1)).toBe(true);

    const fd2 = openSync(file, 'r');
    const s = new FileRangeStream(fd2);
    s.resume(); // a read is in flight right away
    const closed = new Promise((resolve) => s.once('close', resolve));
    s.destroy();
    await closed;
    expect(isClosed(fd2)).toBe(true);
  });

  it('fails when the file is shorter than the range it was asked for', async () => {
    await expect(drain(new FileRangeStream(openSync(file, 'r'), 0, bytes.length + 10))).rejects.toThrow(/file ended at byte/);
  });

  it('a released chunk goes back to the pool, an unknown buffer is ignored', async () => {
    const s = new FileRangeStream(openSync(file, 'r'), 0, 9);
    const chunks: Buffer[] = [];
    for await (const c of s) chunks.push(c as Buffer);
    expect(chunks).toHaveLength(1);
    releaseChunk(Buffer.alloc(3)); // not lent: no effect
    releaseChunk(chunks[0]!);
    expect(takeChunkBuffer().buffer).toBe(chunks[0]!.buffer);
  });
});
