/**
 * Console sessions: sign in with username and password, a random session id carried in a cookie, a CSRF token per
 * session. Sessions live in the metadata database (only a hash of the id is stored), so any node can check them.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { NcrError } from '../../oci/errors.js';
import type { Clock } from '../clock.js';
import type { IdentityService, Principal } from './identity.service.js';
import type { LoginLimiter } from './login-limiter.js';

export interface StoredSession {
  /** sha256 of the session id (base64url); the id itself is never stored */
  idHash: string;
  userId: string;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  /** lastSeenAt + idle timeout, capped by createdAt + the absolute lifetime */
  expiresAt: number;
}

/** Storage port for sessions. Implemented by storage/meta/kysely/session.repo.ts. */
export interface SessionStore {
  /** Inserts a session (the id hash is unique). */
  create(s: StoredSession): Promise<void>;
  /** The session with this id hash, expired or not; undefined when absent. */
  get(idHash: string): Promise<StoredSession | undefined>;
  /** Records activity: moves lastSeenAt and expiresAt forward. */
  touch(idHash: string, lastSeenAt: number, expiresAt: number): Promise<void>;
  delete(idHash: string): Promise<void>;
  /** Deletes every session of the user; returns how many. */
  deleteForUser(userId: string): Promise<number>;
  /** Deletes sessions that expired at or before `now`; returns how many. */
  deleteExpired(now: number): Promise<number>;
}

export interface SessionOptions {
  /** a session unused for this long is over (default 12 h) */
  idleMs: number;
  /** a session is over this long after sign-in, used or not (default 7 days) */
  absoluteMs: number;
  /** activity is written at most this often per session (default 60 s) */
  touchEveryMs: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = { idleMs: 12 * 3600_000, absoluteMs: 7 * 86_400_000, touchEveryMs: 60_000 };

export interface SignedIn {
  principal: Principal;
  /** goes into the cookie; shown nowhere else */
  sessionId: string;
  csrfToken: string;
  /** when the session ends at the latest (absolute lifetime), epoch ms */
  expiresAt: number;
}

export interface SessionCaller {
  principal: Principal;
  csrfToken: string;
}

export const hashSessionId = (id: string) => createHash('sha256').update(id).digest('base64url');

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export class SessionService {
  private readonly opts: SessionOptions;

  constructor(
    private readonly identity: IdentityService,
    private readonly store: SessionStore,
    private readonly limiter: LoginLimiter,
    opts: Partial<SessionOptions> = {},
    clock: Clock = { now: () => Date.now() },
  ) {
    this.opts = { ...DEFAULT_SESSION_OPTIONS, ...opts };
    this.now = () => clock.now();
  }

  private readonly now: () => number;

  /** The absolute lifetime, for the cookie's Max-Age. */
  get maxAgeMs(): number {
    return this.opts.absoluteMs;
  }

  /**
   * Checks username and password (failed attempts count in the shared LoginLimiter: TOOMANYREQUESTS when over) and
   * starts a session. Throws UNAUTHORIZED when they do not match.
   */
  async signIn(username: string, password: string, remoteAddr: string): Promise<SignedIn> {
    await this.limiter.check(remoteAddr, username);
    const principal = username && password ? await this.identity.verifyPassword(username, password) : undefined;
    if (!principal) {
      await this.limiter.fail(remoteAddr, username);
      throw new NcrError('UNAUTHORIZED', 'the username or password is wrong');
    }
    const t = this.now();
    // Expired rows are swept here, where sessions are made, so no node needs a timer for it.
    await this.store.deleteExpired(t);
    const sessionId = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    await this.store.create({ idHash: hashSessionId(sessionId), userId: principal.userId, csrfToken, createdAt: t, lastSeenAt: t, expiresAt: this.expiry(t, t) });
    return { principal, sessionId, csrfToken, expiresAt: t + this.opts.absoluteMs };
  }

  /**
   * The caller behind a session id, or undefined when there is no such live session (or its user is gone).
   * For a method other than GET/HEAD/OPTIONS the CSRF token must match the session's: DENIED otherwise.
   */
  async authenticate(sessionId: string | undefined, request: { method: string; csrfToken?: string }): Promise<SessionCaller | undefined> {
    if (!sessionId) return undefined;
    const idHash = hashSessionId(sessionId);
    const s = await this.store.get(idHash);
    const t = this.now();
    if (!s) return undefined;
    if (s.expiresAt <= t) {
      await this.store.delete(idHash);
      return undefined;
    }
    const principal = await this.identity.principalOf(s.userId);
    if (!principal) return undefined;
    if (!SAFE_METHODS.has(request.method.toUpperCase()) && !sameToken(s.csrfToken, request.csrfToken)) {
      throw new NcrError('DENIED', 'missing or wrong X-CSRF-Token header: requests signed in with the console session must send the token from GET /api/v1/session');
    }
    if (t - s.lastSeenAt >= this.opts.touchEveryMs) await this.store.touch(idHash, t, this.expiry(s.createdAt, t));
    return { principal, csrfToken: s.csrfToken };
  }

  /** Ends the session (no error when it is already gone). */
  async signOut(sessionId: string | undefined): Promise<void> {
    if (sessionId) await this.store.delete(hashSessionId(sessionId));
  }

  /** Ends every session of a user, e.g. after an admin reset their password. */
  async revokeUser(userId: string): Promise<number> {
    return this.store.deleteForUser(userId);
  }

  private expiry(createdAt: number, lastSeenAt: number): number {
    return Math.min(lastSeenAt + this.opts.idleMs, createdAt + this.opts.absoluteMs);
  }
}

function sameToken(expected: string, given: string | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
