/** Console sessions in the metadata database (migration 0002_sessions), so every node sees the same sessions. */
import type { Kysely } from 'kysely';
import type { SessionStore, StoredSession } from '../../../domain/auth/session.service.js';
import type { Database } from './schema.js';
import type { Db } from './util.js';

/** The `sessions` table. Kept here until schema.ts lists it with the other tables. */
export interface SessionsTable {
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

type SessionDb = Kysely<Database & { sessions: SessionsTable }>;

const toSession = (r: SessionsTable): StoredSession => ({
  idHash: r.id_hash,
  userId: r.user_id,
  csrfToken: r.csrf_token,
  createdAt: Number(r.created_at),
  lastSeenAt: Number(r.last_seen_at),
  expiresAt: Number(r.expires_at),
});

export class KyselySessionStore implements SessionStore {
  private readonly db: SessionDb;

  constructor(db: Db) {
    this.db = db as unknown as SessionDb;
  }

  async create(s: StoredSession) {
    await this.db
      .insertInto('sessions')
      .values({ id_hash: s.idHash, user_id: s.userId, csrf_token: s.csrfToken, created_at: s.createdAt, last_seen_at: s.lastSeenAt, expires_at: s.expiresAt })
      .execute();
  }

  async get(idHash: string) {
    const r = await this.db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    return r && toSession(r);
  }

  async touch(idHash: string, lastSeenAt: number, expiresAt: number) {
    await this.db.updateTable('sessions').set({ last_seen_at: lastSeenAt, expires_at: expiresAt }).where('id_hash', '=', idHash).execute();
  }

  async delete(idHash: string) {
    await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  }

  async deleteForUser(userId: string) {
    const r = await this.db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteExpired(now: number) {
    const r = await this.db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
