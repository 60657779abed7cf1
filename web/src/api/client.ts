/**
 * The one way the console talks to ncr: JSON over /api/v1 with the session cookie. Writes carry the session's CSRF
 * token; every failure becomes an ApiError with the server's code and message.
 */
let csrfToken: string | undefined;
let onUnauthorized: (() => void) | undefined;

export function setCsrfToken(token: string | undefined) {
  csrfToken = token;
}

/** Called when a request (other than the session check itself) finds the session gone. */
export function setUnauthorizedHandler(fn: (() => void) | undefined) {
  onUnauthorized = fn;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** seconds to wait, from Retry-After (429) */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Path segments with '/' inside (image names) are sent as %2F. */
export const seg = (s: string) => encodeURIComponent(s);

export function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', 'x-requested-with': 'XMLHttpRequest' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'NETWORK', 'cannot reach the ncr server: check that it is running and your connection');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const e = (data as { errors?: { code: string; message: string }[] } | undefined)?.errors?.[0];
    const retry = Number(res.headers.get('retry-after')) || undefined;
    const err = new ApiError(res.status, e?.code ?? 'HTTP_' + res.status, e?.message ?? `the server answered ${res.status} ${res.statusText}`, retry);
    if (res.status === 401 && path !== '/session') onUnauthorized?.();
    throw err;
  }
  return data as T;
}

/** A message for a person, from any error. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 429) return `Too many attempts: wait ${err.retryAfter ?? 60} seconds, then try again.`;
    return capitalize(err.message);
  }
  return err instanceof Error ? capitalize(err.message) : 'Something went wrong.';
}

const capitalize = (s: string) => (s ? s[0].toUpperCase() + s.slice(1) : s);
