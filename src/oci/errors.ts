/**
 * The error catalogue: every code ncr can answer with, its HTTP status and what it means.
 * Codes from the OCI Distribution spec keep the spec's spelling; ncr's own codes follow the same style.
 * `http/errors.ts` is the only place that turns an NcrError into a response.
 */
export const ERROR_CATALOGUE = {
  // OCI Distribution v1.1 codes
  BLOB_UNKNOWN: { status: 404, description: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, description: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, description: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, description: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, description: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, description: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, description: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, description: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, description: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, description: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, description: 'authentication required' },
  DENIED: { status: 403, description: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 415, description: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, description: 'too many requests' },
  // ncr's own codes (used mostly by /api/v1)
  RANGE_INVALID: { status: 416, description: 'the chunk does not continue the upload where it stands' },
  MANIFEST_TOO_LARGE: { status: 413, description: 'manifest larger than the registry accepts' },
  BODY_TOO_LARGE: { status: 413, description: 'request body larger than the registry accepts' },
  TAG_INVALID: { status: 400, description: 'invalid tag' },
  NOT_FOUND: { status: 404, description: 'resource not found' },
  METHOD_NOT_ALLOWED: { status: 405, description: 'the method is not allowed on this endpoint' },
  CONFLICT: { status: 409, description: 'resource already exists or is in a conflicting state' },
  PULL_REFUSED: { status: 412, description: "the registry's policy refuses to serve this image (e.g. it is not signed and verified)" },
  PROTECTED: { status: 412, description: 'an image protection policy forbids this change' },
  VALIDATION_FAILED: { status: 400, description: 'request body or parameters invalid' },
  LIMIT_EXCEEDED: { status: 409, description: 'a quota or limit was reached' },
  UNAVAILABLE: { status: 503, description: 'a dependency is not reachable' },
  INTERNAL: { status: 500, description: 'internal error' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/**
 * The one error class: a stable code, the HTTP status the catalogue gives that code (never chosen at the call site),
 * a message a person can act on, optional detail and cause.
 */
export class NcrError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: unknown;
  /**
   * Extra response headers, for errors built in `http/` (e.g. a challenge's WWW-Authenticate). Domain code puts what
   * a header needs into `detail` instead (`retryAfterSeconds`, an upload's `offset`) and `http/errors.ts` writes it.
   */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: { detail?: unknown; cause?: unknown; headers?: Record<string, string> } = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'NcrError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }
}

export function isNcrError(err: unknown): err is NcrError {
  return err instanceof NcrError;
}
