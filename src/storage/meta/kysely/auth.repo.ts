import type { AccessKey, AccessKeyStore, LoginFailureStore, SigningKeyStore, StoredSigningKey, User, UserStore } from '../../../domain/auth/ports.js';
import type { Role } from '../../../domain/auth/roles.js';
import { offsetOf, type PageRequest } from '../../../domain/pagination.js';
import { conflict, type Db, isUniqueViolation } from './util.js';

const toUser = (r: { id: string; username: string; role: string; created_at: number; password_hash: string | null }) => ({
  id: r.id,
  username: r.username,
  role: r.role as Role,
  createdAt: Number(r.created_at),
  hasPassword: r.password_hash !== null,
});

export class KyselyUserStore implements UserStore {
  constructor(private readonly db: Db) {}

  async create(u: User & { passwordHash: string | null }) {
    try {
      await this.db.insertInto('users').values({ id: u.id, username: u.username, role: u.role, created_at: u.createdAt, password_hash: u.passwordHash }).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`user "${u.username}" already exists`, err);
      throw err;
    }
  }

  async get(id: string) {
    const r = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toUser(r);
  }

  async getByUsername(username: string) {
    const r = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return r && { ...toUser(r), passwordHash: r.password_hash };
  }

  async list(q: PageRequest) {
    const [rows, total] = await Promise.all([
      this.db.selectFrom('users').selectAll().orderBy('username').limit(q.perPage).offset(offsetOf(q)).execute(),
      this.count(),
    ]);
    return { items: rows.map(toUser), page: q.page, perPage: q.perPage, total };
  }

  async count() {
    const r = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async countByRole(role: Role) {
    const r = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('role', '=', role).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async update(id: string, patch: { role?: Role; passwordHash?: string }) {
    const set: { role?: string; password_hash?: string } = {};
    if (patch.role) set.role = patch.role;
    if (patch.passwordHash) set.password_hash = patch.passwordHash;
    if (Object.keys(set).length) await this.db.updateTable('users').set(set).where('id', '=', id).execute();
  }

  async delete(id: string) {
    await this.db.deleteFrom('users').where('id', '=', id).execute();
  }
}

const toKey = (r: { id: string; user_id: string; access_key: string; created_at: number; last_used_at: number | null }): AccessKey => ({
  id: r.id,
  userId: r.user_id,
  accessKey: r.access_key,
  createdAt: Number(r.created_at),
  lastUsedAt: r.last_used_at == null ? null : Number(r.last_used_at),
});

export class KyselyAccessKeyStore implements AccessKeyStore {
  constructor(private readonly db: Db) {}

  async create(k: AccessKey & { secretHash: string }) {
    try {
      await this.db
        .insertInto('access_keys')
        .values({ id: k.id, user_id: k.userId, access_key: k.accessKey, secret_hash: k.secretHash, created_at: k.createdAt, last_used_at: k.lastUsedAt })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`access key ${k.accessKey} already exists`, err);
      throw err;
    }
  }

  async getByAccessKey(accessKey: string) {
    const r = await this.db.selectFrom('access_keys').selectAll().where('access_key', '=', accessKey).executeTakeFirst();
    return r && { ...toKey(r), secretHash: r.secret_hash };
  }

  async get(id: string) {
    const r = await this.db.selectFrom('access_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toKey(r);
  }

  async listForUser(userId: string) {
    return (await this.db.selectFrom('access_keys').selectAll().where('user_id', '=', userId).orderBy('created_at').execute()).map(toKey);
  }

  async countForUser(userId: string) {
    const r = await this.db.selectFrom('access_keys').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async replaceSecret(id: string, secretHash: string, now: number) {
    await this.db.updateTable('access_keys').set({ secret_hash: secretHash, created_at: now, last_used_at: null }).where('id', '=', id).execute();
  }

  async touch(uses: { id: string; at: number }[]) {
    await this.db.transaction().execute(async (tx) => {
      for (const u of uses) await tx.updateTable('access_keys').set({ last_used_at: u.at }).where('id', '=', u.id).execute();
    });
  }

  async delete(id: string) {
    await this.db.deleteFrom('access_keys').where('id', '=', id).execute();
  }
}

export class KyselyLoginFailureStore implements LoginFailureStore {
  constructor(private readonly db: Db) {}

  async add(keys: string[], at: number, forgetBefore: number) {
    if (keys.length === 0) return;
    await this.db.insertInto('login_failures').values(keys.map((key) => ({ key, at }))).execute();
    await this.db.deleteFrom('login_failures').where('key', 'in', keys).where('at', '<', forgetBefore).execute();
  }

  async recent(keys: string[], since: number) {
    const rows = await this.db
      .selectFrom('login_failures')
      .select(['key', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.min('at').as('oldest')])
      .where('key', 'in', keys)
      .where('at', '>', since)
      .groupBy('key')
      .execute();
    return new Map(rows.map((r) => [r.key, { count: Number(r.n), oldest: Number(r.oldest) }]));
  }
}

export class KyselySigningKeyStore implements SigningKeyStore {
  constructor(private readonly db: Db) {}

  async list(): Promise<StoredSigningKey[]> {
    const rows = await this.db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'desc').orderBy('kid').execute();
    return rows.map((r) => ({ kid: r.kid, alg: 'ES256', publicJwk: r.public_jwk, sealedPrivateJwk: r.private_jwk, createdAt: Number(r.created_at) }));
  }

  async add(k: StoredSigningKey) {
    await this.db
      .insertInto('signing_keys')
      .values({ kid: k.kid, alg: k.alg, public_jwk: k.publicJwk, private_jwk: k.sealedPrivateJwk, created_at: k.createdAt })
      .onConflict((oc) => oc.column('kid').doNothing())
      .execute();
  }

  async deleteOlderThan(before: number) {
    const newest = (await this.list())[0];
    if (!newest) return 0;
    const r = await this.db.deleteFrom('signing_keys').where('created_at', '<', before).where('kid', '<>', newest.kid).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
