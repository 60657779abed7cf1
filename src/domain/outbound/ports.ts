import type { Readable } from 'node:stream';

/**
 * Outbound HTTP: the one way ncr's capabilities call other servers (webhooks today, replication later). The
 * implementation (src/outbound/) refuses loopback, link-local and private addresses unless configured to allow them
 * (checking every address a name resolves to and connecting to the address it checked), never follows redirects and
 * enforces the timeout on the whole exchange.
 */

export interface OutboundRequest {
  method: 'POST' | 'GET' | 'PUT' | 'HEAD';
  /** http:// or https:// */
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** the whole exchange (DNS, connect, TLS, request, response headers and excerpt) must finish within this */
  timeoutMs: number;
  /** accept any TLS certificate (self-signed receivers); the address checks still apply */
  skipCertVerify?: boolean;
  /** at most this many bytes of the response body are read and returned; default 1024 */
  maxBodyBytes?: number;
  signal?: AbortSignal;
}

export interface OutboundResponse {
  status: number;
  headers: Record<string, string>;
  /** the first maxBodyBytes of the body, as text */
  body: string;
  /** wall-clock time of the exchange */
  durationMs: number;
  /** the address connected to */
  remoteAddress: string;
}

export type OutboundFailure = 'invalid-url' | 'refused-address' | 'dns' | 'connect' | 'tls' | 'timeout' | 'aborted' | 'protocol';

/** The request got no HTTP response: why, in words a person can act on. A response of any status is not an error. */
export class OutboundError extends Error {
  constructor(
    readonly reason: OutboundFailure,
    message: string,
    options: { cause?: unknown; durationMs?: number } = {},
  ) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'OutboundError';
    this.durationMs = options.durationMs ?? 0;
  }
  readonly durationMs: number;
}

export interface OutboundHttp {
  /**
   * Sends one request and resolves with the response (any status, redirects included: they are not followed). Throws
   * OutboundError when there is no response: a refused address, DNS failure, connection or TLS failure, timeout.
   */
  send(req: OutboundRequest): Promise<OutboundResponse>;
}

/** A request whose body may be a stream and whose response body is streamed back (registry-to-registry traffic). */
export interface OutboundStreamRequest {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** http:// or https:// */
  url: string;
  headers: Record<string, string>;
  /** a stream is sent as is (set content-length in headers); it is consumed, so a retry needs a new one */
  body?: Uint8Array | Readable;
  /** DNS, connect, TLS, sending the request and receiving the response headers must finish within this */
  timeoutMs: number;
  /** once the headers are in, the body fails when no byte arrives for this long; default timeoutMs */
  idleTimeoutMs?: number;
  /** an extra CA certificate (PEM) trusted besides the system's, for a remote with a private CA */
  caPem?: string;
  skipCertVerify?: boolean;
  signal?: AbortSignal;
}

export interface OutboundStreamResponse {
  status: number;
  headers: Record<string, string>;
  /** the response body: the caller must consume or destroy it (it holds the connection) */
  body: Readable;
  remoteAddress: string;
}

export interface OutboundStreamHttp {
  /**
   * Sends one request under the same address rules as send() (refused addresses, no redirects followed) and resolves
   * once the response headers arrive, with the body still streaming. Throws OutboundError when there is no response.
   */
  stream(req: OutboundStreamRequest): Promise<OutboundStreamResponse>;
}
