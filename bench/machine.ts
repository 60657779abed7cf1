/**
 * What this machine can do at all, so each ncr figure reads as a fraction of it: the same blob and small-GET loads
 * against a trivial Node server (bench/trivial-server.ts, its own process), plus disk writes with fsync and sha256
 * throughput measured in this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createSHA256 } from 'hash-wasm';
import { expectStatus, RegistryClient } from './client.js';
import type { BenchConfig } from './config.js';
import { runCount, runWindow, type Sample } from './load.js';
import { uniqueBlobs, type Blob } from './payload.js';
import { stopChild } from './servers.js';

export type LimitId = 'upload-small' | 'upload-large' | 'read-small' | 'read-large' | 'get-1k-32' | 'get-1k-64' | 'head-1k-32' | 'head-1k-64';

export const LIMIT_TITLES: Record<LimitId, string> = {
  'upload-small': 'trivial server: upload + sha256 + fsync, 1 MiB, 8 at once',
  'upload-large': 'trivial server: upload + sha256 + fsync, large, 8 at once',
  'read-small': 'trivial server: stream file, 1 MiB, 8 at once, client sha256',
  'read-large': 'trivial server: stream file, large, 8 at once, client sha256',
  'get-1k-32': 'trivial server: 1 KiB GET from memory, 32 at once',
  'get-1k-64': 'trivial server: 1 KiB GET from memory, 64 at once',
  'head-1k-32': 'trivial server: HEAD of a 1 KiB answer, 32 at once',
  'head-1k-64': 'trivial server: HEAD of a 1 KiB answer, 64 at once',
};

export class Machine {
  private child: ChildProcess | undefined;
  private client: RegistryClient | undefined;
  private readonly stored = new Map<number, string[]>();

  constructor(private readonly cfg: BenchConfig) {}

  async start(): Promise<void> {
    const dir = join(this.cfg.tmp, 'machine');
    await mkdir(dir, { recursive: true });
    const child = spawn(process.execPath, ['--import', 'tsx', join(this.cfg.root, 'bench/trivial-server.ts'), dir], { cwd: this.cfg.root, stdio: ['ignore', 'pipe', 'inherit'] });
    this.child = child;
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('the trivial server did not start within 30 s')), 30_000);
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => reject(new Error(`the trivial server exited with ${code}`)));
    });
    this.client = new RegistryClient(`http://127.0.0.1:${port}`, this.cfg.root);
  }

  async stop(): Promise<void> {
    await this.client?.close();
    if (this.child) await stopChild(this.child, 5_000);
  }

  private async upload(b: Blob): Promise<number> {
    const res = await this.client!.send({ method: 'POST', path: '/upload', body: b.parts, sink: 'text' });
    expectStatus(res, 'trivial upload', 201);
    if (res.headers['docker-content-digest'] !== b.digest) throw new Error('trivial upload: digest mismatch');
    return b.size;
  }

  private async read(digest: string): Promise<number> {
    const res = await this.client!.send({ method: 'GET', path: `/blob/${digest.slice(7)}`, sink: 'sha256' });
    expectStatus(res, 'trivial read', 200);
    if (res.digest !== digest) throw new Error('trivial read: digest mismatch');
    return res.bytes;
  }

  private async storedBlobs(distinct: number, size: number): Promise<string[]> {
    let digests = this.stored.get(size);
    if (!digests) {
      const blobs = uniqueBlobs(distinct, size);
      for (const b of blobs) await this.upload(b);
      digests = blobs.map((b) => b.digest);
      this.stored.set(size, digests);
    }
    return digests;
  }

  /** The machine's limit for the load shape `id`, measured now. */
  async limit(id: LimitId): Promise<Sample> {
    const c = this.cfg;
    const conc = c.blobConcurrency;
    switch (id) {
      case 'upload-small': {
        const blobs = uniqueBlobs(c.pushSmall.count, c.pushSmall.size);
        return runCount(conc, blobs.length, (i) => this.upload(blobs[i]));
      }
      case 'upload-large': {
        const blobs = uniqueBlobs(c.pushLarge.count, c.pushLarge.size);
        return runCount(conc, blobs.length, (i) => this.upload(blobs[i]));
      }
      case 'read-small': {
        const d = await this.storedBlobs(c.pullSmall.distinct, c.pullSmall.size);
        return runCount(conc, c.pullSmall.count, (i) => this.read(d[i % d.length]));
      }
      case 'read-large': {
        const d = await this.storedBlobs(c.pullLarge.distinct, c.pullLarge.size);
        return runCount(conc, c.pullLarge.count, (i) => this.read(d[i % d.length]));
      }
      case 'get-1k-32':
      case 'get-1k-64':
      case 'head-1k-32':
      case 'head-1k-64': {
        const method = id.startsWith('get') ? 'GET' : 'HEAD';
        const get = async () => {
          const res = await this.client!.send({ method, path: '/small' });
          expectStatus(res, `trivial ${method}`, 200);
          return res.bytes;
        };
        return runWindow(id.endsWith('-32') ? 32 : 64, c.windowSeconds, get);
      }
    }
  }
}

export interface Micro {
  /** 1 MiB writes into one file, then fsync: MB/s */
  diskWriteFsync: number;
  /** 1 MiB files, each written, fsynced, and its directory fsynced: MB/s */
  diskFilesFsync: number;
  sha256Node: number;
  sha256Wasm: number;
}

/** Disk and hashing figures, measured in this process. */
export async function micro(cfg: BenchConfig): Promise<Micro> {
  const dir = join(cfg.tmp, 'micro');
  await mkdir(dir, { recursive: true });
  const chunk = randomBytes(1024 * 1024);
  const total = cfg.quick ? 64 : 256;

  let t0 = performance.now();
  const fh = await open(join(dir, 'big'), 'w');
  for (let i = 0; i < total; i++) await fh.write(chunk);
  await fh.sync();
  await fh.close();
  const diskWriteFsync = (total * chunk.length) / ((performance.now() - t0) / 1000) / 1e6;

  const files = cfg.quick ? 32 : 128;
  t0 = performance.now();
  for (let i = 0; i < files; i++) {
    const f = await open(join(dir, `f${i}`), 'w');
    await f.write(chunk);
    await f.sync();
    await f.close();
    const d = await open(dir, 'r');
    await d.sync();
    await d.close();
  }
  const diskFilesFsync = (files * chunk.length) / ((performance.now() - t0) / 1000) / 1e6;
  await rm(dir, { recursive: true, force: true });

  const hashBytes = total * chunk.length;
  t0 = performance.now();
  const h = createHash('sha256');
  for (let i = 0; i < total; i++) h.update(chunk);
  h.digest();
  const sha256Node = hashBytes / ((performance.now() - t0) / 1000) / 1e6;

  const w = await createSHA256();
  w.init();
  t0 = performance.now();
  for (let i = 0; i < total; i++) w.update(chunk);
  w.digest();
  const sha256Wasm = hashBytes / ((performance.now() - t0) / 1000) / 1e6;

  return { diskWriteFsync, diskFilesFsync, sha256Node, sha256Wasm };
}
