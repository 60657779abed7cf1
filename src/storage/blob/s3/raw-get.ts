/**
 * GetObject's response read straight off the socket into the blob chunk pool (../chunk-pool.ts), on plain-HTTP
 * endpoints. Node's HTTP client reads 64 KiB at a time into a fresh buffer and runs its parser over every chunk:
 * relaying a pull that way cost ~1.3 ms of CPU per MiB here, reading into reused 256 KiB buffers and counting
 * Content-Length bytes ~0.55 ms (64 MiB objects relayed on loopback), CPU the S3 server and the client then have.
 *
 * Only the response head is parsed: status, headers, a Content-Length body. A response framed otherwise (chunked, no
 * length) is refused with NotPlainResponse before any byte reaches the caller, who asks again with Node's client.
 * Connections are kept alive and reused (at most MAX_IDLE idle, MAX_ACTIVE busy); a request that finds its kept-alive
 * connection closed by the server before any answer is sent once more on a new one (a GET repeats safely).
 */
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { CHUNK_SIZE, giveBackChunkBuffer, lendChunk, takeChunkBuffer } from '../chunk-pool.js';

export interface RawResponse {
  status: number;
  /** names in lower case; repeated headers joined with ", " */
  headers: Record<string, string>;
  body: Readable;
}

/** The server framed its response in a way this reader does not take (no Content-Length): nothing was read. */
export class NotPlainResponse extends Error {}

const HEAD_LIMIT = 64 * 1024;
const HEAD_TIMEOUT_MS = 60_000;
const MAX_IDLE = 16;
const MAX_ACTIVE = 64;
const CRLFCRLF = Buffer.from('\r\n\r\n');

interface Exchange {
  data(n: number, buf: Buffer): void;
  ended(err?: Error): void;
}

class Conn {
  readonly socket: Socket;
  current?: Exchange;
  used = false;

  constructor(host: string, port: number, closed: (c: Conn) => void) {
    this.socket = connect({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: takeChunkBuffer,
        callback: (n, buf) => {
          if (this.current) this.current.data(n, buf as Buffer);
          else {
            // bytes nobody asked for: the connection's framing is lost
            giveBackChunkBuffer(buf as Buffer);
            this.socket.destroy();
          }
          return true;
        },
      },
    });
    this.socket.on('error', (err) => this.current?.ended(err));
    this.socket.on('close', () => {
      this.current?.ended();
      closed(this);
    });
  }
}

export class RawGetter {
  private idle: Conn[] = [];
  private active = 0;
  private waiting: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  close(): void {
    this.closed = true;
    for (const c of this.idle.splice(0)) c.socket.destroy();
  }

  /** GET `path` with `headers` (a Host among them): the response head, and the body as a stream of lent chunks. */
  async get(path: string, headers: Record<string, string>): Promise<RawResponse> {
    if (this.active >= MAX_ACTIVE) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    let done = false;
    const free = () => {
      if (done) return;
      done = true;
      this.active--;
      this.waiting.shift()?.();
    };
    const text = `GET ${path} HTTP/1.1\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}\r\n`;
    try {
      return await this.exchange(text, free, true);
    } catch (err) {
      free();
      throw err;
    }
  }

  private take(): Conn {
    for (let c = this.idle.pop(); c; c = this.idle.pop()) {
      if (c.socket.destroyed) continue;
      c.socket.ref();
      return c;
    }
    return new Conn(this.host, this.port, (c) => {
      const i = this.idle.indexOf(c);
      if (i >= 0) this.idle.splice(i, 1);
    });
  }

  private park(c: Conn): void {
    c.current = undefined;
    if (this.closed || this.idle.length >= MAX_IDLE || c.socket.destroyed) c.socket.destroy();
    else {
      c.socket.unref();
      this.idle.push(c);
    }
  }

  private exchange(text: string, free: () => void, mayRetry: boolean): Promise<RawResponse> {
    const conn = this.take();
    const reused = conn.used;
    conn.used = true;
    return new Promise<RawResponse>((resolve, reject) => {
      let head: Buffer | undefined;
      let body: Readable | undefined;
      let length = 0;
      let remaining = 0;
      let keepAlive = false;
      const timer = setTimeout(() => conn.socket.destroy(new Error(`S3 sent no response within ${HEAD_TIMEOUT_MS / 1000} s`)), HEAD_TIMEOUT_MS);
      const finished = () => {
        body!.push(null);
        free();
        if (keepAlive) this.park(conn);
        else {
          conn.current = undefined;
          conn.socket.destroy();
        }
      };
      // more bytes than the Content-Length: the connection's framing is lost
      const overrun = () => {
        conn.current = undefined;
        conn.socket.destroy();
        body!.destroy(new Error(`S3 sent more than the ${length} bytes of its Content-Length`));
      };
      const fail = (err: Error) => {
        conn.current = undefined;
        conn.socket.destroy();
        clearTimeout(timer);
        reject(err);
      };
      const ex: Exchange = {
        data: (n, buf) => {
          if (body) {
            if (n > remaining) {
              giveBackChunkBuffer(buf);
              return overrun();
            }
            remaining -= n;
            const more = body.push(lendChunk(n === buf.length ? buf : buf.subarray(0, n), buf));
            if (remaining === 0) finished();
            else if (!more) conn.socket.pause();
            return;
          }
          // the head: bytes copied until the blank line, then the buffer goes back to the pool
          head = head ? Buffer.concat([head, buf.subarray(0, n)]) : Buffer.from(buf.subarray(0, n));
          giveBackChunkBuffer(buf);
          const end = head.indexOf(CRLFCRLF);
          if (end < 0) {
            if (head.length > HEAD_LIMIT) fail(new Error(`S3's response head is longer than ${HEAD_LIMIT} bytes`));
            return;
          }
          clearTimeout(timer);
          const parsed = parseHead(head.subarray(0, end).toString('latin1'));
          if (!parsed) return fail(new Error(`S3 answered with a malformed response head: ${JSON.stringify(head.subarray(0, 200).toString('latin1'))}`));
          const { status, headers, http11 } = parsed;
          const declared = headers['content-length'];
          if (headers['transfer-encoding'] !== undefined || declared === undefined || !/^\d+$/.test(declared)) {
            return fail(new NotPlainResponse(`S3 answered HTTP ${status} without a plain Content-Length`));
          }
          length = remaining = Number(declared);
          keepAlive = http11 && !/\bclose\b/i.test(headers.connection ?? '');
          body = new Readable({
            highWaterMark: 4 * CHUNK_SIZE,
            read: () => {
              // only while this exchange still owns the connection: a kept-alive one may be serving another by now
              if (conn.current === ex) conn.socket.resume();
            },
            destroy: (err, cb) => {
              if (conn.current === ex) {
                // the rest of the body is still on its way: this connection can serve nobody else
                conn.current = undefined;
                conn.socket.destroy();
              }
              free();
              cb(err);
            },
          });
          resolve({ status, headers, body });
          const rest = head.subarray(end + 4);
          head = undefined;
          if (rest.length > remaining) return overrun();
          remaining -= rest.length;
          if (rest.length > 0) body.push(rest);
          if (remaining === 0) finished();
        },
        ended: (err) => {
          clearTimeout(timer);
          conn.current = undefined;
          if (body) {
            if (remaining > 0) body.destroy(err ?? new Error(`S3 closed the connection after ${length - remaining} of ${length} bytes`));
          } else if (reused && head === undefined && mayRetry) {
            // a kept-alive connection the server closed as the request went out: once more on a new one
            this.exchange(text, free, false).then(resolve, reject);
          } else {
            reject(err ?? new Error('S3 closed the connection before answering'));
          }
        },
      };
      conn.current = ex;
      conn.socket.write(text, 'latin1');
    });
  }
}

function parseHead(text: string): { status: number; headers: Record<string, string>; http11: boolean } | undefined {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) return undefined;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { status: Number(m[2]), headers, http11: m[1] === '1' };
}
