/**
 * Streams an open file's bytes [start, end] through pooled buffers (see ../chunk-pool.ts), one positioned read at
 * a time, and closes the file when done or destroyed (never while a read is still using the descriptor).
 */
import { close, read } from 'node:fs';
import { Readable } from 'node:stream';
import { CHUNK_SIZE, giveBackChunkBuffer, lendChunk, takeChunkBuffer } from '../chunk-pool.js';

export class FileRangeStream extends Readable {
  private pos: number;
  private reading = false;
  private closeWhenIdle: ((err: Error | null) => void) | undefined;

  /** `end` is inclusive; undefined reads to the end of the file. */
  constructor(
    private readonly fd: number,
    start = 0,
    private readonly end = Infinity,
  ) {
    super({ highWaterMark: CHUNK_SIZE });
    this.pos = start;
  }

  override _read(): void {
    const want = Math.min(CHUNK_SIZE, this.end - this.pos + 1);
    if (want <= 0) {
      this.push(null);
      return;
    }
    const buf = takeChunkBuffer();
    this.reading = true;
    read(this.fd, buf, 0, want, this.pos, (err, n) => {
      this.reading = false;
      if (this.closeWhenIdle || this.destroyed) {
        giveBackChunkBuffer(buf);
        this.closeWhenIdle?.(null);
        return;
      }
      if (err) {
        giveBackChunkBuffer(buf);
        this.destroy(err);
        return;
      }
      if (n === 0) {
        giveBackChunkBuffer(buf);
        if (this.end !== Infinity) this.destroy(new Error(`file ended at byte ${this.pos}, before byte ${this.end}`));
        else this.push(null);
        return;
      }
      this.pos += n;
      this.push(lendChunk(n === CHUNK_SIZE ? buf : buf.subarray(0, n), buf));
    });
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    const finish = () => close(this.fd, (closeErr) => cb(err ?? closeErr ?? null));
    if (this.reading) this.closeWhenIdle = () => finish();
    else finish();
  }
}
