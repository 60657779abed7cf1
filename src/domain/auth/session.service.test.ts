import { describe, expect, it } from 'vitest';
import { NcrError } from '../../oci/errors.js';
import type { IdentityService, Principal } from './identity.service.js';
import { LoginLimiter } from './login-limiter.js';
import type { LoginFailureStore } from './ports.js';
import { hashSessionId, SessionService, type SessionStore, type StoredSession } from './session.service.js';

class MemorySessions implements SessionStore {
  rows = new Map<string, StoredSession>();
  touches = 0;
  async create(s: StoredSession) {
    this.rows.set(s.idHash, { ...s });
  }
  async get(idHash: string) {
    const r = this.rows.get(idHash);
    return r && { ...r };
  }
  async touch(idHash: string, lastSeenAt: number, expiresAt: number) {
    this.touches++;
    const r = this.rows.get(idHash);
    if (r) Object.assign(r, { lastSeenAt, expiresAt });
  }
  async delete(idHash: string) {
    this.rows.delete(idHash);
  }
  async deleteForUser(userId: string) {
    let n = 0;
    for (const [k, v] of this.rows) if (v.userId === userId && this.rows.delete(k)) n++;
    return n;
  }
  async deleteExpired(now: number) {
    let n = 0;
    for (const [k, v] of this.rows) if (v.expiresAt <= now && this.rows.delete(k)) n++;
    return n;
  }
}

class MemoryFailures implements LoginFailureStore {
  rows: { key: string; at: number }[] = [];
  async add(keys: string[], at: number, forgetBefore: number) {
    this.rows = this.rows.filter((r) => r.at >= forgetBefore);
    for (const key of keys) this.rows.push({ key, at });
  }
  async recent(keys: string[], since: number) {
    const out = new Map<string, { count: number; oldest: number }>();
    for (const r of this.rows) {
      if (!keys.includes(r.key) || r.at <= since) continue;
      const prev = out.get(r.key);
      out.set(r.key, { count: (prev?.count ?? 0) + 1, oldest: Math.min(prev?.oldest ?? Infinity, r.at) });
    }
    return out;
  }
}

const alice: Principal = { userId: 'u1', username: 'alice', role: 'member' };

function setup() {
  let t = 1_000_000;
  const users = new Map([['u1', { ...alice, password: 'correct horse' }]]);
  const identity = {
    async verifyPassword(username: string, password: string) {
      const u = [...users.values()].find((x) => x.username === username);
      return u && u.password === password ? { userId: u.userId, username: u.username, role: u.role } : undefined;
    },
    async principalOf(userId: string) {
      const u = users.get(userId);
      return u && { userId: u.userId, username: u.username, role: u.role };
    },
    async getUser(username: string) {
      const u = [...users.values()].find((x) => x.username === username);
      if (!u) throw new NcrError('NOT_FOUND', 'no such user');
      return { id: u.userId, username: u.username, role: u.role, createdAt: 0, hasPassword: true };
    },
  } as unknown as IdentityService;
  const store = new MemorySessions();
  const clock = { now: () => t };
  const limiter = new LoginLimiter(new MemoryFailures(), 3, 60_000, clock);
  const sessions = new SessionService(identity, store, limiter, { idleMs: 3600_000, absoluteMs: 5 * 3600_000, touchEveryMs: 60_000 }, clock);
  return { sessions, store, users, advance: (ms: number) => (t += ms) };
}

const code = async (p: Promise<unknown>) => p.then(() => 'ok', (e: NcrError) => e.code);

describe('SessionService', () => {
  it('signs in with the password, stores only a hash of the session id, and authenticates the cookie', async () => {
    const { sessions, store } = setup();
    const s = await sessions.signIn('alice', 'correct horse', '10.0.0.1');
    expect(s.principal).toEqual(alice);
    expect(s.sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(store.rows.has(s.sessionId)).toBe(false);
    expect(store.rows.get(hashSessionId(s.sessionId))?.csrfToken).toBe(s.csrfToken);
    const caller = await sessions.authenticate(s.sessionId, { method: 'GET' });
    expect(caller).toEqual({ principal: alice, csrfToken: s.csrfToken });
    expect(await sessions.authenticate('not-a-session', { method: 'GET' })).toBeUndefined();
    expect(await sessions.authenticate(undefined, { method: 'GET' })).toBeUndefined();
  });

  it('refuses wrong passwords and counts them in the login limiter (429 after the limit)', async () => {
    const { sessions } = setup();
    for (let i = 0; i < 3; i++) expect(await code(sessions.signIn('alice', 'wrong', '10.0.0.2'))).toBe('UNAUTHORIZED');
    expect(await code(sessions.signIn('alice', 'correct horse', '10.0.0.2'))).toBe('TOOMANYREQUESTS');
    expect(await code(sessions.signIn('nobody', '', '10.0.0.3'))).toBe('UNAUTHORIZED');
  });

  it('needs the CSRF token for anything but GET/HEAD/OPTIONS', async () => {
    const { sessions } = setup();
    const s = await sessions.signIn('alice', 'correct horse', '10.0.0.1');
    expect(await code(sessions.authenticate(s.sessionId, { method: 'POST' }))).toBe('DENIED');
    expect(await code(sessions.authenticate(s.sessionId, { method: 'DELETE', csrfToken: 'x'.repeat(43) }))).toBe('DENIED');
    expect(await code(sessions.authenticate(s.sessionId, { method: 'PATCH', csrfToken: s.csrfToken }))).toBe('ok');
    expect(await code(sessions.authenticate(s.sessionId, { method: 'HEAD' }))).toBe('ok');
  });

  it('expires after the idle time, is kept alive by use (written at most once a minute), and ends at the absolute lifetime', async () => {
    const { sessions, store, advance } = setup();
    const s = await sessions.signIn('alice', 'correct horse', '10.0.0.1');
    advance(10_000);
    await sessions.authenticate(s.sessionId, { method: 'GET' });
    expect(store.touches).toBe(0);
    for (let i = 0; i < 5; i++) {
      advance(50 * 60_000);
      expect(await sessions.authenticate(s.sessionId, { method: 'GET' }), `step ${i}`).toBeDefined();
    }
    expect(store.touches).toBe(5);
    advance(50 * 60_000); // used 50 min ago, so idle would allow it; but 5 h have passed since sign-in
    expect(await sessions.authenticate(s.sessionId, { method: 'GET' })).toBeUndefined();
    expect(store.rows.size).toBe(0);

    const idle = await sessions.signIn('alice', 'correct horse', '10.0.0.1');
    advance(3600_000);
    expect(await sessions.authenticate(idle.sessionId, { method: 'GET' })).toBeUndefined();
  });

  it('signs out, sweeps expired sessions at sign-in, and ends sessions of deleted users', async () => {
    const { sessions, store, users, advance } = setup();
    const a = await sessions.signIn('alice', 'correct horse', '10.0.0.1');
    await sessions.signOut(a.sessionId);
    expect(await sessions.authenticate(a.sessionId, { method: 'GET' })).toBeUndefined();
    await sessions.signIn('alice', 'correct horse', '10.0.0.1');
    advance(2 * 3600_000);
    await sessions.signIn('alice', 'correct horse', '10.0.0.1');
    expect(store.rows.size).toBe(1);
    const b = await sessions.signIn('alice', 'correct horse', '10.0.0.1');
    users.delete('u1');
    expect(await sessions.authenticate(b.sessionId, { method: 'GET' })).toBeUndefined();
  });
});
