/**
 * Users and their access keys: create, list, change, delete, and verification of a key or password.
 * Secrets are shown once (returned by create/regenerate) and kept only as argon2 hashes.
 */
import { createHash, randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { NcrError } from '../../oci/errors.js';
import type { Clock } from '../clock.js';
import type { Actor } from '../events.js';
import type { EventListeners } from '../outbox/dispatcher.js';
import type { Page, PageRequest } from '../pagination.js';
import type { UnitOfWork } from '../uow.js';
import { requireActor } from './permissions.js';
import type { AccessKey, AccessKeyStore, User, UserStore } from './ports.js';
import type { SessionStore } from './session.service.js';
import { isRole, type Role } from './roles.js';
import { hashSecret, newAccessKeyId, newSecretKey, verifySecret } from './secrets.js';

export const MAX_KEYS_PER_USER = 5;
export const KEY_ROTATION_DAYS = 90;

export interface IdentityOptions {
  /** most access keys one user may hold (default MAX_KEYS_PER_USER) */
  maxKeysPerUser: number;
  /** keys older than this many days are flagged rotationDue (default KEY_ROTATION_DAYS) */
  keyRotationDays: number;
}
const USERNAME = /^[a-z0-9][a-z0-9._-]{1,62}$/;

/** Token subjects of ncr's own services (e.g. `service:scanner`): valid only with the scopes their token carries, on /v2. */
export const SERVICE_SUBJECT_PREFIX = 'service:';

export interface Principal {
  userId: string;
  username: string;
  role: Role;
  accessKeyId?: string;
}

export type AccessKeyView = AccessKey & { rotationDue: boolean };

/** What identity changes touch, in one transaction. */
export interface IdentityStores {
  users: UserStore;
  keys: AccessKeyStore;
  sessions: SessionStore;
}

export class IdentityService {
  /**
   * Verified credentials, so the slow hash is not paid on every Basic-auth request. Keyed by a hash of the pair.
   * Dropped on this node at once after a change to users or keys, and on every other node when the change's event
   * arrives from the outbox (within the dispatcher's poll interval, 1 s by default); 5 s at most in any case.
   */
  private readonly verified = new LRUCache<string, Principal>({ max: 10_000, ttl: 5_000 });
  /** Principals behind tokens, briefly: a deleted key or changed role takes effect within 5 s on every node. */
  private readonly principals = new LRUCache<string, Principal>({ max: 10_000, ttl: 5_000 });
  private pendingTouches = new Map<string, number>();
  private touchTimer: NodeJS.Timeout | undefined;

  private readonly now: () => number;

  constructor(
    private readonly users: UserStore,
    private readonly keys: AccessKeyStore,
    private readonly uow: UnitOfWork<IdentityStores>,
    listeners: EventListeners,
    clock: Clock,
    private readonly limits: IdentityOptions = { maxKeysPerUser: MAX_KEYS_PER_USER, keyRotationDays: KEY_ROTATION_DAYS },
  ) {
    this.now = () => clock.now();
    listeners.on(() => this.forget(), ['UserUpdated', 'UserDeleted', 'PasswordChanged', 'AccessKeyRegenerated', 'AccessKeyDeleted']);
  }

  async createUser(input: { username: string; role: string; password?: string }, actor: Actor): Promise<User> {
    requireActor(actor, 'user:manage', { user: input.username });
    if (!USERNAME.test(input.username)) {
      throw new NcrError('VALIDATION_FAILED', `username "${input.username}" is invalid: use 2-63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit`);
    }
    if (!isRole(input.role)) throw new NcrError('VALIDATION_FAILED', `role "${input.role}" is invalid: use admin, member or viewer`);
    if (input.password !== undefined) checkPassword(input.password);
    const user: User = { id: randomUUID(), username: input.username, role: input.role, createdAt: this.now(), hasPassword: input.password !== undefined };
    const passwordHash = input.password !== undefined ? await hashSecret(input.password) : null;
    await this.uow.transaction(async (tx) => {
      await tx.users.create({ ...user, passwordHash });
      tx.publish({ type: 'UserCreated', at: user.createdAt, actor, username: user.username, role: user.role });
    });
    return user;
  }

  listUsers(q: PageRequest): Promise<Page<User>> {
    return this.users.list(q);
  }

  async getUser(username: string): Promise<User> {
    const u = await this.users.getByUsername(username);
    if (!u) throw new NcrError('NOT_FOUND', `user "${username}" does not exist`);
    const { passwordHash: _omit, ...user } = u;
    return user;
  }

  async setRole(username: string, role: string, actor: Actor): Promise<User> {
    requireActor(actor, 'user:manage', { user: username });
    if (!isRole(role)) throw new NcrError('VALIDATION_FAILED', `role "${role}" is invalid: use admin, member or viewer`);
    const user = await this.uow.transaction(async (tx) => {
      // every change that can remove an admin takes this lock: two of them cannot both see "another admin is left"
      await tx.lock('users:admins');
      const u = await this.userIn(tx.users, username);
      if (u.role === 'admin' && role !== 'admin' && (await tx.users.countByRole('admin')) <= 1) {
        throw new NcrError('CONFLICT', `"${username}" is the last admin: make another user admin first`);
      }
      await tx.users.update(u.id, { role });
      tx.publish({ type: 'UserUpdated', at: this.now(), actor, username, role });
      return u;
    });
    this.forget();
    return { ...user, role };
  }

  async deleteUser(username: string, actor: Actor): Promise<void> {
    requireActor(actor, 'user:manage', { user: username });
    await this.uow.transaction(async (tx) => {
      await tx.lock('users:admins');
      const user = await this.userIn(tx.users, username);
      if (user.role === 'admin' && (await tx.users.countByRole('admin')) <= 1) {
        throw new NcrError('CONFLICT', `"${username}" is the last admin and cannot be removed: make another user admin first`);
      }
      await tx.users.delete(user.id);
      tx.publish({ type: 'UserDeleted', at: this.now(), actor, username });
    });
    this.forget();
  }

  async setPassword(username: string, password: string, actor: Actor): Promise<void> {
    requireActor(actor, 'key:manage-own', { user: username });
    checkPassword(password);
    const passwordHash = await hashSecret(password);
    await this.uow.transaction(async (tx) => {
      const user = await this.userIn(tx.users, username);
      await tx.users.update(user.id, { passwordHash });
      // someone else (an admin) reset it: whoever had the old password loses their console sessions with it
      if (actor.userId !== user.id) await tx.sessions.deleteForUser(user.id);
      tx.publish({ type: 'PasswordChanged', at: this.now(), actor, username });
    });
  }

  /** Checks a username and password; undefined when they do not match. */
  async verifyPassword(username: string, password: string): Promise<Principal | undefined> {
    const u = await this.users.getByUsername(username);
    if (!u || !u.passwordHash || !(await verifySecret(u.passwordHash, password))) return undefined;
    return { userId: u.id, username: u.username, role: u.role };
  }

  /** Creates a key for the user (at most maxKeysPerUser); the secret is in the result and nowhere else. */
  async createKey(username: string, actor: Actor, fixed?: { accessKey: string; secretKey: string }): Promise<AccessKeyView & { secretKey: string }> {
    requireActor(actor, 'key:manage-own', { user: username });
    const secretKey = fixed?.secretKey ?? newSecretKey();
    const secretHash = await hashSecret(secretKey);
    const max = this.limits.maxKeysPerUser;
    const key = await this.uow.transaction(async (tx) => {
      const user = await this.userIn(tx.users, username);
      // the count and the insert under one lock per user: parallel creates cannot pass the limit together
      await tx.lock(`keys:${user.id}`);
      if ((await tx.keys.countForUser(user.id)) >= max) {
        throw new NcrError('LIMIT_EXCEEDED', `${username} already has ${max} access keys, the most allowed: delete one first`);
      }
      const k: AccessKey = { id: randomUUID(), userId: user.id, accessKey: fixed?.accessKey ?? newAccessKeyId(), createdAt: this.now(), lastUsedAt: null };
      await tx.keys.create({ ...k, secretHash });
      tx.publish({ type: 'AccessKeyCreated', at: k.createdAt, actor, username, accessKey: k.accessKey });
      return k;
    });
    return { ...key, rotationDue: false, secretKey };
  }

  async listKeys(username: string): Promise<AccessKeyView[]> {
    const user = await this.getUser(username);
    return (await this.keys.listForUser(user.id)).map((k) => this.view(k));
  }

  /** A key of the user's, by id or access key; NOT_FOUND otherwise. */
  async getKey(username: string, idOrAccessKey: string): Promise<AccessKey> {
    const user = await this.getUser(username);
    const keys = await this.keys.listForUser(user.id);
    const k = keys.find((x) => x.id === idOrAccessKey || x.accessKey === idOrAccessKey);
    if (!k) throw new NcrError('NOT_FOUND', `access key ${idOrAccessKey} does not exist for ${username}`);
    return k;
  }

  async regenerateKey(username: string, idOrAccessKey: string, actor: Actor): Promise<AccessKeyView & { secretKey: string }> {
    requireActor(actor, 'key:manage-own', { user: username });
    const k = await this.getKey(username, idOrAccessKey);
    const secretKey = newSecretKey();
    const secretHash = await hashSecret(secretKey);
    const t = this.now();
    await this.uow.transaction(async (tx) => {
      await tx.keys.replaceSecret(k.id, secretHash, t);
      tx.publish({ type: 'AccessKeyRegenerated', at: t, actor, username, accessKey: k.accessKey });
    });
    this.forget();
    return { ...k, createdAt: t, rotationDue: false, secretKey };
  }

  async deleteKey(username: string, idOrAccessKey: string, actor: Actor): Promise<void> {
    requireActor(actor, 'key:manage-own', { user: username });
    const k = await this.getKey(username, idOrAccessKey);
    await this.uow.transaction(async (tx) => {
      await tx.keys.delete(k.id);
      tx.publish({ type: 'AccessKeyDeleted', at: this.now(), actor, username, accessKey: k.accessKey });
    });
    this.forget();
  }

  /** Checks an access key and secret; undefined when they do not match. Records last use (batched). */
  async verifyKey(accessKey: string, secretKey: string): Promise<Principal | undefined> {
    const cacheKey = createHash('sha256').update(accessKey).update('\0').update(secretKey).digest('base64');
    let principal = this.verified.get(cacheKey);
    if (!principal) {
      const k = await this.keys.getByAccessKey(accessKey);
      if (!k || !(await verifySecret(k.secretHash, secretKey))) return undefined;
      const user = await this.users.get(k.userId);
      if (!user) return undefined;
      principal = { userId: user.id, username: user.username, role: user.role, accessKeyId: k.id };
      this.verified.set(cacheKey, principal);
    }
    this.touch(principal.accessKeyId!);
    return principal;
  }

  /** The current principal of a user id (role may have changed since a token was issued); undefined when gone. */
  async principalOf(userId: string, accessKeyId?: string): Promise<Principal | undefined> {
    // ncr's own services (the external scanner's pull token): no user behind them, only what their token grants
    if (userId.startsWith(SERVICE_SUBJECT_PREFIX)) return { userId, username: userId, role: 'viewer' };
    const cacheKey = `${userId}\0${accessKeyId ?? ''}`;
    const hit = this.principals.get(cacheKey);
    if (hit) return hit;
    const user = await this.users.get(userId);
    if (!user) return undefined;
    if (accessKeyId && !(await this.keys.get(accessKeyId))) return undefined;
    const principal = { userId: user.id, username: user.username, role: user.role, accessKeyId };
    this.principals.set(cacheKey, principal);
    return principal;
  }

  async userCount(): Promise<number> {
    return this.users.count();
  }

  /** Writes pending last-used times now. */
  async flush(): Promise<void> {
    if (this.touchTimer) clearTimeout(this.touchTimer);
    this.touchTimer = undefined;
    const batch = [...this.pendingTouches.entries()].map(([id, at]) => ({ id, at }));
    this.pendingTouches = new Map();
    if (batch.length) await this.keys.touch(batch);
  }

  private async userIn(users: UserStore, username: string): Promise<User> {
    const u = await users.getByUsername(username);
    if (!u) throw new NcrError('NOT_FOUND', `user "${username}" does not exist`);
    const { passwordHash: _omit, ...user } = u;
    return user;
  }

  /** Drops cached credentials and principals after any change to users or keys. */
  private forget() {
    this.verified.clear();
    this.principals.clear();
  }

  private touch(keyId: string) {
    this.pendingTouches.set(keyId, this.now());
    if (!this.touchTimer) {
      this.touchTimer = setTimeout(() => void this.flush().catch(() => undefined), 1000);
      this.touchTimer.unref();
    }
  }

  private view(k: AccessKey): AccessKeyView {
    return { ...k, rotationDue: this.now() - k.createdAt > this.limits.keyRotationDays * 86_400_000 };
  }
}

function checkPassword(p: string) {
  if (p.length < 8 || p.length > 256) throw new NcrError('VALIDATION_FAILED', 'password must be 8 to 256 characters long');
}
