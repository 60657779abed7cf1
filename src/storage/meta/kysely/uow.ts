/**
 * The unit of work on Kysely: one database transaction per call, stores bound to it, events appended to the outbox
 * (and audited ones to the audit log) at the end of the transaction.
 *
 * Commit order = seq order: on PostgreSQL the event insert takes a transaction-scoped advisory lock, held until commit,
 * so a transaction that drew a lower seq has committed before one with a higher seq becomes visible; the dispatcher's
 * cursor can then never skip an event. On SQLite write transactions are serial (BEGIN IMMEDIATE, see connect.ts).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { DomainEvent } from '../../../domain/events.js';
import { orderingKey } from '../../../domain/events.js';
import type { Tx, UnitOfWork } from '../../../domain/uow.js';
import type { AuditEntry } from '../../../domain/audit/audit.js';
import type { Dialect } from './migrations.js';
import type { Db } from './util.js';

/** 64-bit advisory lock ids live in one space per database: ncr's keys are hashed with this prefix. */
const OUTBOX_LOCK = 'ncr:outbox';

export interface OutboxHooks {
  /** The audit entry for an event, or undefined when it is not audited. */
  auditOf(e: DomainEvent): Omit<AuditEntry, 'id'> | undefined;
  /** Called after a transaction that wrote events committed, with the events (this node's listeners, dispatcher). */
  committed(events: DomainEvent[]): void;
}

export async function advisoryLock(db: Db, dialect: Dialect, key: string): Promise<void> {
  if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(db);
}

/**
 * Takes several advisory locks at once (one statement), in sorted order so that two callers cannot deadlock on them.
 * SQLite needs none: its write transactions are serial.
 */
export async function advisoryLocks(db: Db, dialect: Dialect, keys: string[]): Promise<void> {
  if (dialect !== 'postgres' || keys.length === 0) return;
  const sorted = [...new Set(keys)].sort();
  await sql`select pg_advisory_xact_lock(hashtextextended(u.k, 0)) from unnest(${sorted}::text[]) with ordinality as u(k, i) order by u.i`.execute(db);
}

/** Appends events (and their audit entries) inside the transaction `db`; notifies listeners at commit. */
export async function appendEvents(db: Db, dialect: Dialect, events: DomainEvent[], auditOf: OutboxHooks['auditOf']): Promise<void> {
  if (events.length === 0) return;
  await advisoryLock(db, dialect, OUTBOX_LOCK);
  // in slices: a second of pulls can be thousands of events, more than one statement may bind (SQLite: 32766)
  for (let i = 0; i < events.length; i += INSERT_SLICE) {
    await db
      .insertInto('events')
      .values(events.slice(i, i + INSERT_SLICE).map((e) => ({ id: randomUUID(), type: e.type, key: orderingKey(e), at: e.at, data: JSON.stringify(e) })))
      .execute();
  }
  const audit = events.map(auditOf).filter((a): a is Omit<AuditEntry, 'id'> => a !== undefined);
  for (let i = 0; i < audit.length; i += INSERT_SLICE) {
    await db
      .insertInto('audit_log')
      .values(audit.slice(i, i + INSERT_SLICE).map((a) => ({ at: a.at, actor: a.actor, action: a.action, target: a.target, detail: a.detail, remote_addr: a.remoteAddr })))
      .execute();
  }
  if (dialect === 'postgres') await sql`select pg_notify('ncr_events', '')`.execute(db);
}

const RETRYABLE = new Set(['40001', '40P01']);
/** rows per INSERT statement (6 values each, well under every driver's bind limit) */
const INSERT_SLICE = 500;

export class KyselyUnitOfWork<S extends object> implements UnitOfWork<S> {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
    private readonly bind: (db: Db) => S,
    private readonly hooks: OutboxHooks,
  ) {}

  async transaction<T>(fn: (tx: Tx<S>) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const events: DomainEvent[] = [];
      try {
        const result = await this.db.transaction().execute(async (trx) => {
          const tx = Object.assign(this.bind(trx), {
            publish: (e: DomainEvent) => void events.push(e),
            lock: (key: string) => advisoryLock(trx, this.dialect, key),
          }) as Tx<S>;
          const r = await fn(tx);
          await appendEvents(trx, this.dialect, events, this.hooks.auditOf);
          return r;
        });
        if (events.length > 0) this.hooks.committed(events);
        return result;
      } catch (err) {
        if (attempt < 3 && RETRYABLE.has((err as { code?: string }).code ?? '')) continue;
        throw err;
      }
    }
  }
}
