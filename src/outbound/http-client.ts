/**
 * The outbound HTTP client (domain/outbound/ports.ts) on node:http and node:https. Against SSRF: the host name is
 * resolved here, every address it resolves to is checked (a name with one private address among public ones is
 * refused: DNS may hand out either), and the connection goes to the checked address (TLS still verifies and sends SNI
 * for the name), so a second resolution cannot swap in another address. Redirects are never followed. One deadline
 * covers DNS, connect, TLS, the request and reading the response excerpt.
 */
import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { performance } from 'node:perf_hooks';
import {
  OutboundError,
  type OutboundHttp,
  type OutboundRequest,
  type OutboundResponse,
  type OutboundStreamHttp,
  type OutboundStreamRequest,
  type OutboundStreamResponse,
} from '../domain/outbound/ports.js';
import { refusalOf } from './address-guard.js';

export interface GuardedHttpOptions {
  /** reach loopback, link-local and private addresses too (a registry and its receivers on one private network) */
  allowPrivateNetworks: boolean;
  /** sent unless the request sets its own */
  userAgent: string;
  /** the setting named in a refusal, so the message says what to change; default webhooks.allowPrivateNetworks */
  privateNetworksSetting?: string;
}

export class GuardedHttpClient implements OutboundHttp, OutboundStreamHttp {
  constructor(private readonly opts: GuardedHttpOptions) {}

  async send(req: OutboundRequest): Promise<OutboundResponse> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const url = parseUrl(req.url);

    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), req.timeoutMs);
    const onAbort = () => deadline.abort();
    req.signal?.addEventListener('abort', onAbort);
    try {
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      const address = await this.resolve(host, deadline.signal, req, elapsed);
      return await this.exchange(url, host, address, req, deadline.signal, elapsed);
    } catch (err) {
      if (err instanceof OutboundError) throw err;
      if (deadline.signal.aborted) {
        throw req.signal?.aborted
          ? new OutboundError('aborted', 'the request was cancelled', { cause: err, durationMs: elapsed() })
          : new OutboundError('timeout', `no response within ${req.timeoutMs} ms`, { cause: err, durationMs: elapsed() });
      }
      throw classify(err, elapsed());
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    }
  }

  async stream(req: OutboundStreamRequest): Promise<OutboundStreamResponse> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const url = parseUrl(req.url);
    // the deadline covers everything up to the response headers; after that only the caller's signal and the idle
    // timeout end the body
    const deadline = new AbortController();
    let timer = setTimeout(() => deadline.abort(), req.timeoutMs);
    // while a streamed body is being sent only the idle timeout applies (a large blob takes as long as it takes);
    // the deadline starts again for the response headers once the body is sent
    const deadlineHooks = {
      pause: () => clearTimeout(timer),
      restart: () => {
        clearTimeout(timer);
        timer = setTimeout(() => deadline.abort(), req.timeoutMs);
      },
    };
    const onAbort = () => deadline.abort();
    req.signal?.addEventListener('abort', onAbort);
    let headersIn = false;
    try {
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      const to = await this.resolve(host, deadline.signal, req, elapsed);
      const res = await this.open(url, host, to, req, deadline.signal, deadlineHooks);
      headersIn = true;
      clearTimeout(timer);
      res.body.once('close', () => req.signal?.removeEventListener('abort', onAbort));
      return res;
    } catch (err) {
      req.signal?.removeEventListener('abort', onAbort);
      const e = err instanceof OutboundError ? err : undefined;
      if (e) throw e;
      if (deadline.signal.aborted) {
        throw req.signal?.aborted
          ? new OutboundError('aborted', 'the request was cancelled', { cause: err, durationMs: elapsed() })
          : new OutboundError('timeout', `no response within ${req.timeoutMs} ms`, { cause: err, durationMs: elapsed() });
      }
      throw classify(err, elapsed());
    } finally {
      if (!headersIn) clearTimeout(timer);
    }
  }

  private open(
    url: URL,
    host: string,
    to: { address: string; family: number },
    req: OutboundStreamRequest,
    signal: AbortSignal,
    deadline: { pause(): void; restart(): void },
  ): Promise<OutboundStreamResponse> {
    const tls = url.protocol === 'https:';
    const headers: Record<string, string> = { 'user-agent': this.opts.userAgent, ...lowerKeys(req.headers), host: url.host, connection: 'close' };
    const bytes = req.body instanceof Uint8Array ? req.body : undefined;
    if (bytes) headers['content-length'] = String(bytes.byteLength);
    else if (!req.body && (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH')) headers['content-length'] = '0';
    const options = requestOptions(url, host, to, req.method, headers, signal, req);
    const idleMs = req.idleTimeoutMs ?? req.timeoutMs;
    return new Promise<OutboundStreamResponse>((resolve, reject) => {
      let response: http.IncomingMessage | undefined;
      const r = (tls ? https : http).request(options, (res) => {
        response = res;
        resolve({
          status: res.statusCode ?? 0,
          headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')])),
          body: res,
          remoteAddress: to.address,
        });
      });
      r.on('error', reject);
      r.setTimeout(idleMs, () => {
        if (response) response.destroy(new OutboundError('timeout', `the response body stalled for ${idleMs} ms`));
        else r.destroy(new OutboundError('timeout', `nothing moved for ${idleMs} ms while sending the request`));
      });
      if (req.body && !bytes) {
        const body = req.body as Readable;
        body.on('error', (err) => r.destroy(err));
        deadline.pause();
        r.once('finish', () => deadline.restart());
        body.pipe(r);
      } else {
        r.end(bytes);
      }
    });
  }

  /** The checked address to connect to. */
  private async resolve(host: string, signal: AbortSignal, req: { timeoutMs: number }, elapsed: () => number): Promise<{ address: string; family: number }> {
    const literal = isIP(host);
    const addresses = literal
      ? [{ address: host, family: literal }]
      : await Promise.race([
          lookup(host, { all: true, verbatim: true }).catch((err: unknown) => {
            throw new OutboundError('dns', `cannot resolve ${host}: ${(err as { code?: string }).code ?? (err as Error).message}`, { cause: err, durationMs: elapsed() });
          }),
          new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new OutboundError('timeout', `resolving ${host} took longer than ${req.timeoutMs} ms`, { durationMs: elapsed() })), { once: true })),
        ]);
    if (addresses.length === 0) throw new OutboundError('dns', `${host} resolves to no address`, { durationMs: elapsed() });
    if (!this.opts.allowPrivateNetworks) {
      for (const a of addresses) {
        const why = refusalOf(a.address);
        if (why) {
          throw new OutboundError('refused-address', `refused: ${literal ? '' : `${host} resolves to `}${why}; outbound requests reach public addresses only unless an admin sets ${this.opts.privateNetworksSetting ?? 'webhooks.allowPrivateNetworks'}`, {
            durationMs: elapsed(),
          });
        }
      }
    }
    return addresses[0];
  }

  private exchange(url: URL, host: string, to: { address: string; family: number }, req: OutboundRequest, signal: AbortSignal, elapsed: () => number): Promise<OutboundResponse> {
    const tls = url.protocol === 'https:';
    const body = req.body === undefined ? undefined : typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : Buffer.from(req.body);
    const headers: Record<string, string> = { 'user-agent': this.opts.userAgent, ...lowerKeys(req.headers), host: url.host, connection: 'close' };
    if (body) headers['content-length'] = String(body.byteLength);
    const max = req.maxBodyBytes ?? 1024;
    const options = requestOptions(url, host, to, req.method, headers, signal, req);
    return new Promise<OutboundResponse>((resolve, reject) => {
      const r = (tls ? https : http).request(options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => {
          res.destroy();
          resolve({
            status: res.statusCode ?? 0,
            headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')])),
            body: Buffer.concat(chunks).subarray(0, max).toString('utf8'),
            durationMs: elapsed(),
            remoteAddress: to.address,
          });
        };
        res.on('data', (c: Buffer) => {
          if (size >= max) return;
          chunks.push(c);
          size += c.byteLength;
          if (size >= max) done();
        });
        res.on('end', done);
        res.on('error', (err) => (size > 0 ? done() : reject(err)));
      });
      r.on('error', reject);
      r.end(body);
    });
  }
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (err) {
    throw new OutboundError('invalid-url', `${raw} is not a URL`, { cause: err });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundError('invalid-url', `${url.protocol} URLs are not supported: use http:// or https://`);
  if (url.username || url.password) throw new OutboundError('invalid-url', 'credentials in the URL are not supported: use the auth header');
  return url;
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/** A socket or TLS error as an OutboundError a person can read. */
function classify(err: unknown, durationMs: number): OutboundError {
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  if (/^(ERR_TLS|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|ERR_SSL)/.test(code) || /certificate|SSL|TLS/i.test(e.message ?? '')) {
    return new OutboundError('tls', `TLS failed: ${e.message ?? code}${/self.signed|UNABLE_TO_VERIFY|CERT/i.test(code + (e.message ?? '')) ? ' (a self-signed receiver needs skipCertVerify)' : ''}`, { cause: err, durationMs });
  }
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EPIPE') {
    return new OutboundError('connect', `connection failed: ${code}`, { cause: err, durationMs });
  }
  if (code === 'HPE_INVALID_CONSTANT' || code.startsWith('HPE_')) return new OutboundError('protocol', `the receiver did not answer HTTP: ${e.message ?? code}`, { cause: err, durationMs });
  return new OutboundError('connect', `request failed: ${e.message ?? code}`, { cause: err, durationMs });
}

/**
 * The request to the address the guard checked: connect there, but send the name as Host and check the TLS
 * certificate against the name (servername), not the address.
 */
function requestOptions(
  url: URL,
  host: string,
  to: { address: string; family: number },
  method: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  tlsOpts: { skipCertVerify?: boolean; caPem?: string },
): https.RequestOptions {
  const tls = url.protocol === 'https:';
  return {
    method,
    host: to.address,
    family: to.family,
    port: url.port ? Number(url.port) : tls ? 443 : 80,
    path: `${url.pathname}${url.search}`,
    headers,
    agent: false,
    signal,
    ...(tls
      ? { servername: isIP(host) ? undefined : host, rejectUnauthorized: !tlsOpts.skipCertVerify, ...(tlsOpts.caPem ? { ca: [...rootCertificates, tlsOpts.caPem] } : {}) }
      : {}),
  };
}
