import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, sql, SqliteDialect } from 'kysely';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { WalSync, withWalSync } from './wal-sync.js';

interface Db {
  t: { v: number };
}

/** A real WalSync whose syncs are recorded and can be held open, to see who waits for them. */
class Gated extends WalSync {
  calls: number[] = [];
  gate?: Promise<void>;
  override async sync(upTo: number): Promise<void> {
    this.calls.push(upTo);
    await this.gate;
    return super.sync(upTo);
  }
}

describe('withWalSync', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ncr-walsync-'));
  const file = join(dir, 'db.sqlite');
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  const walSync = new Gated(file);
  const db = new Kysely<Db>({ dialect: withWalSync(new SqliteDialect({ database: sqlite }), file, walSync) });
  afterAll(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await sql`create table if not exists t (v integer)`.execute(db);
    walSync.calls = [];
    walSync.gate = undefined;
  });

  it('a write outside a transaction returns only after its sync, and the connection serves others meanwhile', async () => {
    let open!: () => void;
    walSync.gate = new Promise((r) => (open = r));
    let done = false;
    const insert = db.insertInto('t').values({ v: 1 }).execute().then(() => (done = true));
    // a read runs while the write waits for its sync: the connection was released before the sync
    const rows = await db.selectFrom('t').selectAll().where('v', '=', 1).execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(done).toBe(false);
    expect(walSync.calls).toHaveLength(1);
    open();
    await insert;
    expect(done).toBe(true);
  });

  it('reads and read-only or rolled-back transactions sync nothing; a writing transaction syncs once, at its end', async () => {
    await db.selectFrom('t').selectAll().execute();
    await db.transaction().execute((tx) => tx.selectFrom('t').selectAll().execute());
    await expect(
      db.transaction().execute(async (tx) => {
        await tx.insertInto('t').values({ v: 2 }).execute();
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(walSync.calls).toEqual([]);
    await db.transaction().execute(async (tx) => {
      await tx.insertInto('t').values({ v: 3 }).execute();
      await tx.insertInto('t').values({ v: 4 }).execute();
    });
    expect(walSync.calls).toHaveLength(1);
  });

  it('concurrent writers all wait for a sync that covers them', async () => {
    const before = walSync.calls.length;
    await Promise.all([1, 2, 3, 4].map((v) => db.insertInto('t').values({ v }).execute()));
    const calls = walSync.calls.slice(before);
    expect(calls).toHaveLength(4);
    expect(new Set(calls).size).toBe(4);
  });

  it('a failed sync fails the write that waits for it', async () => {
    const lost = new WalSync(join(dir, 'missing.sqlite'));
    await expect(lost.sync(lost.wrote())).rejects.toThrow(/ENOENT/);
    await expect(lost.sync(0)).resolves.toBeUndefined();
  });
});
