import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../port.js';
import { blobPath, tmpDir, uploadPath } from '../paths.js';

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/** BlobStore on a local filesystem. Commits are fsync'd (file and directory) before they resolve. */
export class FsBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  async init(): Promise<void> {
    await mkdir(join(this.root, 'blobs'), { recursive: true });
    await mkdir(join(this.root, 'uploads'), { recursive: true });
    await mkdir(tmpDir(this.root), { recursive: true });
  }

  async stat(digest: string) {
    try {
      const s = await stat(blobPath(this.root, digest));
      return { size: s.size };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async read(digest: string, range?: { start: number; end: number }): Promise<Readable> {
    const path = blobPath(this.root, digest);
    // Open first so a missing blob rejects here rather than as a stream error after headers went out.
    const fh = await open(path, 'r');
    // 1 MiB reads: a typical small layer goes out in one read and one write.
    return fh.createReadStream({ start: range?.start, end: range?.end, highWaterMark: 1024 * 1024 });
  }

  async delete(digest: string) {
    await rm(blobPath(this.root, digest), { force: true });
  }

  async createUpload(id: string) {
    const path = uploadPath(this.root, id);
    try {
      await writeFile(path, '', { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }

  async appendUpload(id: string, offset: number, source: Readable): Promise<number> {
    const path = uploadPath(this.root, id);
    const current = await this.uploadSize(id);
    if (current === undefined) throw Object.assign(new Error(`upload ${id} not found`), { code: 'ENOENT' });
    if (current > offset) await truncate(path, offset);
    let written = 0;
    const out = createWriteStream(path, { flags: 'r+', start: offset, highWaterMark: 256 * 1024 });
    source.on('data', (c: Buffer) => {
      written += c.length;
    });
    try {
      await pipeline(source, out);
    } catch (err) {
      await truncate(path, offset).catch(() => undefined);
      throw err;
    }
    return offset + written;
  }

  async uploadSize(id: string) {
    try {
      return (await stat(uploadPath(this.root, id))).size;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async readUpload(id: string, start = 0): Promise<Readable> {
    return createReadStream(uploadPath(this.root, id), { start });
  }

  async commitUpload(id: string, digest: string, size: number) {
    const src = uploadPath(this.root, id);
    const dest = blobPath(this.root, digest);
    if (await this.stat(digest)) {
      await rm(src, { force: true });
      return;
    }
    const actual = (await stat(src)).size;
    if (actual > size) await truncate(src, size);
    await fsyncPath(src);
    await mkdir(dirname(dest), { recursive: true });
    await rename(src, dest);
    await fsyncPath(dirname(dest));
  }

  async deleteUpload(id: string) {
    await rm(uploadPath(this.root, id), { force: true });
  }

  async staleUploads(before: number, limit: number) {
    const dir = join(this.root, 'uploads');
    const out: string[] = [];
    for (const name of await readdir(dir)) {
      if (out.length >= limit) break;
      const s = await stat(join(dir, name)).catch(() => undefined);
      if (s && s.mtimeMs < before) out.push(name);
    }
    return out;
  }

  async ping() {
    const probe = join(tmpDir(this.root), '.ping');
    await writeFile(probe, String(Date.now()));
    await rm(probe, { force: true });
  }
}
