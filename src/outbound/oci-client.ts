/**
 * The outbound OCI client (domain/outbound/oci-remote.ts): one remote registry endpoint spoken to over the
 * Distribution API, through the guarded HTTP client (so the SSRF address rules of webhooks apply to every request,
 * token realms and blob redirects included). Docker token flow with a token cache per scope, Basic, retries with
 * backoff, streaming both ways (blobs are never held in memory), cross-repository mount.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, pipeline, type TransformCallback } from 'node:stream';
import { OutboundError, type OutboundStreamHttp, type OutboundStreamResponse } from '../domain/outbound/ports.js';
import type { BlobInfo, ManifestInfo, OciCredentials, OciRemote, PushedBlob, RemoteDescriptor } from '../domain/outbound/oci-remote.js';
import { ERROR_CATALOGUE, NcrError, type ErrorCode } from '../oci/errors.js';
import { digestOf, isDigest, parseDigest } from '../oci/digest.js';
import { MANIFEST_MEDIA_TYPES, OCI_INDEX } from '../oci/media-types.js';
import { MAX_MANIFEST_BYTES } from '../oci/manifest.js';
import { GuardedHttpClient } from './http-client.js';

export interface OciRemoteOptions {
  /** e.g. https://registry.example.com (no path: the API lives at /v2/) */
  url: string;
  credentials?: OciCredentials;
  /** an extra CA certificate (PEM) trusted for this endpoint besides the system's */
  caPem?: string;
  /** reach loopback and private addresses (tests, a registry on the same private network) */
  allowPrivateNetworks: boolean;
  /** per request, up to the response headers; default 30 s */
  timeoutMs?: number;
  /** a streaming body fails when no byte arrives for this long; default 60 s */
  idleTimeoutMs?: number;
  /** attempts per request, the first included; default 4 */
  attempts?: number;
  /** the first backoff; doubled per attempt (with jitter), at most maxDelayMs; default 250 ms */
  baseDelayMs?: number;
  /** the longest wait between attempts, Retry-After included; default 30 s */
  maxDelayMs?: number;
  userAgent?: string;
  /** the HTTP client to use; default a GuardedHttpClient with allowPrivateNetworks (tests wrap it to count requests) */
  http?: OutboundStreamHttp;
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

interface Op {
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

export class OciRemoteClient implements OciRemote {
  readonly url: string;
  private readonly http: OutboundStreamHttp;
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();
  /** set once the remote has challenged with Basic: then Basic goes with every request */
  private basicChallenged = false;
  private readonly timeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(private readonly opts: OciRemoteOptions) {
    const u = new URL(opts.url);
    this.url = `${u.protocol}//${u.host}`;
    this.http =
      opts.http ??
      new GuardedHttpClient({ allowPrivateNetworks: opts.allowPrivateNetworks, userAgent: opts.userAgent ?? 'ncr', privateNetworksSetting: 'endpoints.allowPrivateNetworks' });
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
    this.attempts = Math.max(1, opts.attempts ?? 4);
    this.baseDelayMs = opts.baseDelayMs ?? 250;
    this.maxDelayMs = opts.maxDelayMs ?? 30_000;
  }

  async ping(): Promise<void> {
    const res = await this.request({ method: 'GET', url: '/v2/', scope: '', what: 'GET /v2/', retryable: true });
    await drain(res);
    if (res.status !== 200) throw await this.failure(res, 'GET /v2/ (the registry API root)', 'NOT_FOUND');
  }

  async checkWritable(repo: string): Promise<void> {
    const what = `start upload ${repo} (write check)`;
    const posted = await this.request({ method: 'POST', url: `/v2/${repo}/blobs/uploads/`, scope: push(repo), what, retryable: true });
    await drain(posted);
    if (posted.status !== 202) throw await this.failure(posted, what, 'NAME_UNKNOWN');
    const location = posted.headers.location;
    if (!location) return;
    // cancelling is a courtesy: a registry that cannot lets the empty session expire
    const res = await this.request({ method: 'DELETE', url: new URL(location, this.url).toString(), scope: push(repo), what: `cancel upload ${repo} (write check)`, retryable: false }).catch(() => undefined);
    if (res) await drain(res);
  }

  async headManifest(repo: string, ref: string): Promise<ManifestInfo | undefined> {
    const what = `HEAD manifest ${repo}${refSep(ref)}${ref}`;
    const res = await this.request({ method: 'HEAD', url: `/v2/${repo}/manifests/${ref}`, headers: { accept: MANIFEST_MEDIA_TYPES.join(', ') }, scope: pull(repo), what, retryable: true });
    await drain(res);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw await this.failure(res, what, 'MANIFEST_UNKNOWN');
    const digest = res.headers['docker-content-digest'];
    if (!digest || !isDigest(digest)) {
      // a HEAD without the digest header (allowed by the spec) tells too little: ask with a GET
      const m = await this.getManifest(repo, ref);
      return { digest: m.digest, mediaType: m.mediaType, size: m.bytes.byteLength };
    }
    return { digest, mediaType: mediaTypeOf(res), size: Number(res.headers['content-length'] ?? 0) };
  }

  async getManifest(repo: string, ref: string, accept: readonly string[] = MANIFEST_MEDIA_TYPES): Promise<{ bytes: Uint8Array; mediaType: string; digest: string }> {
    const what = `GET manifest ${repo}${refSep(ref)}${ref}`;
    const res = await this.request({ method: 'GET', url: `/v2/${repo}/manifests/${ref}`, headers: { accept: accept.join(', ') }, scope: pull(repo), what, retryable: true });
    if (res.status !== 200) throw await this.failure(res, what, 'MANIFEST_UNKNOWN');
    const bytes = await readLimited(res.body, MAX_MANIFEST_BYTES, () => new NcrError('MANIFEST_TOO_LARGE', `${this.url}: ${what}: the manifest is larger than ${MAX_MANIFEST_BYTES} bytes`));
    const claimed = isDigest(ref) ? ref : res.headers['docker-content-digest'];
    let digest = digestOf(bytes);
    if (claimed && isDigest(claimed)) {
      const actual = digestOf(bytes, parseDigest(claimed).algorithm);
      if (actual !== claimed) throw new NcrError('DIGEST_INVALID', `${this.url}: ${what}: the content has digest ${actual}, not ${claimed}`);
      digest = claimed;
    }
    return { bytes, mediaType: mediaTypeOf(res), digest };
  }

  async putManifest(repo: string, ref: string, bytes: Uint8Array, mediaType: string): Promise<string> {
    const what = `PUT manifest ${repo}${refSep(ref)}${ref}`;
    const res = await this.request({ method: 'PUT', url: `/v2/${repo}/manifests/${ref}`, headers: { 'content-type': mediaType }, body: bytes, scope: push(repo), what, retryable: true });
    await drain(res);
    if (res.status !== 201 && res.status !== 200) throw await this.failure(res, what, 'NAME_UNKNOWN');
    return res.headers['docker-content-digest'] || (isDigest(ref) ? ref : digestOf(bytes));
  }

  async headBlob(repo: string, digest: string): Promise<BlobInfo | undefined> {
    const what = `HEAD blob ${repo}@${digest}`;
    const res = await this.request({ method: 'HEAD', url: `/v2/${repo}/blobs/${digest}`, scope: pull(repo), what, retryable: true });
    await drain(res);
    if (res.status === 404) return undefined;
    // a redirect to storage: the blob exists, its size is not known without following it
    if (isRedirect(res.status)) return { size: Number(res.headers['content-length'] ?? -1) };
    if (res.status !== 200) throw await this.failure(res, what, 'BLOB_UNKNOWN');
    return { size: Number(res.headers['content-length'] ?? -1) };
  }

  async getBlob(repo: string, digest: string): Promise<{ stream: Readable; size: number }> {
    const what = `GET blob ${repo}@${digest}`;
    let from = `${this.url}/v2/${repo}/blobs/${digest}`;
    let res = await this.request({ method: 'GET', url: from, scope: pull(repo), what, retryable: true });
    // blob GETs may redirect to storage (a presigned URL): followed without our credentials, through the same guard
    for (let hops = 0; isRedirect(res.status); hops++) {
      await drain(res);
      const location = res.headers.location;
      if (!location || hops >= 3) throw new NcrError('UNAVAILABLE', `${this.url}: ${what}: ${location ? 'too many redirects' : 'a redirect without a Location'}`);
      const target = new URL(location, from).toString();
      from = target;
      res = await this.attempt({ method: 'GET', url: target, scope: '', what: `${what} (redirected to ${new URL(target).host})`, retryable: true }, false);
    }
    if (res.status !== 200) throw await this.failure(res, what, 'BLOB_UNKNOWN');
    const size = Number(res.headers['content-length'] ?? -1);
    const checked = new DigestCheck(digest, size, `${this.url}: ${what}`);
    // pipeline, not pipe: a failure of the source (a reset, a stall) must reach whoever reads the checked stream
    pipeline(res.body, checked, () => undefined);
    return { stream: checked, size };
  }

  async pushBlob(repo: string, digest: string, size: number, open: () => Promise<Readable>, opts: { mountFrom?: string } = {}): Promise<PushedBlob> {
    const what = `push blob ${repo}@${digest}`;
    const start = opts.mountFrom
      ? `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(opts.mountFrom)}`
      : `/v2/${repo}/blobs/uploads/`;
    const scope = opts.mountFrom ? `${push(repo)} ${pull(opts.mountFrom)}` : push(repo);
    // the whole exchange (start, then the monolithic PUT) is restartable: `open` gives a fresh stream each time
    for (let attempt = 1; ; attempt++) {
      const posted = await this.request({ method: 'POST', url: start, scope, what: `${what} (start upload)`, retryable: true });
      await drain(posted);
      if (posted.status === 201 && opts.mountFrom) return { mounted: true };
      if (posted.status !== 202) throw await this.failure(posted, `${what} (start upload)`, 'NAME_UNKNOWN');
      const location = posted.headers.location;
      if (!location) throw new NcrError('UNAVAILABLE', `${this.url}: ${what}: the upload started without a Location`);
      const url = new URL(location, this.url);
      url.searchParams.set('digest', digest);
      const body = await open();
      let res: OutboundStreamResponse;
      try {
        res = await this.attempt(
          { method: 'PUT', url: url.toString(), headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) }, body: async () => body, scope, what, retryable: false },
          true,
        );
      } catch (err) {
        body.destroy();
        if (attempt < this.attempts && isTransient(err)) {
          await sleep(this.backoff(attempt));
          continue;
        }
        throw this.unreachable(err, what);
      }
      await drain(res);
      if (res.status === 201) return { mounted: false };
      // the remote answered before taking all of it (or refused it): let go of the source's connection
      body.destroy();
      // the token ran out between the start and the PUT: the next round's start fetches a new one
      if (res.status === 401 && attempt < this.attempts) continue;
      if ((res.status >= 500 || res.status === 429) && attempt < this.attempts) {
        await sleep(this.delayFor(res, attempt));
        continue;
      }
      throw await this.failure(res, what, 'BLOB_UPLOAD_UNKNOWN');
    }
  }

  async tags(repo: string, pageSize = 1000): Promise<string[]> {
    const all: string[] = [];
    let next: string | undefined = `/v2/${repo}/tags/list?n=${pageSize}`;
    for (let pages = 0; next; pages++) {
      if (pages > 10_000) throw new NcrError('UNAVAILABLE', `${this.url}: tags of ${repo}: too many pages`);
      const what = `GET tags ${repo}`;
      const res = await this.request({ method: 'GET', url: next, scope: pull(repo), what, retryable: true });
      if (res.status !== 200) throw await this.failure(res, what, 'NAME_UNKNOWN');
      const body = JSON.parse(Buffer.from(await readLimited(res.body, 16 * 1024 * 1024, () => new NcrError('BODY_TOO_LARGE', `${this.url}: ${what}: page too large`))).toString('utf8')) as { tags?: string[] | null };
      all.push(...(body.tags ?? []));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.link ?? '');
      next = link ? link[1] : undefined;
    }
    return all;
  }

  async referrers(repo: string, digest: string): Promise<RemoteDescriptor[]> {
    const what = `GET referrers ${repo}@${digest}`;
    const res = await this.request({ method: 'GET', url: `/v2/${repo}/referrers/${digest}`, headers: { accept: OCI_INDEX }, scope: pull(repo), what, retryable: true });
    if (res.status === 200) {
      const body = JSON.parse(Buffer.from(await readLimited(res.body, MAX_MANIFEST_BYTES, () => new NcrError('MANIFEST_TOO_LARGE', `${this.url}: ${what}: too large`))).toString('utf8')) as { manifests?: RemoteDescriptor[] };
      return body.manifests ?? [];
    }
    await drain(res);
    if (res.status !== 404) throw await this.failure(res, what, 'MANIFEST_UNKNOWN');
    // no referrers API: the tag schema (cosign's signature tag) is what such registries carry
    const { algorithm, hex } = parseDigest(digest);
    const tag = `${algorithm}-${hex}.sig`;
    const sig = await this.headManifest(repo, tag);
    return sig ? [{ mediaType: sig.mediaType, digest: sig.digest, size: sig.size, annotations: { 'org.opencontainers.image.ref.name': tag } }] : [];
  }

  // ---- the exchange: auth, retries, errors -------------------------------------------------------------------------

  /** One operation: retried on 5xx, 429 and transient failures when restartable, errors as NcrError. */
  private async request(op: Op): Promise<OutboundStreamResponse> {
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
  private async attempt(op: Op, auth: boolean): Promise<OutboundStreamResponse> {
    const send = async (authorization: string | undefined) => {
      const url = /^https?:\/\//.test(op.url) ? op.url : this.url + op.url;
      const body = op.body instanceof Uint8Array ? op.body : op.body ? await op.body() : undefined;
      return this.http.stream({
        method: op.method,
        url,
        headers: { ...(op.headers ?? {}), ...(authorization ? { authorization } : {}) },
        body,
        timeoutMs: this.timeoutMs,
        idleTimeoutMs: this.idleTimeoutMs,
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
        res = await this.http.stream({ method: 'GET', url: url.toString(), headers, timeoutMs: this.timeoutMs, idleTimeoutMs: this.idleTimeoutMs, caPem: this.opts.caPem });
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

  private backoff(attempt: number): number {
    const base = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(base / 2 + Math.random() * (base / 2));
  }

  /** How long to wait before the next attempt: Retry-After (seconds or a date) when given, else the backoff. */
  private delayFor(res: OutboundStreamResponse, attempt: number): number {
    const ra = res.headers['retry-after'];
    if (ra) {
      const seconds = Number(ra);
      const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(ra) - Date.now();
      if (Number.isFinite(ms) && ms >= 0) return Math.min(this.maxDelayMs, ms);
    }
    return this.backoff(attempt);
  }

  private unreachable(err: unknown, what: string): NcrError {
    if (err instanceof NcrError) return err;
    const reason = err instanceof OutboundError ? err.message : (err as Error).message;
    return new NcrError('UNAVAILABLE', `${this.url}: ${what}: ${reason}`, { cause: err });
  }

  /** The NcrError for an unexpected status: the remote's own OCI error code when it sends one, else by status. */
  private async failure(res: OutboundStreamResponse, what: string, notFound: ErrorCode): Promise<NcrError> {
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

/** Verifies a blob's digest (and size, when known) while it streams; errors the stream on a mismatch. */
class DigestCheck extends Transform {
  private readonly hash: Hash;
  private readonly expected: string;
  private seen = 0;
  constructor(
    digest: string,
    private readonly size: number,
    private readonly what: string,
  ) {
    super();
    const { algorithm, hex } = parseDigest(digest);
    this.hash = createHash(algorithm);
    this.expected = hex;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.seen += chunk.byteLength;
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    if (this.size >= 0 && this.seen !== this.size) return cb(new NcrError('SIZE_INVALID', `${this.what}: got ${this.seen} bytes, expected ${this.size}`));
    const hex = this.hash.digest('hex');
    if (hex !== this.expected) return cb(new NcrError('DIGEST_INVALID', `${this.what}: the content does not match its digest`));
    cb();
  }
}

function isTransient(err: unknown): boolean {
  return err instanceof OutboundError && (err.reason === 'connect' || err.reason === 'timeout' || err.reason === 'protocol' || err.reason === 'dns');
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function pull(repo: string): string {
  return `repository:${repo}:pull`;
}
function push(repo: string): string {
  return `repository:${repo}:pull,push`;
}
function refSep(ref: string): string {
  return isDigest(ref) ? '@' : ':';
}

function mediaTypeOf(res: OutboundStreamResponse): string {
  return (res.headers['content-type'] ?? '').split(';')[0].trim();
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

async function drain(res: OutboundStreamResponse): Promise<void> {
  if (res.body.readableEnded || res.body.destroyed) return;
  res.body.resume();
  await new Promise<void>((resolve) => {
    res.body.once('end', resolve);
    res.body.once('close', resolve);
    res.body.once('error', () => resolve());
  });
}

async function readLimited(stream: Readable, max: number, tooLarge: () => Error): Promise<Uint8Array> {
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A stream over bytes already in memory (a manifest, a test blob). */
export function bytesStream(bytes: Uint8Array): Readable {
  return Readable.from([Buffer.from(bytes)]);
}
