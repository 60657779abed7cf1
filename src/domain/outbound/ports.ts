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
