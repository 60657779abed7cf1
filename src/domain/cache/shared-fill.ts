/**
 * One fill of an image cache blob, as pulls that arrive while it runs see it: the source's bytes are appended to a
 * spool as they come, and each late pull reads the spool from the first byte, following the fill until it is stored.
 * The last bytes reach a late pull only once the fill has been stored (or it fails, as the fill did), so it never
 * ends with a blob the store refused. The spool is removed when the fill is over and no late pull reads it any more.
 */
import { Readable, Writable } from 'node:stream';
import { NcrError } from '../../oci/errors.js';
import type { FillSpool } from './ports.js';

/** what a late pull reads of the spool at a time */
const READ_BYTES = 256 * 1024;
/**
 * what the spool may fall behind the source before it holds the fill back: its writes share the I/O threads with the
 * store and the late pulls' reads, and the fill must not wait on them
 */
const SINK_BUFFER = 4 * 1024 * 1024;

export class SharedFill {
  /** bytes appended to the spool so far */
  private received = 0;
  /** set when the spool could not take a chunk: later pulls wait for the fill instead, current ones fail */
  private broken: Error | undefined;
  private outcome: { ok: true } | { ok: false; err: Error } | undefined;
  /** the sink has appended every byte the source sent */
  private appended = false;
  private readers = 0;
  private removed = false;
  private wake: (() => void)[] = [];

  constructor(
    private readonly spool: FillSpool,
    /** the blob's size as the source said it (-1 when it did not) */
    readonly size: number,
  ) {}

  /** Whether a pull can still join (false once the spool failed or the fill is over). */
  get joinable(): boolean {
    return !this.broken && !this.outcome;
  }

  /** Where the fill's bytes go, beside the store and the first client. Never fails the fill itself. */
  sink(): Writable {
    return new Writable({
      highWaterMark: SINK_BUFFER,
      write: (chunk: Buffer, _enc, done) => {
        if (this.broken) return done();
        this.spool.append(chunk).then(
          () => {
            this.received += chunk.length;
            this.notify();
            done();
          },
          (err: unknown) => {
            this.broken = err instanceof Error ? err : new Error(String(err));
            this.notify();
            done();
          },
        );
      },
      final: (done) => {
        this.appended = true;
        this.notify();
        this.removeIfUnread();
        done();
      },
    });
  }

  /** The fill is over: stored (no error), or failed with `err`. */
  end(err?: unknown): void {
    if (this.outcome) return;
    this.outcome = err === undefined ? { ok: true } : { ok: false, err: err instanceof Error ? err : new Error(String(err)) };
    this.notify();
    this.removeIfUnread();
  }

  /** A late pull: the blob from its first byte, as fast as the fill brings it. */
  reader(): Readable {
    this.readers++;
    const stream = Readable.from(this.bytes(), { objectMode: false, highWaterMark: 1 << 20 });
    stream.once('close', () => {
      this.readers--;
      this.removeIfUnread();
    });
    return stream;
  }

  private async *bytes(): AsyncGenerator<Buffer> {
    let at = 0;
    for (;;) {
      if (this.broken) throw new NcrError('UNAVAILABLE', `the bytes of this download could not be kept for another pull: pull again (${this.broken.message})`, { cause: this.broken });
      if (at < this.received) {
        const chunk = await this.spool.read(at, Math.min(READ_BYTES, this.received - at));
        at += chunk.length;
        yield chunk;
        continue;
      }
      if (this.outcome?.ok && this.appended) return;
      if (this.outcome && !this.outcome.ok) throw new NcrError('UNAVAILABLE', `downloading this blob from the source failed: pull again (${this.outcome.err.message})`, { cause: this.outcome.err });
      await new Promise<void>((resolve) => this.wake.push(resolve));
    }
  }

  private notify(): void {
    const waiting = this.wake;
    this.wake = [];
    for (const w of waiting) w();
  }

  private removeIfUnread(): void {
    // a stored fill's spool stays until its last bytes are in it (a reader may still come for them)
    if (!this.outcome || this.readers > 0 || this.removed || (this.outcome.ok && !this.appended && !this.broken)) return;
    this.removed = true;
    void this.spool.remove().catch(() => undefined);
  }
}
