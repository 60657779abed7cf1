import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SharedFill } from '../../domain/cache/shared-fill.js';
import { FsFillSpools } from './fs-spool.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ncr-spool-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('fill spools on disk', () => {
  it('reads back what was appended, leaves no file, and fails once removed', async () => {
    const spool = await new FsFillSpools(join(dir, 'fills')).create();
    expect(readdirSync(join(dir, 'fills'))).toEqual([]);
    await spool.append(Buffer.from('hello '));
    await spool.append(Buffer.from('world'));
    expect((await spool.read(0, 100)).toString()).toBe('hello world');
    expect((await spool.read(6, 3)).toString()).toBe('wor');
    await spool.remove();
    await expect(spool.read(0, 1)).rejects.toThrow();
  });

  it('a late reader of a shared fill gets every byte from the first, and ends only once the fill is stored', async () => {
    const spool = await new FsFillSpools(dir).create();
    const fill = new SharedFill(spool, 8);
    const up = new PassThrough();
    up.pipe(fill.sink());
    up.write(Buffer.from('abcd'));
    await tick();
    const late = fill.reader();
    let ended = false;
    const body = readAll(late).then((b) => ((ended = true), b));
    up.end(Buffer.from('efgh'));
    await tick();
    expect(ended).toBe(false);
    fill.end();
    expect((await body).toString()).toBe('abcdefgh');
    expect(fill.joinable).toBe(false);
    // the last reader gone: the spool is removed
    await tick();
    await expect(spool.read(0, 1)).rejects.toThrow();
  });

  it('a late reader of a fill that fails fails too', async () => {
    const fill = new SharedFill(await new FsFillSpools(dir).create(), -1);
    const up = new PassThrough();
    up.pipe(fill.sink());
    up.write(Buffer.from('abcd'));
    await tick();
    const late = readAll(fill.reader());
    fill.end(new Error('digest mismatch'));
    await expect(late).rejects.toThrow(/digest mismatch/);
  });
});
