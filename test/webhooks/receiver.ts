/**
 * A real webhook receiver for the tests: an HTTP (or HTTPS, with a self-signed certificate made by openssl) server on
 * 127.0.0.1 that records every request and answers as told: 200, another status, slowly, or not at all (hang).
 * It can stop and start again on the same port (a receiver that is down, then up).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
  at: number;
}

export type Behaviour = { status?: number; delayMs?: number; hang?: boolean; headers?: Record<string, string>; body?: string };

export class Receiver {
  readonly received: Received[] = [];
  behaviour: Behaviour = {};
  private server: http.Server | https.Server | undefined;
  private readonly sockets = new Set<import('node:net').Socket>();
  port = 0;

  private constructor(private readonly tls?: { key: Buffer; cert: Buffer }) {}

  /** Starts a receiver on 127.0.0.1 (any free port, or `port`). */
  static async start(o: { tls?: boolean; port?: number } = {}): Promise<Receiver> {
    const r = new Receiver(o.tls ? selfSigned() : undefined);
    await r.listen(o.port ?? 0);
    return r;
  }

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  async listen(port = this.port): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        this.received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json, at: Date.now() });
        const b = this.behaviour;
        if (b.hang) return;
        const answer = () => {
          res.writeHead(b.status ?? 200, { 'content-type': 'text/plain', ...(b.headers ?? {}) });
          res.end(b.body ?? 'ok');
        };
        if (b.delayMs) setTimeout(answer, b.delayMs);
        else answer();
      });
    };
    this.server = this.tls ? https.createServer({ key: this.tls.key, cert: this.tls.cert }, handler) : http.createServer(handler);
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stops listening and drops open connections (the receiver is down). */
  async stop(): Promise<void> {
    if (!this.server) return;
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** The requests whose JSON body matches. */
  bodies(filter: (json: any) => boolean = () => true): any[] {
    return this.received.filter((r) => filter(r.json)).map((r) => r.json);
  }

  /** Waits (real time) until `n` requests match, or fails after `ms`. */
  async waitFor(n: number, filter: (r: Received) => boolean = () => true, ms = 15_000): Promise<Received[]> {
    const until = Date.now() + ms;
    for (;;) {
      const got = this.received.filter(filter);
      if (got.length >= n) return got;
      if (Date.now() > until) throw new Error(`receiver got ${got.length} of ${n} expected requests within ${ms} ms: ${JSON.stringify(this.received.map((r) => r.body.slice(0, 200)))}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** A self-signed certificate for 127.0.0.1 and localhost, made with openssl. */
export function selfSigned(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'ncr-wh-cert-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'pipe' });
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
