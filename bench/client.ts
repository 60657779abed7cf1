/**
 * The load client: HTTP/1.1 with keep-alive connections, speaking the Docker token flow itself (401 challenge →
 * token endpoint with Basic auth → Bearer, one token cached per scope and renewed before it expires). Uses undici
 * when node_modules has it, else (and always for HEAD) node:http with a keep-alive agent. Every request has a timeout.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';

/** A body: one buffer, buffers sent back to back (a unique header before shared bytes), or a stream. */
export type Body = Buffer | Buffer[] | Readable;

export interface Request {
  method: string;
  /** path and query, or an absolute URL on the same server (distribution's upload Locations are absolute) */
  path: string;
  headers?: Record<string, string>;
  body?: Body;
  /** the token scope this request needs, e.g. `repository:bench/app:pull`; unused against a server without auth */
  scope?: string;
  /** what to do with the response body: drop it (default), keep it as text, or hash it */
  sink?: 'discard' | 'text' | 'sha256';
  /** the whole exchange must be done within this (default 120 s) */
  timeoutMs?: number;
}

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bytes: number;
  text?: string;
  /** `sha256:<hex>` of the body when sink = 'sha256' */
  digest?: string;
}

export interface Creds {
  user: string;
  pass: string;
}

interface Transport {
  send(method: string, path: string, headers: Record<string, string>, body: Body | undefined, sink: Request['sink'], timeoutMs: number): Promise<Response>;
  close(): Promise<void>;
}

export function bodyLength(body: Body | undefined): number | undefined {
  if (body === undefined) return 0;
  if (Buffer.isBuffer(body)) return body.length;
  if (Array.isArray(body)) return body.reduce((n, b) => n + b.length, 0);
  return undefined;
}

class Sink {
  bytes = 0;
  private readonly chunks: Buffer[] = [];
  private readonly hash;
  constructor(private readonly kind: Request['sink']) {
    this.hash = kind === 'sha256' ? createHash('sha256') : undefined;
  }
  push(chunk: Buffer | Uint8Array): void {
    this.bytes += chunk.length;
    if (this.hash) this.hash.update(chunk);
    else if (this.kind === 'text') this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  finish(status: number, headers: Response['headers']): Response {
    const res: Response = { status, headers, bytes: this.bytes };
    if (this.hash) res.digest = 'sha256:' + this.hash.digest('hex');
    if (this.kind === 'text') res.text = Buffer.concat(this.chunks).toString('utf8');
    return res;
  }
}

class NodeHttpTransport implements Transport {
  private readonly agent: http.Agent;
  constructor(private readonly origin: URL) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256, scheduling: 'lifo' });
  }

  send(method: string, path: string, headers: Record<string, string>, body: Body | undefined, sink: Request['sink'], timeoutMs: number): Promise<Response> {
    return new Promise((resolve, reject) => {
      // A plain timer, not req.setTimeout(): on keep-alive sockets that one makes HEAD requests 3× slower (Node 20).
      const timer = setTimeout(() => req.destroy(new Error(`${method} ${path}: not done within ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      const req = http.request({ agent: this.agent, host: this.origin.hostname, port: this.origin.port, method, path, headers }, (res) => {
        const s = new Sink(sink);
        res.on('data', (c: Buffer) => s.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve(s.finish(res.statusCode ?? 0, res.headers));
        });
        res.on('error', fail);
        res.on('aborted', () => fail(new Error(`${method} ${path}: response aborted`)));
      });
      req.on('error', fail);
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else if (Array.isArray(body)) {
        for (let i = 0; i < body.length - 1; i++) req.write(body[i]);
        req.end(body[body.length - 1]);
      } else {
        body.on('error', (err) => req.destroy(err));
        body.pipe(req);
      }
    });
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}

/** The subset of undici's Pool used here (undici is optional, so it is typed by hand). */
interface UndiciPool {
  request(o: { method: string; path: string; headers: Record<string, string>; body?: Buffer | Readable; headersTimeout?: number; bodyTimeout?: number }): Promise<{
    statusCode: number;
    headers: Record<string, string | string[] | undefined>;
    body: AsyncIterable<Uint8Array>;
  }>;
  close(): Promise<void>;
}
type UndiciModule = { Pool: new (origin: string, opts: { connections: number; pipelining: number }) => UndiciPool };

class UndiciTransport implements Transport {
  private readonly pool: UndiciPool;
  constructor(mod: UndiciModule, origin: URL) {
    this.pool = new mod.Pool(origin.origin, { connections: 256, pipelining: 1 });
  }

  async send(method: string, path: string, headers: Record<string, string>, body: Body | undefined, sink: Request['sink'], timeoutMs: number): Promise<Response> {
    const payload = Array.isArray(body) ? Readable.from(body, { objectMode: false }) : body;
    const res = await this.pool.request({ method, path, headers, body: payload, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    const s = new Sink(sink);
    for await (const chunk of res.body) s.push(chunk);
    return s.finish(res.statusCode, res.headers);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

let undici: UndiciModule | null | undefined;

/** undici from the project's node_modules (or BENCH_UNDICI=<path to its entry>), when there; null otherwise. */
async function loadUndici(root: string): Promise<UndiciModule | null> {
  if (undici !== undefined) return undici;
  if (process.env.BENCH_UNDICI === '0') return (undici = null);
  try {
    const entry = process.env.BENCH_UNDICI || createRequire(`${root}/package.json`).resolve('undici');
    undici = (await import(pathToFileURL(entry).href)) as UndiciModule;
  } catch {
    undici = null;
  }
  return undici;
}

export async function transportName(root: string): Promise<string> {
  return (await loadUndici(root)) ? 'undici Pool (keep-alive; HEAD through a node:http keep-alive Agent)' : 'node:http keep-alive Agent';
}

interface Challenge {
  realm: string;
  service: string;
  scope?: string;
}

function parseChallenge(header: string | string[] | undefined): Challenge | undefined {
  const h = Array.isArray(header) ? header[0] : header;
  if (!h || !/^bearer /i.test(h)) return undefined;
  const params: Record<string, string> = {};
  for (const m of h.slice(7).matchAll(/(\w+)="([^"]*)"/g)) params[m[1]] = m[2];
  if (!params.realm) return undefined;
  return { realm: params.realm, service: params.service ?? '', scope: params.scope };
}

export class RegistryClient {
  readonly origin: URL;
  private transport: Transport | undefined;
  private nodeHttp: Transport | undefined;
  private readonly tokens = new Map<string, { header: string; renewAt: number }>();
  private challenge: Challenge | undefined;
  /** tokens fetched so far (a well-behaved client fetches few) */
  tokenFetches = 0;

  constructor(
    base: string,
    private readonly root: string,
    private readonly creds?: Creds,
  ) {
    this.origin = new URL(base);
  }

  /**
   * undici when there is one, but never for HEAD: undici closes the connection after every HEAD response (to guard
   * against servers that send a body anyway), so a HEAD benchmark through it would measure TCP connects.
   */
  private async t(method = 'GET'): Promise<Transport> {
    const mod = await loadUndici(this.root);
    if (mod && method !== 'HEAD') return (this.transport ??= new UndiciTransport(mod, this.origin));
    return (this.nodeHttp ??= new NodeHttpTransport(this.origin));
  }

  /** Sends a request with the cached token for its scope; on a 401 challenge fetches a token and retries once. */
  async send(r: Request): Promise<Response> {
    const transport = await this.t(r.method);
    const path = r.path.startsWith('http') ? pathOf(new URL(r.path)) : r.path;
    const headers: Record<string, string> = { ...(r.headers ?? {}) };
    const len = bodyLength(r.body);
    // bodiless POST/PUT/PATCH say so, rather than letting node:http fall back to an empty chunked body
    if (len !== undefined && (r.body !== undefined || /^(POST|PUT|PATCH)$/.test(r.method))) headers['content-length'] = String(len);
    const cached = r.scope ? this.cachedToken(r.scope) : undefined;
    if (cached) headers.authorization = cached;
    const timeout = r.timeoutMs ?? 120_000;
    const res = await transport.send(r.method, path, headers, r.body, r.sink, timeout);
    if (res.status !== 401 || !this.creds) return res;
    const challenge = parseChallenge(res.headers['www-authenticate']);
    if (!challenge) return res;
    if (r.body instanceof Readable) throw new Error(`${r.method} ${path}: 401 on a streamed body; call authorize(scope) before streaming`);
    // the request's own scope may ask for more than the challenge names (a mount also needs pull on its source)
    const scope = [...new Set([...(r.scope ?? '').split(' '), ...(challenge.scope ?? '').split(' ')].filter(Boolean))].join(' ');
    const header = await this.fetchToken(challenge, scope);
    if (r.scope) this.tokens.set(r.scope, this.tokens.get(scope)!);
    return transport.send(r.method, path, { ...headers, authorization: header }, r.body, r.sink, timeout);
  }

  /** Makes sure a fresh token for `scope` is cached (needed before streaming a body, which cannot be resent). */
  async authorize(scope: string): Promise<void> {
    if (!this.creds || this.cachedToken(scope)) return;
    if (!this.challenge) {
      const res = await (await this.t()).send('GET', '/v2/', {}, undefined, 'discard', 10_000);
      this.challenge = parseChallenge(res.headers['www-authenticate']);
      if (!this.challenge) return; // no auth on this server
    }
    await this.fetchToken(this.challenge, scope);
  }

  private cachedToken(scope: string): string | undefined {
    const hit = this.tokens.get(scope);
    return hit && hit.renewAt > Date.now() ? hit.header : undefined;
  }

  private async fetchToken(c: Challenge, scope: string): Promise<string> {
    this.challenge = c;
    const url = new URL(c.realm);
    url.searchParams.set('service', c.service);
    for (const s of scope.split(' ').filter(Boolean)) url.searchParams.append('scope', s);
    const basic = 'Basic ' + Buffer.from(`${this.creds!.user}:${this.creds!.pass}`).toString('base64');
    const res = await (await this.t()).send('GET', pathOf(url), { authorization: basic }, undefined, 'text', 10_000);
    if (res.status !== 200) throw new Error(`token request for ${scope} failed: ${res.status} ${res.text}`);
    const body = JSON.parse(res.text ?? '{}') as { token?: string; access_token?: string; expires_in?: number };
    const token = body.token ?? body.access_token;
    if (!token) throw new Error(`token response for ${scope} has no token`);
    this.tokenFetches++;
    const ttl = (body.expires_in ?? 60) * 1000;
    const entry = { header: `Bearer ${token}`, renewAt: Date.now() + Math.max(ttl - 60_000, ttl / 2) };
    this.tokens.set(scope, entry);
    return entry.header;
  }

  async close(): Promise<void> {
    await Promise.all([this.transport?.close(), this.nodeHttp?.close()]);
    this.transport = undefined;
    this.nodeHttp = undefined;
  }
}

function pathOf(u: URL): string {
  return u.pathname + u.search;
}

export function sha256(...parts: Buffer[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return 'sha256:' + h.digest('hex');
}

/** Throws with the status and body when the response is not one of `ok`. */
export function expectStatus(res: Response, what: string, ...ok: number[]): Response {
  if (!ok.includes(res.status)) throw new Error(`${what}: HTTP ${res.status}${res.text ? ` ${res.text.slice(0, 300)}` : ''}`);
  return res;
}
