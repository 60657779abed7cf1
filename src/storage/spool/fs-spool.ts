/**
 * Fill spools (domain/cache/ports.ts FillSpools) as temp files: each one is opened and at once unlinked, so its bytes
 * live only as long as its descriptor and nothing is left on disk when the node stops or dies.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { FillSpool, FillSpools } from '../../domain/cache/ports.js';

export class FsFillSpools implements FillSpools {
  constructor(private readonly dir: string) {}

  async create(): Promise<FillSpool> {
    await mkdir(this.dir, { recursive: true });
    const path = join(this.dir, `fill-${randomUUID()}`);
    const fh = await open(path, 'wx+', 0o600);
    await unlink(path).catch(async (err: unknown) => {
      await fh.close();
      throw err;
    });
    let size = 0;
    return {
      async append(chunk) {
        let at = 0;
        while (at < chunk.length) {
          const { bytesWritten } = await fh.write(chunk, at, chunk.length - at, size + at);
          at += bytesWritten;
        }
        size += chunk.length;
      },
      async read(position, length) {
        const buf = Buffer.allocUnsafe(Math.max(0, Math.min(length, size - position)));
        let got = 0;
        while (got < buf.length) {
          const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return buf.subarray(0, got);
      },
      remove: () => fh.close(),
    };
  }
}
