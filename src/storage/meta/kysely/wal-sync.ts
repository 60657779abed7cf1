/**
 * Durable SQLite commits without an fsync on the event loop.
 *
 * better-sqlite3 is synchronous: with `synchronous=FULL` every commit fsyncs the WAL on the event loop, and while the
 * disk is busy (a push writing layers, object storage on the same disk) that stalls every request and stream of the
 * node for milliseconds per commit. Instead the database runs at `synchronous=NORMAL` (a commit is written to the WAL
 * without a sync; SQLite stays consistent after a power cut, it may only lose the last commits) and this wrapper
 * fsyncs the WAL file on libuv's thread pool after a commit, before the writer's call returns. So no caller learns of
 * a commit before it is on disk: the same durability as FULL. The connection is released first, so other queries run
 * during the sync, and commits that land while one sync runs share the next.
 *
 * Why one fsync of the WAL suffices: a commit is a run of WAL frames ending in a commit frame; once the file's
 * contents reach the disk, recovery finds that frame with valid checksums. Frames are only overwritten after a
 * checkpoint has copied them into the database file and synced it, which SQLite does at NORMAL too.
 *
 * What changes: another request may read a commit in the few milliseconds before its sync ends (as it may between a
 * PostgreSQL commit and its reply). If the power fails then, that commit is lost, and its writer never got an answer.
 */
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DatabaseConnection, Dialect, QueryResult } from 'kysely';
import { withDriver } from './dialect-wrap.js';

const TRACKED = Symbol('ncr.walSync');

interface Tracked {
  inTx: boolean;
  txWrote: boolean;
  /** the write generation the caller must see synced before the connection's release returns (0: none) */
  pending: number;
}

/** Syncs a WAL file; concurrent callers share one fsync where they can. */
export class WalSync {
  private written = 0;
  private synced = 0;
  private inflight?: Promise<void>;
  private dirSynced = false;

  constructor(private readonly dbFile: string) {}

  /** Marks a commit: returns the generation a later sync() must cover. */
  wrote(): number {
    return ++this.written;
  }

  /** Resolves once every commit up to generation `upTo` is on disk; rejects if the fsync fails. */
  async sync(upTo: number): Promise<void> {
    while (this.synced < upTo) {
      this.inflight ??= this.flush().finally(() => {
        this.inflight = undefined;
      });
      await this.inflight;
    }
  }

  private async flush(): Promise<void> {
    // every commit counted so far has finished its write() calls: better-sqlite3 returns only after them
    const covers = this.written;
    // opened per sync: the WAL is the same file while a connection is open, but a fresh handle can never point at
    // one SQLite has replaced
    const wal = await open(`${this.dbFile}-wal`, 'r');
    try {
      await wal.sync();
    } finally {
      await wal.close();
    }
    if (!this.dirSynced) {
      // the WAL's directory entry, as SQLite syncs it when it creates a WAL at FULL
      const dir = await open(dirname(this.dbFile), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      this.dirSynced = true;
    }
    this.synced = Math.max(this.synced, covers);
  }
}

function track(c: DatabaseConnection, sync: WalSync): DatabaseConnection & { [TRACKED]: Tracked } {
  const marked = c as DatabaseConnection & { [TRACKED]?: Tracked };
  if (marked[TRACKED]) return marked as DatabaseConnection & { [TRACKED]: Tracked };
  const state: Tracked = { inTx: false, txWrote: false, pending: 0 };
  const executeQuery = c.executeQuery.bind(c);
  c.executeQuery = async <R>(q: Parameters<DatabaseConnection['executeQuery']>[0]): Promise<QueryResult<R>> => {
    const result = await executeQuery<R>(q);
    // Kysely's SQLite driver sends these exact texts for transactions
    if (q.sql === 'begin') {
      state.inTx = true;
      state.txWrote = false;
    } else if (q.sql === 'commit') {
      state.inTx = false;
      if (state.txWrote) state.pending = sync.wrote();
    } else if (q.sql === 'rollback') {
      state.inTx = false;
    } else if (result.numAffectedRows !== undefined) {
      // a statement that is not a reader: a write (or DDL), committed now unless a transaction is open
      if (state.inTx) state.txWrote = true;
      else state.pending = sync.wrote();
    }
    return result;
  };
  marked[TRACKED] = state;
  return marked as DatabaseConnection & { [TRACKED]: Tracked };
}

/**
 * The SQLite dialect of `dbFile` (opened at synchronous=NORMAL in WAL mode), with each commit synced to disk off the
 * event loop before the call that made it returns.
 */
export function withWalSync(dialect: Dialect, dbFile: string, sync = new WalSync(dbFile)): Dialect {
  return withDriver(dialect, (driver) => {
    const acquire = driver.acquireConnection.bind(driver);
    const release = driver.releaseConnection.bind(driver);
    driver.acquireConnection = async () => track(await acquire(), sync);
    driver.releaseConnection = async (c) => {
      const state = (c as DatabaseConnection & { [TRACKED]?: Tracked })[TRACKED];
      const pending = state?.pending ?? 0;
      if (state) state.pending = 0;
      await release(c);
      if (pending) await sync.sync(pending);
    };
  });
}
