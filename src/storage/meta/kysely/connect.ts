/** Opens the metadata database (SQLite file by default, PostgreSQL when the URL says so) and migrates it. */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { CodeMigrationProvider, type Dialect } from './migrations.js';
import { withNulGuard } from './nul-guard.js';
import { withWalSync } from './wal-sync.js';
import type { Database } from './schema.js';

// int8 and numeric come back as strings by default; every bigint here is a time, a size or an id that fits a double.
pg.types.setTypeParser(20, (v) => Number(v));

export interface MetaDb {
  db: Kysely<Database>;
  dialect: Dialect;
  /** the SQLite database file (undefined on PostgreSQL) */
  file?: string;
  close(): Promise<void>;
}

export async function openMetaDb(opts: { databaseUrl?: string; dataDir: string; onIdleError?: (err: Error) => void; poolMax?: number }): Promise<MetaDb> {
  let db: Kysely<Database>;
  let dialect: Dialect;
  let file: string | undefined;
  if (opts.databaseUrl && /^postgres(ql)?:\/\//.test(opts.databaseUrl)) {
    dialect = 'postgres';
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.poolMax ?? 10 });
    // An idle connection the server drops (restart, failover, admin) is an 'error' on the pool: without a listener
    // Node would end the process. The pool discards that connection and opens a new one on the next query; a
    // query that fails meanwhile answers UNAVAILABLE (http/errors.ts).
    pool.on('error', (err) => opts.onIdleError?.(err));
    // The pool listens only while a connection is idle: one the server drops while it is checked out (between two
    // statements of a transaction) would emit 'error' with nobody listening and end the process. Every connection
    // keeps a listener of its own; the statement that uses it next fails, and answers UNAVAILABLE.
    pool.on('connect', (client) => client.on('error', (err) => opts.onIdleError?.(err)));
    db = new Kysely<Database>({ dialect: withNulGuard(new PostgresDialect({ pool })) });
  } else {
    dialect = 'sqlite';
    file = opts.databaseUrl ? opts.databaseUrl.replace(/^sqlite:/, '') : join(opts.dataDir, 'ncr.db');
    db = openSqlite(file, 'FULL');
  }
  // Capabilities built side by side reserve migration numbers and may land out of order (0009 before 0008): each
  // migration creates its own tables, so a database that has a later one may still run an earlier newcomer.
  const migrator = new Migrator({ db, provider: new CodeMigrationProvider(dialect), allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`database migration ${failed ?? ''} failed: ${(error as Error).message}`, { cause: error });
  }
  return {
    db,
    dialect,
    file,
    close: () => db.destroy(),
  };
}

/**
 * A SQLite file in WAL mode with the given durability: FULL has every commit on disk before the call that made it
 * returns (the metadata; synced off the event loop, see wal-sync.ts); NORMAL syncs at checkpoints, so a commit
 * survives the process but not always a power cut (for state a client can redo).
 */
export function openSqlite(file: string, durability: 'FULL' | 'NORMAL'): Kysely<Database> {
  mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  // FULL's fsync would run on the event loop: the WAL is synced by withWalSync instead
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const dialect = withNulGuard(new SqliteDialect({ database: withStatementCache(sqlite) }));
  return new Kysely<Database>({ dialect: durability === 'FULL' ? withWalSync(dialect, file) : dialect });
}

/**
 * Kysely's SQLite driver prepares every statement on every call; preparing costs more than running the small indexed
 * queries of the pull path. Statements are cached by their SQL text. Safe because better-sqlite3 runs each statement
 * to completion synchronously (Kysely's streaming iterate() is not used by ncr).
 */
function withStatementCache(sqlite: SQLite.Database): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = sqlite.prepare.bind(sqlite);
  return new Proxy(sqlite, {
    get(target, prop, receiver) {
      if (prop !== 'prepare') return Reflect.get(target, prop, receiver);
      return (sqlText: string) => {
        // Write transactions take the write lock at BEGIN: a check and the write it guards then see the same
        // database, even with another process on the same file (a deferred BEGIN would fail with SQLITE_BUSY there).
        if (sqlText === 'begin') sqlText = 'begin immediate';
        let stmt = cache.get(sqlText);
        if (!stmt) {
          stmt = prepare(sqlText);
          if (cache.size >= 2000) cache.delete(cache.keys().next().value!);
          cache.set(sqlText, stmt);
        }
        return stmt;
      };
    },
  });
}

export async function pingDb(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}
