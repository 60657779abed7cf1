/**
 * Group commit: writes submitted within one event-loop turn run in one transaction, so a burst of N finished
 * uploads pays one commit (with SQLite, one fsync of the WAL on the event loop) instead of N. Durability is the same
 * as one transaction each: no caller's promise settles before the transaction holding its write has committed.
 * If a batch fails, its items are retried one by one, so one bad item fails only its own caller.
 */
import type { Transaction } from 'kysely';
import type { Database } from './schema.js';
import type { Db } from './util.js';

interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class GroupCommit<T> {
  private queue: Pending<T>[] = [];

  constructor(
    private readonly db: Db,
    private readonly write: (tx: Transaction<Database>, items: T[]) => Promise<void>,
  ) {}

  submit(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      // setImmediate runs after this turn's I/O callbacks: every upload that finished in the same turn joins the batch
      if (this.queue.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    try {
      await this.run(batch.map((p) => p.item));
      for (const p of batch) p.resolve();
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      for (const p of batch) {
        try {
          await this.run([p.item]);
          p.resolve();
        } catch (e) {
          p.reject(e);
        }
      }
    }
  }

  private run(items: T[]): Promise<void> {
    return this.db.transaction().execute((tx) => this.write(tx, items));
  }
}
