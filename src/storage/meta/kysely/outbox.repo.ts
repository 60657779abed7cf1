/** The outbox tables: events (appended by uow.ts), subscribers' cursors and leases, parked (retried) events. */
import pg from 'pg';
import type { DomainEvent, StoredEvent } from '../../../domain/events.js';
import type { OutboxStore, ParkedEvent } from '../../../domain/outbox/ports.js';
import type { Dialect } from './migrations.js';
import type { Db } from './util.js';

const toStored = (r: { seq: number; id: string; data: string }): StoredEvent => ({ seq: Number(r.seq), id: r.id, event: JSON.parse(r.data) as DomainEvent });

export class KyselyOutboxStore implements OutboxStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
    /** PostgreSQL connection string, for the LISTEN connection */
    private readonly pgUrl?: string,
  ) {}

  async after(after: number, limit: number, filter: { types?: readonly string[]; upTo?: number } = {}) {
    let q = this.db.selectFrom('events').select(['seq', 'id', 'data']).where('seq', '>', after);
    if (filter.upTo !== undefined) q = q.where('seq', '<=', filter.upTo);
    if (filter.types) {
      if (filter.types.length === 0) return [];
      q = q.where('type', 'in', [...filter.types]);
    }
    const rows = await q.orderBy('seq').limit(limit).execute();
    return rows.map(toStored);
  }

  async bySeq(seqs: number[]) {
    if (seqs.length === 0) return [];
    const rows = await this.db.selectFrom('events').select(['seq', 'id', 'data']).where('seq', 'in', seqs).orderBy('seq').execute();
    return rows.map(toStored);
  }

  async latestSeq() {
    const r = await this.db.selectFrom('events').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirst();
    return Number(r?.m ?? 0);
  }

  async ensureSubscriber(name: string, cursor: number) {
    await this.db
      .insertInto('event_subscribers')
      .values({ name, cursor, lease_owner: null, lease_until: 0 })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
  }

  async lease(name: string, owner: string, now: number, until: number) {
    const r = await this.db
      .updateTable('event_subscribers')
      .set({ lease_owner: owner, lease_until: until })
      .where('name', '=', name)
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', owner), eb('lease_until', '<', now)]))
      .returning('cursor')
      .executeTakeFirst();
    return r ? Number(r.cursor) : undefined;
  }

  async advance(name: string, owner: string, cursor: number) {
    const r = await this.db
      .updateTable('event_subscribers')
      .set({ cursor })
      .where('name', '=', name)
      .where('lease_owner', '=', owner)
      .where('cursor', '<', cursor)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async release(name: string, owner: string) {
    await this.db.updateTable('event_subscribers').set({ lease_owner: null, lease_until: 0 }).where('name', '=', name).where('lease_owner', '=', owner).execute();
  }

  async parked(name: string): Promise<ParkedEvent[]> {
    const rows = await this.db.selectFrom('event_parked').selectAll().where('subscriber', '=', name).where('dead', '=', 0).orderBy('key').orderBy('seq').execute();
    return rows.map((r) => ({ seq: Number(r.seq), key: r.key, attempts: Number(r.attempts), nextAt: Number(r.next_at), lastError: r.last_error, dead: Boolean(r.dead) }));
  }

  async park(name: string, p: ParkedEvent) {
    await this.db
      .insertInto('event_parked')
      .values({ subscriber: name, seq: p.seq, key: p.key, attempts: p.attempts, next_at: p.nextAt, last_error: p.lastError, dead: p.dead ? 1 : 0 })
      .onConflict((oc) => oc.columns(['subscriber', 'seq']).doNothing())
      .execute();
  }

  async reschedule(name: string, seq: number, attempts: number, nextAt: number, error: string, dead: boolean) {
    await this.db
      .updateTable('event_parked')
      .set({ attempts, next_at: nextAt, last_error: error, dead: dead ? 1 : 0 })
      .where('subscriber', '=', name)
      .where('seq', '=', seq)
      .execute();
  }

  async unpark(name: string, seq: number) {
    await this.db.deleteFrom('event_parked').where('subscriber', '=', name).where('seq', '=', seq).execute();
  }

  async purge(before: number) {
    const min = await this.db.selectFrom('event_subscribers').select((eb) => eb.fn.min('cursor').as('m')).executeTakeFirst();
    const parked = await this.db.selectFrom('event_parked').select((eb) => eb.fn.min('seq').as('m')).where('dead', '=', 0).executeTakeFirst();
    let upTo = min?.m == null ? Number.MAX_SAFE_INTEGER : Number(min.m);
    if (parked?.m != null) upTo = Math.min(upTo, Number(parked.m) - 1);
    const r = await this.db.deleteFrom('events').where('at', '<', before).where('seq', '<=', upTo).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async watch(wake: () => void): Promise<() => Promise<void>> {
    if (this.dialect !== 'postgres' || !this.pgUrl) return async () => undefined;
    let client: pg.Client | undefined;
    let closed = false;
    let retryMs = 500;
    const connect = async (): Promise<void> => {
      if (closed) return;
      const c = new pg.Client({ connectionString: this.pgUrl });
      c.on('notification', () => wake());
      c.on('error', () => {
        // the connection dropped: polling covers the gap; reconnect (and catch up at once) with backoff
        if (client === c) client = undefined;
        void c.end().catch(() => undefined);
        reconnect();
      });
      await c.connect();
      await c.query('LISTEN ncr_events');
      if (closed) return void (await c.end().catch(() => undefined));
      client = c;
      retryMs = 500;
      wake();
    };
    let scheduled = false;
    const reconnect = () => {
      if (closed || scheduled) return;
      scheduled = true;
      const t = setTimeout(() => {
        scheduled = false;
        void connect().catch(() => reconnect());
      }, retryMs);
      t.unref();
      retryMs = Math.min(retryMs * 2, 30_000);
    };
    await connect();
    return async () => {
      closed = true;
      await client?.end().catch(() => undefined);
    };
  }
}
