/**
 * The two requests every push and pull make (PutObject of a streamed body, GetObject), sent with Node's HTTP client
 * and signed by the AWS SDK's own SigV4 signer (@smithy/signature-v4), with the client's credentials and region. The
 * SDK's command pipeline costs about 1.5 ms of CPU per request, more than the transfer of a small layer; these skip it.
 * Used only against an explicitly configured endpoint (MinIO, Ceph, any S3-compatible server; virtual-hosted or
 * path-style addressing as configured); on AWS's own endpoints, which the SDK resolves by region and partition, every
 * request goes through the SDK. Bodies are sent unsigned (`UNSIGNED-PAYLOAD`): ncr checks each blob's digest itself.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { NotPlainResponse, RawGetter } from './raw-get.js';

/** A failed request: the S3 error code (NoSuchKey, ...) when the server sent one, and the HTTP status. */
export class S3RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = code ?? 'S3RequestError';
  }

  /** As the SDK's errors carry it, so one check (s3-bucket.ts `isNotFound`) reads both. */
  get $metadata(): { httpStatusCode: number } {
    return { httpStatusCode: this.status };
  }
}

/** SHA-256, or HMAC-SHA-256 with a key (SigV4 derives its signing key with it), on node:crypto. */
class NodeSha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

function bytes(d: SourceData): Buffer | string {
  if (typeof d === 'string') return d;
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d);
}

export class DirectS3 {
  private readonly url: URL;
  private readonly agent: HttpAgent | HttpsAgent;
  /** GETs off the socket on plain HTTP (raw-get.ts), until a response comes framed in a way it does not read */
  private raw: RawGetter | undefined;
  private signer: SignatureV4 | undefined;
  /** the credentials `signer` was made with */
  private signerFor: unknown;

  constructor(
    private readonly s3: S3Client,
    endpoint: string,
    private readonly bucket: string,
    private readonly pathStyle: boolean,
  ) {
    this.url = new URL(endpoint);
    this.agent = this.url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets: 64 }) : new HttpAgent({ keepAlive: true, maxSockets: 64 });
    if (this.url.protocol === 'http:') this.raw = new RawGetter(this.url.hostname.replace(/^\[|\]$/g, ''), Number(this.url.port || 80));
  }

  close(): void {
    this.agent.destroy();
    this.raw?.close();
  }

  /**
   * GetObject (`range` inclusive): the body and the response's headers (names in lower case), or S3RequestError (404
   * when the key does not exist). On plain HTTP the body's chunks may be lent from the blob chunk pool (raw-get.ts).
   */
  async get(key: string, range?: { start: number; end: number }): Promise<{ body: Readable; headers: Record<string, string | string[] | undefined> }> {
    const extra: Record<string, string> = range ? { range: `bytes=${range.start}-${range.end}` } : {};
    const raw = this.raw;
    if (raw) {
      const { path, headers } = await this.signed('GET', key, extra);
      try {
        const res = await raw.get(path, headers);
        if (res.status === 200 || res.status === 206) return res;
        throw await failure(res.body, res.status, `GET ${key}`);
      } catch (err) {
        // a server that frames its answer otherwise: Node's client reads it, from now on (requests under way finish)
        if (!(err instanceof NotPlainResponse)) throw err;
        raw.close();
        if (this.raw === raw) this.raw = undefined;
      }
    }
    const res = await this.send('GET', key, extra);
    if (res.statusCode === 200 || res.statusCode === 206) return { body: res, headers: res.headers };
    throw await failure(res, res.statusCode ?? 0, `GET ${key}`);
  }

  /** PutObject of `length` bytes streamed from `body`; `signal` aborts the request (the server then stores nothing). */
  async put(key: string, body: Readable, length: number, signal: AbortSignal): Promise<void> {
    const res = await this.send('PUT', key, { 'content-length': String(length) }, body, signal);
    if (res.statusCode === 200) {
      res.resume();
      return;
    }
    throw await failure(res, res.statusCode ?? 0, `PUT ${key}`);
  }

  /** The request's path and its headers, signed. */
  private async signed(method: 'GET' | 'PUT', key: string, extra: Record<string, string>): Promise<{ host: string; path: string; headers: Record<string, string> }> {
    const host = this.pathStyle ? this.url.host : `${this.bucket}.${this.url.host}`;
    const base = this.url.pathname.replace(/\/$/, '');
    const path = `${base}${this.pathStyle ? `/${encodeURIComponent(this.bucket)}` : ''}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const signed = await (await this.signerNow()).sign({
      method,
      protocol: this.url.protocol,
      hostname: host.replace(/:\d+$/, ''),
      port: this.url.port ? Number(this.url.port) : undefined,
      path,
      query: {},
      headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...extra },
    });
    return { host, path, headers: signed.headers };
  }

  private async send(method: 'GET' | 'PUT', key: string, extra: Record<string, string>, body?: Readable, signal?: AbortSignal): Promise<IncomingMessage> {
    const { host, path, headers } = await this.signed(method, key, extra);
    const send = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = send({ host: this.url.hostname, port: this.url.port || undefined, method, path, headers, agent: this.agent, servername: host.replace(/:\d+$/, '') }, resolve);
      req.on('error', reject);
      if (!body) return void req.end();
      // an abort ends the request mid-body: the server never sees all Content-Length bytes, so stores nothing
      if (signal?.aborted) return void req.destroy(signal.reason as Error);
      signal?.addEventListener('abort', () => req.destroy(signal.reason as Error), { once: true });
      body.pipe(req);
    });
  }

  private async signerNow(): Promise<SignatureV4> {
    // credentials may rotate (instance roles): the SDK's provider caches and refreshes them
    const credentials = await this.s3.config.credentials();
    const region = await this.s3.config.region();
    if (!this.signer || this.signerFor !== credentials) {
      this.signer = new SignatureV4({ credentials, region, service: 's3', sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });
      this.signerFor = credentials;
    }
    return this.signer;
  }
}

async function failure(body: Readable, status: number, what: string): Promise<S3RequestError> {
  let text = '';
  for await (const c of body as AsyncIterable<Buffer>) if (text.length < 4096) text += c.toString();
  const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? (status === 404 ? 'NotFound' : undefined);
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  return new S3RequestError(status, code, `${what}: HTTP ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`);
}
