/**
 * The outbound OCI client (domain/outbound/oci-remote.ts): one remote registry endpoint spoken to over the
 * Distribution API, through the guarded HTTP client (so the SSRF address rules of webhooks apply to every request,
 * token realms and blob redirects included): the operations, streaming both ways (blobs are never held in memory),
 * cross-repository mount. Auth, retries and errors are the exchange's (oci-exchange.ts).
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable, Transform, pipeline, type TransformCallback } from 'node:stream';
import type { OutboundStreamHttp, OutboundStreamResponse } from '../domain/outbound/ports.js';
import type { BlobInfo, ManifestInfo, OciCredentials, OciRemote, PushedBlob, RemoteDescriptor } from '../domain/outbound/oci-remote.js';
import { NcrError } from '../oci/errors.js';
import { digestOf, isDigest, parseDigest } from '../oci/digest.js';
import { MANIFEST_MEDIA_TYPES, OCI_INDEX } from '../oci/media-types.js';
import { MAX_MANIFEST_BYTES } from '../oci/manifest.js';
import { GuardedHttpClient } from './http-client.js';
import { OciExchange, drain, isTransient, readLimited, sleep } from './oci-exchange.js';

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
export class OciRemoteClient implements OciRemote {
  readonly url: string;
  private readonly x: OciExchange;

  constructor(opts: OciRemoteOptions) {
    const u = new URL(opts.url);
    this.url = `${u.protocol}//${u.host}`;
    this.x = new OciExchange(this.url, {
      credentials: opts.credentials,
      caPem: opts.caPem,
      http:
        opts.http ??
        new GuardedHttpClient({ allowPrivateNetworks: opts.allowPrivateNetworks, userAgent: opts.userAgent ?? 'ncr', privateNetworksSetting: 'endpoints.allowPrivateNetworks' }),
      timeoutMs: opts.timeoutMs ?? 30_000,
      idleTimeoutMs: opts.idleTimeoutMs ?? 60_000,
      attempts: Math.max(1, opts.attempts ?? 4),
      baseDelayMs: opts.baseDelayMs ?? 250,
      maxDelayMs: opts.maxDelayMs ?? 30_000,
    });
  }

  async ping(): Promise<void> {
    const res = await this.x.request({ method: 'GET', url: '/v2/', scope: '', what: 'GET /v2/', retryable: true });
    await drain(res);
    if (res.status !== 200) throw await this.x.failure(res, 'GET /v2/ (the registry API root)', 'NOT_FOUND');
  }

  async checkWritable(repo: string): Promise<void> {
    const what = `start upload ${repo} (write check)`;
    const posted = await this.x.request({ method: 'POST', url: `/v2/${repo}/blobs/uploads/`, scope: push(repo), what, retryable: true });
    await drain(posted);
    if (posted.status !== 202) throw await this.x.failure(posted, what, 'NAME_UNKNOWN');
    const location = posted.headers.location;
    if (!location) return;
    // cancelling is a courtesy: a registry that cannot lets the empty session expire
    const res = await this.x.request({ method: 'DELETE', url: new URL(location, this.url).toString(), scope: push(repo), what: `cancel upload ${repo} (write check)`, retryable: false }).catch(() => undefined);
    if (res) await drain(res);
  }

  async headManifest(repo: string, ref: string): Promise<ManifestInfo | undefined> {
    const what = `HEAD manifest ${repo}${refSep(ref)}${ref}`;
    const res = await this.x.request({ method: 'HEAD', url: `/v2/${repo}/manifests/${ref}`, headers: { accept: MANIFEST_MEDIA_TYPES.join(', ') }, scope: pull(repo), what, retryable: true });
    await drain(res);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw await this.x.failure(res, what, 'MANIFEST_UNKNOWN');
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
    const res = await this.x.request({ method: 'GET', url: `/v2/${repo}/manifests/${ref}`, headers: { accept: accept.join(', ') }, scope: pull(repo), what, retryable: true });
    if (res.status !== 200) throw await this.x.failure(res, what, 'MANIFEST_UNKNOWN');
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
    const res = await this.x.request({ method: 'PUT', url: `/v2/${repo}/manifests/${ref}`, headers: { 'content-type': mediaType }, body: bytes, scope: push(repo), what, retryable: true });
    await drain(res);
    if (res.status !== 201 && res.status !== 200) throw await this.x.failure(res, what, 'NAME_UNKNOWN');
    return res.headers['docker-content-digest'] || (isDigest(ref) ? ref : digestOf(bytes));
  }

  async headBlob(repo: string, digest: string): Promise<BlobInfo | undefined> {
    const what = `HEAD blob ${repo}@${digest}`;
    const res = await this.x.request({ method: 'HEAD', url: `/v2/${repo}/blobs/${digest}`, scope: pull(repo), what, retryable: true });
    await drain(res);
    if (res.status === 404) return undefined;
    // a redirect to storage: the blob exists, its size is not known without following it
    if (isRedirect(res.status)) return { size: Number(res.headers['content-length'] ?? -1) };
    if (res.status !== 200) throw await this.x.failure(res, what, 'BLOB_UNKNOWN');
    return { size: Number(res.headers['content-length'] ?? -1) };
  }

  async getBlob(repo: string, digest: string): Promise<{ stream: Readable; size: number }> {
    const what = `GET blob ${repo}@${digest}`;
    let from = `${this.url}/v2/${repo}/blobs/${digest}`;
    let res = await this.x.request({ method: 'GET', url: from, scope: pull(repo), what, retryable: true });
    // blob GETs may redirect to storage (a presigned URL): followed without our credentials, through the same guard
    for (let hops = 0; isRedirect(res.status); hops++) {
      await drain(res);
      const location = res.headers.location;
      if (!location || hops >= 3) throw new NcrError('UNAVAILABLE', `${this.url}: ${what}: ${location ? 'too many redirects' : 'a redirect without a Location'}`);
      const target = new URL(location, from).toString();
      from = target;
      res = await this.x.attempt({ method: 'GET', url: target, scope: '', what: `${what} (redirected to ${new URL(target).host})`, retryable: true }, false);
    }
    if (res.status !== 200) throw await this.x.failure(res, what, 'BLOB_UNKNOWN');
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
      const posted = await this.x.request({ method: 'POST', url: start, scope, what: `${what} (start upload)`, retryable: true });
      await drain(posted);
      if (posted.status === 201 && opts.mountFrom) return { mounted: true };
      if (posted.status !== 202) throw await this.x.failure(posted, `${what} (start upload)`, 'NAME_UNKNOWN');
      const location = posted.headers.location;
      if (!location) throw new NcrError('UNAVAILABLE', `${this.url}: ${what}: the upload started without a Location`);
      const url = new URL(location, this.url);
      url.searchParams.set('digest', digest);
      const body = await open();
      let res: OutboundStreamResponse;
      try {
        res = await this.x.attempt(
          { method: 'PUT', url: url.toString(), headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) }, body: async () => body, scope, what, retryable: false },
          true,
        );
      } catch (err) {
        body.destroy();
        if (attempt < this.x.attempts && isTransient(err)) {
          await sleep(this.x.backoff(attempt));
          continue;
        }
        throw this.x.unreachable(err, what);
      }
      await drain(res);
      if (res.status === 201) return { mounted: false };
      // the remote answered before taking all of it (or refused it): let go of the source's connection
      body.destroy();
      // the token ran out between the start and the PUT: the next round's start fetches a new one
      if (res.status === 401 && attempt < this.x.attempts) continue;
      if ((res.status >= 500 || res.status === 429) && attempt < this.x.attempts) {
        await sleep(this.x.delayFor(res, attempt));
        continue;
      }
      throw await this.x.failure(res, what, 'BLOB_UPLOAD_UNKNOWN');
    }
  }

  async tags(repo: string, pageSize = 1000): Promise<string[]> {
    const all: string[] = [];
    let next: string | undefined = `/v2/${repo}/tags/list?n=${pageSize}`;
    for (let pages = 0; next; pages++) {
      if (pages > 10_000) throw new NcrError('UNAVAILABLE', `${this.url}: tags of ${repo}: too many pages`);
      const what = `GET tags ${repo}`;
      const res = await this.x.request({ method: 'GET', url: next, scope: pull(repo), what, retryable: true });
      if (res.status !== 200) throw await this.x.failure(res, what, 'NAME_UNKNOWN');
      const body = JSON.parse(Buffer.from(await readLimited(res.body, 16 * 1024 * 1024, () => new NcrError('BODY_TOO_LARGE', `${this.url}: ${what}: page too large`))).toString('utf8')) as { tags?: string[] | null };
      all.push(...(body.tags ?? []));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.link ?? '');
      next = link ? link[1] : undefined;
    }
    return all;
  }

  async referrers(repo: string, digest: string): Promise<RemoteDescriptor[]> {
    const what = `GET referrers ${repo}@${digest}`;
    const res = await this.x.request({ method: 'GET', url: `/v2/${repo}/referrers/${digest}`, headers: { accept: OCI_INDEX }, scope: pull(repo), what, retryable: true });
    if (res.status === 200) {
      const body = JSON.parse(Buffer.from(await readLimited(res.body, MAX_MANIFEST_BYTES, () => new NcrError('MANIFEST_TOO_LARGE', `${this.url}: ${what}: too large`))).toString('utf8')) as { manifests?: RemoteDescriptor[] };
      return body.manifests ?? [];
    }
    await drain(res);
    if (res.status !== 404) throw await this.x.failure(res, what, 'MANIFEST_UNKNOWN');
    // no referrers API: the tag schema (cosign's signature tag) is what such registries carry
    const { algorithm, hex } = parseDigest(digest);
    const tag = `${algorithm}-${hex}.sig`;
    const sig = await this.headManifest(repo, tag);
    return sig ? [{ mediaType: sig.mediaType, digest: sig.digest, size: sig.size, annotations: { 'org.opencontainers.image.ref.name': tag } }] : [];
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

/** A stream over bytes already in memory (a manifest, a test blob). */
export function bytesStream(bytes: Uint8Array): Readable {
  return Readable.from([Buffer.from(bytes)]);
}
