import {
  createWriteStream,
  fdatasync as fsFdatasync,
  fsync as fsFsync,
  ftruncate as fsFtruncate,
  open as fsOpen,
  write as fsWrite,
  writev as fsWritev,
} from 'node:fs';
import { mkdir, readdir, rename, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { releaseChunk } from '../chunk-pool.js';
import { blobPath, blobsDir, tmpDir, uploadIdOf, uploadPath, uploadsDir } from '../paths.js';
import {
  BlobNotFoundError,
  UploadNotFoundError,
  UploadOffsetMismatchError,
  type BlobBody,
  type BlobInfo,
  type BlobStore,
  type UploadInfo,
  type UploadState,
} from '../port.js';
import { closeFd, fdOp, fsyncPath, isExists, isNotFound, openFd, statOrUndefined } from './fd.js';
import { FileRangeStream } from './file-range-stream.js';
import { UploadLocks, type UploadLock } from './upload-lock.js';

/**
 * The file-system calls the upload's write stream makes, except that it never closes the descriptor: a stream
 * destroyed by a failing source closes its fd even with `autoClose: false`, and the descriptor (number) must stay
 * this store's until it has cut the file back and closed it itself; a number closed twice may by then be another file.
 */
const KEEP_FD = {
  open: fsOpen,
  write: fsWrite,
  writev: fsWritev,
  close: (_fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => cb(null),
};

/** Bytes received between two write-behind syncs of an upload. */
const SYNC_EVERY = 8 * 1024 * 1024;
/** A commit refreshes the mtime of an upload last written longer ago than this (GC's safe window starts there). */
const FRESH_MS = 60_000;

export interface FsBlobStoreOptions {
  /** A writer's upload lock untouched for this long is a dead writer's, and the next writer breaks it (upload-lock.ts). */
  lockStaleMs?: number;
}

/**
 * BlobStore on a local (or shared) filesystem, laid out as paths.ts draws it. An upload is one file whose size is its
 * offset, so its state is `{size}`; commits are fsync'd (file and directory) before they resolve.
 */
export class FsBlobStore implements BlobStore {
  /** Uploads whose bytes were fsync'd by their last append, with the size they had then (this process only). */
  private readonly flushed = new Map<string, number>();
  /** Blob directories known to exist, so a commit does not mkdir each time. */
  private readonly dirs = new Set<string>();
  private readonly locks: UploadLocks;

  constructor(
    private readonly root: string,
    opts: FsBlobStoreOptions = {},
  ) {
    this.locks = new UploadLocks(root, opts.lockStaleMs ?? 30_000);
  }

  private rememberFlushed(id: string, size: number) {
    if (this.flushed.size >= 10_000) this.flushed.delete(this.flushed.keys().next().value!);
    this.flushed.set(id, size);
  }

  async init(): Promise<void> {
    await mkdir(blobsDir(this.root), { recursive: true });
    await mkdir(uploadsDir(this.root), { recursive: true });
    await mkdir(tmpDir(this.root), { recursive: true });
  }

  async stat(digest: string) {
    const s = await statOrUndefined(blobPath(this.root, digest));
    return s && { size: s.size, modifiedAt: s.mtimeMs };
  }

  async read(digest: string, range?: { start: number; end: number }): Promise<BlobBody> {
    // Open first so a missing blob rejects here rather than as a stream error after headers went out.
    let fd: number;
    try {
      fd = await openFd(blobPath(this.root, digest), 'r');
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(digest);
      throw err;
    }
    return { stream: new FileRangeStream(fd, range?.start, range?.end), release: releaseChunk };
  }

  async redirectUrl(): Promise<string | undefined> {
    return undefined;
  }

  async delete(digest: string) {
    await rm(blobPath(this.root, digest), { force: true });
  }

  async list({ cursor, limit }: { cursor?: string; limit: number }): Promise<{ digests: BlobInfo[]; next?: string }> {
    checkLimit(limit);
    const digests: BlobInfo[] = [];
    const [cursorAlg, cursorHex = ''] = cursor ? cursor.split(':') : [];
    const root = blobsDir(this.root);
    // string order of `algorithm:hex` is the order of `algorithm:`, then of the hex (whose first two digits are the directory)
    const algorithms = (await names(root)).sort((a, b) => cmp(`${a}:`, `${b}:`));
    for (const alg of algorithms) {
      if (cursorAlg !== undefined && cmp(`${alg}:`, `${cursorAlg}:`) < 0) continue;
      const sameAlg = alg === cursorAlg;
      for (const prefix of (await names(join(root, alg))).sort()) {
        if (sameAlg && prefix < cursorHex.slice(0, 2)) continue;
        for (const hex of (await names(join(root, alg, prefix))).sort()) {
          const digest = `${alg}:${hex}`;
          if (cursor !== undefined && digest <= cursor) continue;
          if (digests.length === limit) return { digests, next: digests[digests.length - 1]!.digest };
          const s = await statOrUndefined(join(root, alg, prefix, hex));
          if (s) digests.push({ digest, size: s.size, modifiedAt: s.mtimeMs });
        }
      }
    }
    return { digests };
  }

  async createUpload(id: string): Promise<UploadState> {
    try {
      await closeFd(await openFd(uploadPath(this.root, id), 'wx'));
      return { size: 0 };
    } catch (err) {
      if (!isExists(err)) throw err;
      return this.uploadStatus(id);
    }
  }

  async uploadStatus(id: string): Promise<UploadState> {
    const s = await statOrUndefined(uploadPath(this.root, id));
    if (!s) throw new UploadNotFoundError(id);
    return { size: s.size };
  }

  async appendUpload(id: string, state: UploadState, source: Readable, opts: { flush?: boolean } = {}): Promise<UploadState> {
    const path = uploadPath(this.root, id);
    // An error of `source` while the lock and the file are being opened would have no listener yet (and an 'error'
    // without one takes the process down): keep it, and fail with it once they are.
    let early: unknown;
    const onEarly = (err: unknown) => void (early ??= err);
    source.on('error', onEarly);
    let lock: UploadLock | undefined;
    let fd: number | undefined;
    try {
      // The lock comes before the open: a descriptor opened earlier could be writing into a file another node has
      // since committed (renamed into blobs/) or discarded.
      lock = await this.locks.tryAcquire(id);
      if (!lock) throw new UploadOffsetMismatchError(id, state.size, (await statOrUndefined(path))?.size);
      // Under the lock nothing renames or replaces the file (a commit takes the lock too), so the size check and
      // the open need not wait for each other.
      const [opened, stats] = await Promise.allSettled([openFd(path, 'r+'), statOrUndefined(path)]);
      if (opened.status === 'fulfilled') fd = opened.value;
      for (const r of [opened, stats]) if (r.status === 'rejected' && !isNotFound(r.reason)) throw r.reason;
      if (fd === undefined || stats.status === 'rejected' || !stats.value) throw new UploadNotFoundError(id);
      const actual = stats.value.size;
      if (actual !== state.size) throw new UploadOffsetMismatchError(id, state.size, actual);
      if (early) throw early;
      this.flushed.delete(id);
      const size = await this.writeAt(fd, path, state.size, source, opts.flush === true);
      const done = fd;
      fd = undefined;
      try {
        await closeFd(done);
      } catch (err) {
        // a network filesystem reports a failed write-back at close: the chunk is not whole, so it goes
        await truncate(path, state.size).catch(() => undefined);
        throw err;
      }
      if (opts.flush) this.rememberFlushed(id, size);
      return { size };
    } catch (err) {
      source.destroy();
      throw err;
    } finally {
      source.off('error', onEarly);
      if (fd !== undefined) await closeFd(fd).catch(() => undefined);
      await lock?.release();
    }
  }

  /** Streams `source` into the file from `offset`; on failure cuts it back to `offset` and rethrows. Resolves with the new size. */
  private async writeAt(fd: number, path: string, offset: number, source: Readable, flush: boolean): Promise<number> {
    let written = 0;
    // Write-behind: every SYNC_EVERY bytes the data written so far is handed to the disk (fdatasync on the pool)
    // while the rest is still arriving, so a large blob's final fsync finds little left to write.
    let unsynced = 0;
    let syncing: Promise<void> | undefined;
    let syncError: unknown;
    // 1 MiB of buffered writes per upload absorbs the disk's pauses (measured: push-large 1.19x -> 1.44x over 256 KiB)
    const out = createWriteStream(path, { fd, start: offset, highWaterMark: 1024 * 1024, autoClose: false, fs: KEEP_FD });
    source.on('data', (c: Buffer) => {
      written += c.length;
      unsynced += c.length;
      if (unsynced >= SYNC_EVERY && !syncing) {
        unsynced = 0;
        syncing = fdOp(fsFdatasync, fd)
          .catch((err: unknown) => void (syncError = err))
          .finally(() => (syncing = undefined));
      }
    });
    try {
      await pipeline(source, out);
      await syncing;
      if (syncError) throw syncError;
      // flush: fsync on the descriptor that wrote (no second open just to sync it)
      if (flush) await fdOp(fsFsync, fd);
    } catch (err) {
      // a destroyed stream may still have a write in flight: its 'close' comes once that write has landed, and
      // only then can the cut below not be overtaken by it
      if (!out.closed) await new Promise((resolve) => out.once('close', () => resolve(undefined)));
      await syncing;
      // under the lock, so no other writer's bytes are cut
      await fdOp((d, cb) => fsFtruncate(d, offset, cb), fd).catch(() => undefined);
      throw err;
    }
    return offset + written;
  }

  async readUpload(id: string, state: UploadState): Promise<Readable> {
    let fd: number;
    try {
      fd = await openFd(uploadPath(this.root, id), 'r');
    } catch (err) {
      if (isNotFound(err)) throw new UploadNotFoundError(id);
      throw err;
    }
    return new FileRangeStream(fd, 0, state.size - 1);
  }

  async commitUpload(id: string, state: UploadState, digest: string) {
    const src = uploadPath(this.root, id);
    const dest = blobPath(this.root, digest);
    const lock = await this.locks.tryAcquire(id);
    if (!lock) throw new UploadOffsetMismatchError(id, state.size, (await statOrUndefined(src))?.size);
    try {
      const flushedAt = this.flushed.get(id);
      this.flushed.delete(id);
      const s = await statOrUndefined(src);
      if (!s) throw new UploadNotFoundError(id);
      if (s.size < state.size) throw new UploadOffsetMismatchError(id, state.size, s.size);
      // another writer may have appended since `state` was read: the blob is exactly the bytes `state` describes
      if (s.size > state.size) await truncate(src, state.size);
      else if (Date.now() - s.mtimeMs > FRESH_MS) {
        // an upload last written long ago: GC's safe window must count from the commit, not from the last chunk
        const now = new Date();
        await utimes(src, now, now);
      }
      if (s.size > state.size || flushedAt !== state.size) await fsyncPath(src);
      const dir = dirname(dest);
      if (!this.dirs.has(dir)) {
        await mkdir(dir, { recursive: true });
        this.dirs.add(dir);
      }
      // Renaming over a blob that already exists is harmless: same digest, same bytes, and readers keep their inode.
      try {
        await rename(src, dest);
      } catch (err) {
        if (!isNotFound(err)) throw err;
        if (!(await statOrUndefined(src))) throw new UploadNotFoundError(id); // aborted meanwhile
        // the directory was removed since this process created it (an emptied prefix)
        await mkdir(dir, { recursive: true });
        await rename(src, dest);
      }
      await fsyncPath(dir);
    } finally {
      await lock.release();
    }
  }

  async abortUpload(id: string) {
    this.flushed.delete(id);
    await rm(uploadPath(this.root, id), { force: true });
    // With its data gone the upload cannot be written again, so its locks can go even if a writer still holds one.
    await this.locks.removeAll(id);
  }

  async listUploads({ cursor, limit }: { cursor?: string; limit: number }): Promise<{ uploads: UploadInfo[]; next?: string }> {
    checkLimit(limit);
    const dir = uploadsDir(this.root);
    const files = new Map<string, string[]>();
    for (const name of await names(dir)) {
      const id = uploadIdOf(name);
      if (cursor !== undefined && id <= cursor) continue;
      const list = files.get(id);
      if (list) list.push(name);
      else files.set(id, [name]);
    }
    const ids = [...files.keys()].sort();
    const uploads: UploadInfo[] = [];
    for (const id of ids) {
      if (uploads.length === limit) return { uploads, next: uploads[uploads.length - 1]!.id };
      // the data file, or what a writer that died left of the upload (its lock): the newest of them counts
      let lastWrittenAt: number | undefined;
      for (const name of files.get(id)!) {
        const s = await statOrUndefined(join(dir, name));
        if (s) lastWrittenAt = Math.max(lastWrittenAt ?? 0, s.mtimeMs);
      }
      if (lastWrittenAt !== undefined) uploads.push({ id, lastWrittenAt });
    }
    return { uploads };
  }

  async ping() {
    const probe = join(tmpDir(this.root), '.ping');
    await writeFile(probe, String(Date.now()));
    await rm(probe, { force: true });
  }
}

/** Entries of a directory; none when it does not exist. */
async function names(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a page holds at least one entry, not ${limit}`);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
