/**
 * The exchange with one remote registry, under the operations of oci-client.ts: Docker token flow with a token cache
 * per scope, Basic, retries with backoff honouring Retry-After, and the remote's failures as NcrErrors naming what
 * was being done. Every request goes through the guarded HTTP client it is given (the SSRF address rules).
 */
import type { Readable } from 'node:stream';
import { OutboundError, type OutboundStreamHttp, type OutboundStreamResponse } from '../domain/outbound/ports.js';
import type { OciCredentials } from '../domain/outbound/oci-remote.js';
import { ERROR_CATALOGUE, NcrError, type ErrorCode } from '../oci/errors.js';

export interface ExchangeOptions {
  credentials?: OciCredentials;
  caPem?: string;
  http: OutboundStreamHttp;
  timeoutMs: number;
  idleTimeoutMs: number;
  /** attempts per request, the first included */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export interface Op {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  /** a path under the base URL or an absolute URL (an upload Location) */
  url: string;
  headers?: Record<string, string>;
  /** a stream factory makes the request restartable; a Uint8Array is restartable as is */
  body?: Uint8Array | (() => Promise<Readable>);
  /** the token scope the request needs, e.g. repository:a/b:pull */
  scope: string;
  /** what is being done, for messages: "HEAD manifest a/b:latest" */
  what: string;
  /** safe to send again after a failure with no response or a 5xx/429 */
  retryable: boolean;
}

const SKEW_MS = 5_000;
const MAX_TOKENS = 1_000;

export class OciExchange {
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();
  /** set once the remote has challenged with Basic: then Basic goes with every request */
  private basicChallenged = false;
  readonly attempts: number;

  constructor(
    /** the remote's origin, e.g. https://registry.example.com */
    readonly url: string,
    private readonly opts: ExchangeOptions,
  ) {
    this.attempts = opts.attempts;
  }

  /** One operation: retried on 5xx, 429 and transient failures when restartable, errors as NcrError. */
  async request(op: Op): Promise<OutboundStreamResponse> {
    for (let attempt = 1; ; attempt++) {
      let res: OutboundStreamResponse;
      try {
        res = await this.attempt(op, true);
      } catch (err) {
        if (op.retryable && attempt < this.attempts && isTransient(err)) {
          await sleep(this.backoff(attempt));
          continue;
        }
        throw this.unreachable(err, op.what);
      }
      if (op.retryable && attempt < this.attempts && (res.status >= 500 || res.status === 429)) {
        await drain(res);
        await sleep(this.delayFor(res, attempt));
        continue;
      }
      return res;
    }
  }

  /** Sends once, answering one auth challenge (then sending again) when `auth` is set. Throws what the HTTP client throws. */
  async attempt(op: Op, auth: boolean): Promise<OutboundStreamResponse> {
    const send = async (authorization: string | undefined) => {
      const url = /^https?:\/\//.test(op.url) ? op.url : this.url + op.url;
      const body = op.body instanceof Uint8Array ? op.body : op.body ? await op.body() : undefined;
      return this.opts.http.stream({
        method: op.method,
        url,
        headers: { ...(op.headers ?? {}), ...(authorization ? { authorization } : {}) },
        body,
        timeoutMs: this.opts.timeoutMs,
        idleTimeoutMs: this.opts.idleTimeoutMs,
        caPem: this.opts.caPem,
      });
    };
    if (!auth) return send(undefined);
    const sent = this.authorizationFor(op.scope);
    const res = await send(sent);
    if (res.status !== 401) return res;
    const challenge = parseChallenge(res.headers['www-authenticate'] ?? '');
    const creds = this.opts.credentials ?? { kind: 'none' };
    if (!challenge) return res;
    if (challenge.scheme === 'basic') {
      if (creds.kind !== 'basic' || this.basicChallenged) return res;
      this.basicChallenged = true;
    } else if (challenge.scheme === 'bearer') {
      if (creds.kind === 'bearer') return res; // a given token that is refused: nothing else to try
      const key = tokenKey(challenge, op.scope);
      const cached = this.tokens.get(key);
      // a cached token the remote just refused (expired early, revoked) is fetched anew
      if (!cached || cached.expiresAt <= Date.now() || sent === `Bearer ${cached.token}`) await this.fetchToken(challenge, op.scope, op.what);
      // also remember it under the operation's scope so the next request sends it right away
      const fresh = this.tokens.get(key);
      if (fresh) this.remember(op.scope, fresh);
    } else {
      return res;
    }
    if (op.body && !(op.body instanceof Uint8Array) && !op.retryable) return res; // a consumed stream cannot be sent again
    await drain(res);
    return send(this.authorizationFor(op.scope));
  }

  /** Caches a token; one per scope, the oldest dropped past MAX_TOKENS (a replication over many repositories). */
  private remember(key: string, entry: { token: string; expiresAt: number }): void {
    this.tokens.delete(key);
    this.tokens.set(key, entry);
    while (this.tokens.size > MAX_TOKENS) this.tokens.delete(this.tokens.keys().next().value as string);
  }

  private authorizationFor(scope: string): string | undefined {
    const creds = this.opts.credentials ?? { kind: 'none' };
    if (creds.kind === 'bearer') return `Bearer ${creds.token}`;
    const cached = this.tokens.get(scope);
    if (cached && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
    if (creds.kind === 'basic' && this.basicChallenged) return basicHeader(creds.username, creds.password);
    return undefined;
  }

  private async fetchToken(challenge: Challenge, opScope: string, what: string): Promise<void> {
    const realm = challenge.params.realm;
    if (!realm) throw new NcrError('UNAUTHORIZED', `${this.url}: ${what}: the Bearer challenge names no realm`);
    const url = new URL(realm, this.url);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    for (const s of scopesFor(challenge, opScope)) url.searchParams.append('scope', s);
    const creds = this.opts.credentials ?? { kind: 'none' };
    const headers: Record<string, string> = creds.kind === 'basic' ? { authorization: basicHeader(creds.username, creds.password) } : {};
    const tokenWhat = `token for ${what} from ${url.origin}${url.pathname}`;
    let res: OutboundStreamResponse | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        res = await this.opts.http.stream({ method: 'GET', url: url.toString(), headers, timeoutMs: this.opts.timeoutMs, idleTimeoutMs: this.opts.idleTimeoutMs, caPem: this.opts.caPem });
      } catch (err) {
        if (attempt < this.attempts && isTransient(err)) {
          await sleep(this.backoff(attempt));
          continue;
        }
        throw this.unreachable(err, tokenWhat);
      }
      if (attempt < this.attempts && (res.status >= 500 || res.status === 429)) {
        await drain(res);
        await sleep(this.delayFor(res, attempt));
        continue;
      }
      break;
    }
    if (res.status === 401 || res.status === 403) {
      await drain(res);
      throw new NcrError('UNAUTHORIZED', `${this.url}: ${tokenWhat}: ${creds.kind === 'none' ? 'the remote requires credentials' : 'the credentials were refused'} (HTTP ${res.status})`);
    }
    if (res.status !== 200) throw await this.failure(res, tokenWhat, 'UNAVAILABLE');
    let body: { token?: string; access_token?: string; expires_in?: number };
    try {
      body = JSON.parse(Buffer.from(await readLimited(res.body, 1024 * 1024, () => new Error('too large'))).toString('utf8')) as typeof body;
    } catch (err) {
      throw new NcrError('UNAVAILABLE', `${this.url}: ${tokenWhat}: the answer is not a token`, { cause: err });
    }
    const token = body.token ?? body.access_token;
    if (!token) throw new NcrError('UNAVAILABLE', `${this.url}: ${tokenWhat}: the answer holds no token`);
    const lifetimeMs = (typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60) * 1000;
    this.remember(tokenKey(challenge, opScope), { token, expiresAt: Date.now() + Math.max(1000, lifetimeMs - SKEW_MS) });
  }

  backoff(attempt: number): number {
    const base = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(base / 2 + Math.random() * (base / 2));
  }

  /** How long to wait before the next attempt: Retry-After (seconds or a date) when given, else the backoff. */
  delayFor(res: OutboundStreamResponse, attempt: number): number {
    const ra = res.headers['retry-after'];
    if (ra) {
      const seconds = Number(ra);
      const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(ra) - Date.now();
      if (Number.isFinite(ms) && ms >= 0) return Math.min(this.opts.maxDelayMs, ms);
    }
    return this.backoff(attempt);
  }

  unreachable(err: unknown, what: string): NcrError {
    if (err instanceof NcrError) return err;
    const reason = err instanceof OutboundError ? err.message : (err as Error).message;
    return new NcrError('UNAVAILABLE', `${this.url}: ${what}: ${reason}`, { cause: err });
  }

  /** The NcrError for an unexpected status: the remote's own OCI error code when it sends one, else by status. */
  async failure(res: OutboundStreamResponse, what: string, notFound: ErrorCode): Promise<NcrError> {
    let remote: { code?: string; message?: string } | undefined;
    try {
      const text = Buffer.from(await readLimited(res.body, 8192, () => new Error('long'))).toString('utf8');
      remote = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors?.[0];
    } catch {
      /* no OCI error body */
    }
    const said = remote?.message ? `: ${remote.message}` : '';
    const status = res.status;
    let code: ErrorCode;
    if (status === 401) code = 'UNAUTHORIZED';
    else if (status === 403) code = 'DENIED';
    else if (status === 429) code = 'TOOMANYREQUESTS';
    else if (status >= 500) code = 'UNAVAILABLE';
    else if (remote?.code && remote.code in ERROR_CATALOGUE) code = remote.code as ErrorCode;
    else if (status === 404) code = notFound;
    else code = 'UNAVAILABLE';
    const hint = status === 401 ? ' (check the endpoint credentials)' : '';
    return new NcrError(code, `${this.url}: ${what} failed with HTTP ${status}${remote?.code ? ` ${remote.code}` : ''}${said}${hint}`, { detail: { remoteStatus: status, remoteCode: remote?.code } });
  }
}

export function isTransient(err: unknown): boolean {
  return err instanceof OutboundError && (err.reason === 'connect' || err.reason === 'timeout' || err.reason === 'protocol' || err.reason === 'dns');
}

/**
 * The scopes to ask the realm for: what the challenge names and what the operation needs (a mount needs pull on the
 * source repository too, which a challenge for the target alone does not name: without it the mount quietly fails).
 */
function scopesFor(c: Challenge, opScope: string): string[] {
  return [...new Set([...(c.params.scope ?? '').split(' '), ...opScope.split(' ')].filter(Boolean))];
}

function tokenKey(c: Challenge, opScope: string): string {
  return `${c.params.realm ?? ''} ${c.params.service ?? ''} ${scopesFor(c, opScope).join(' ')}`;
}

function basicHeader(user: string, pass: string): string {
  return 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
}

/** `Bearer realm="...",service="...",scope="..."` → scheme (lower case) and parameters. */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let p = re.exec(m[2]); p; p = re.exec(m[2])) params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  return { scheme: m[1].toLowerCase(), params };
}

export async function drain(res: OutboundStreamResponse): Promise<void> {
  if (res.body.readableEnded || res.body.destroyed) return;
  res.body.resume();
  await new Promise<void>((resolve) => {
    res.body.once('end', resolve);
    res.body.once('close', resolve);
    res.body.once('error', () => resolve());
  });
}

export async function readLimited(stream: Readable, max: number, tooLarge: () => Error): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    const b = c as Buffer;
    size += b.byteLength;
    if (size > max) {
      stream.destroy();
      throw tooLarge();
    }
    chunks.push(b);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
