/**
 * Delivers outbox events. Two kinds of consumers:
 * - durable subscribers (`subscribe`): named, one cursor each in the database, served by one node at a time (a
 *   lease), at least once, in sequence order per ordering key. A handler that throws parks the event and retries it
 *   with exponential backoff; later events of the same key wait behind it, other keys and other subscribers go on.
 * - listeners (`on`): in-memory, on every node, from the moment the node started (cache invalidation): at once for
 *   this node's own commits, and from the table for everyone's. Best effort: a failure is logged, never retried.
 * Wake-ups come from this process's commits (`wake`), from other processes (the store's `watch`, PostgreSQL
 * LISTEN/NOTIFY) and from polling every `pollIntervalMs`.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { orderingKey, type DomainEvent, type DomainEventType, type StoredEvent } from '../events.js';
import type { OutboxStore } from './ports.js';

/** Commits within this many ms are delivered in one pass. */
const WAKE_DELAY_MS = 10;

export type EventHandler = (e: StoredEvent) => Promise<void> | void;

export interface SubscriberOptions {
  /** only these event types (all when absent) */
  types?: DomainEventType[];
  /** attempts before an event is given up (parked as dead); default 10 */
  maxAttempts?: number;
  /** first retry delay; doubles per attempt up to maxBackoffMs; default 1 s */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** where a subscriber that has never run starts: at the next event (default) or at the first stored one */
  from?: 'latest' | 'beginning';
}

export interface DispatcherOptions {
  pollIntervalMs: number;
  /** how long a node holds a subscriber before another may take it over */
  leaseMs: number;
  batchSize: number;
}

interface Sub {
  name: string;
  handler: EventHandler;
  types: Set<string> | null;
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
  from: 'latest' | 'beginning';
}

/** Registration of in-memory listeners (every node); what services that keep caches depend on. */
export interface EventListeners {
  on(fn: EventHandler, types?: DomainEventType[]): void;
}

/** A cursor moved only past events of other types is stored once it is this far ahead, or this old. */
const LAZY_CURSOR_EVENTS = 10_000;
const LAZY_CURSOR_MS = 60_000;

export class OutboxDispatcher implements EventListeners {
  private readonly subs = new Map<string, Sub>();
  private readonly listeners: { types: Set<string> | null; fn: EventHandler }[] = [];
  private readonly owner = randomUUID();
  private localCursor = 0;
  private started = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** when the pending timer fires (real time: it paces I/O, it is not domain time) */
  private dueAt = 0;
  private unwatch: (() => Promise<void>) | undefined;
  /** registrations of subscribers added after start, awaited before the next delivery */
  private ensuring: Promise<void>[] = [];
  /**
   * What this node knows of the subscribers it holds, so an idle pass writes nothing: the lease's end, the cursor
   * (which may be ahead of the stored one past events of other types: moving it costs a commit, and reading those
   * again after a crash costs nothing), the stored cursor, and when the earliest parked event is due.
   */
  private readonly held = new Map<string, { until: number; leasedAt: number; cursor: number; stored: number; storedAt: number; parkedDueAt: number }>();

  constructor(
    private readonly store: OutboxStore,
    private readonly clock: Clock,
    private readonly opts: DispatcherOptions,
    private readonly onError: (err: unknown, ctx: { subscriber?: string; seq?: number }) => void,
  ) {}

  /** Registers a durable subscriber. Names are stable across releases: the cursor is stored under the name. */
  subscribe(name: string, handler: EventHandler, o: SubscriberOptions = {}): void {
    if (this.subs.has(name)) throw new Error(`outbox subscriber ${name} is registered twice`);
    this.subs.set(name, {
      name,
      handler,
      types: o.types ? new Set(o.types) : null,
      maxAttempts: o.maxAttempts ?? 10,
      backoffMs: o.backoffMs ?? 1000,
      maxBackoffMs: o.maxBackoffMs ?? 300_000,
      from: o.from ?? 'latest',
    });
    if (this.started) this.ensuring.push(this.store.latestSeq().then((seq) => this.store.ensureSubscriber(name, o.from === 'beginning' ? 0 : seq)));
  }

  /** Registers an in-memory listener on this node (every node has its own). */
  on(fn: EventHandler, types?: DomainEventType[]): void {
    this.listeners.push({ types: types ? new Set(types) : null, fn });
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const latest = await this.store.latestSeq();
    this.localCursor = latest;
    for (const s of this.subs.values()) await this.store.ensureSubscriber(s.name, s.from === 'beginning' ? 0 : latest);
    this.unwatch = await this.store.watch(() => this.wake());
    this.schedule(0);
  }

  /**
   * This node committed these events: its listeners hear them at once (so a cache is never stale on the node that
   * made the change), and delivery runs soon. Listeners hear them again from the table; they must be idempotent.
   */
  committed(events: DomainEvent[]): void {
    for (const event of events) void this.hear({ seq: 0, id: '', event });
    this.wake();
  }

  /**
   * Something was committed: deliver soon. Wake-ups within `WAKE_DELAY_MS` share one pass, so a burst of commits
   * costs one read of the outbox, not one per commit.
   */
  wake(): void {
    if (!this.started || this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer && this.dueAt <= Date.now() + WAKE_DELAY_MS) return;
    this.schedule(WAKE_DELAY_MS);
  }

  /** Delivers everything deliverable now (due retries included) and resolves when nothing is left; for tests and close. */
  async drain(): Promise<void> {
    for (;;) {
      if (this.running) {
        await this.running;
        continue;
      }
      this.running = this.untilIdle();
      try {
        await this.running;
      } finally {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.schedule(WAKE_DELAY_MS);
        }
      }
      return;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    await this.unwatch?.().catch(() => undefined);
    for (const s of this.subs.values()) {
      const h = this.held.get(s.name);
      if (h && h.cursor > h.stored && h.until > this.clock.now()) await this.store.advance(s.name, this.owner, h.cursor).catch(() => undefined);
      await this.store.release(s.name, this.owner).catch(() => undefined);
    }
    this.held.clear();
  }

  private schedule(delay: number) {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.dueAt = Date.now() + delay;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.loop();
    }, delay);
    this.timer.unref();
  }

  private async loop() {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.untilIdle().catch((err) => this.onError(err, {}));
    await this.running;
    this.running = undefined;
    if (this.again) {
      this.again = false;
      this.schedule(0);
    } else {
      this.schedule(this.opts.pollIntervalMs);
    }
  }

  private async untilIdle(): Promise<void> {
    if (this.ensuring.length > 0) {
      const pending = this.ensuring;
      this.ensuring = [];
      await Promise.all(pending);
    }
    for (let round = 0; round < 1000; round++) {
      let progressed = await this.deliverToListeners();
      for (const s of this.subs.values()) {
        try {
          if (await this.deliverTo(s)) progressed = true;
        } catch (err) {
          this.onError(err, { subscriber: s.name });
        }
      }
      if (!progressed || this.stopped) return;
    }
  }

  /**
   * The next events of `types` (all when null) after `cursor`, and where the cursor may move once they are handled:
   * past every event of other types up to the newest stored, so nobody reads (or parses) what they do not want,
   * such as the thousands of pull events a busy second writes.
   */
  private async read(cursor: number, types: Set<string> | null): Promise<{ events: StoredEvent[]; next: number; more: boolean }> {
    const upTo = await this.store.latestSeq();
    if (upTo <= cursor) return { events: [], next: cursor, more: false };
    const events = await this.store.after(cursor, this.opts.batchSize, { types: types ? [...types] : undefined, upTo });
    const more = events.length === this.opts.batchSize;
    return { events, next: more ? events[events.length - 1].seq : upTo, more };
  }

  /** Gives the event to every listener of its type; a listener's failure is reported, never retried. */
  private async hear(e: StoredEvent): Promise<void> {
    for (const l of this.listeners) {
      if (l.types && !l.types.has(e.event.type)) continue;
      try {
        await l.fn(e);
      } catch (err) {
        this.onError(err, { seq: e.seq || undefined });
      }
    }
  }

  private listenerTypes(): Set<string> | null {
    const all = new Set<string>();
    for (const l of this.listeners) {
      if (!l.types) return null;
      for (const t of l.types) all.add(t);
    }
    return all;
  }

  private async deliverToListeners(): Promise<boolean> {
    const { events, next, more } = await this.read(this.localCursor, this.listeners.length === 0 ? new Set() : this.listenerTypes());
    for (const e of events) {
      await this.hear(e);
      this.localCursor = e.seq;
    }
    this.localCursor = Math.max(this.localCursor, next);
    return more;
  }

  /** One pass for one subscriber: due retries, then new events. True when it made progress and more may be waiting. */
  private async deliverTo(s: Sub): Promise<boolean> {
    const now = this.clock.now();
    let h = this.held.get(s.name);
    // held, nothing committed since, no retry due: nothing to do, and nothing written
    if (h && h.until - now > this.opts.leaseMs / 2 && h.parkedDueAt > now && (await this.store.latestSeq()) <= h.cursor) {
      // a cursor kept in memory is stored once it is old, even when nothing else happens (the purge waits for it)
      if (h.cursor > h.stored && now - h.storedAt >= LAZY_CURSOR_MS && (await this.store.advance(s.name, this.owner, h.cursor))) {
        h.stored = h.cursor;
        h.storedAt = now;
      }
      return false;
    }
    if (!h || h.until - now <= this.opts.leaseMs / 2) {
      const stored = await this.store.lease(s.name, this.owner, now, now + this.opts.leaseMs);
      if (stored === undefined) {
        this.held.delete(s.name);
        return false;
      }
      // a lease held all along: this node's cursor is the truth; else (new, or lapsed meanwhile) the stored one is
      const continuous = h !== undefined && h.until > now;
      h = { until: now + this.opts.leaseMs, leasedAt: now, cursor: continuous ? Math.max(h!.cursor, stored) : stored, stored, storedAt: continuous ? h!.storedAt : now, parkedDueAt: continuous ? h!.parkedDueAt : 0 };
      this.held.set(s.name, h);
    }
    const held = h;
    const cursor = held.cursor;
    // a slow handler must not let the lease lapse under it (another node would deliver the same events meanwhile)
    const keepLease = async (): Promise<boolean> => {
      const t = this.clock.now();
      if (t - held.leasedAt < this.opts.leaseMs / 2) return true;
      held.leasedAt = t;
      held.until = t + this.opts.leaseMs;
      return (await this.store.lease(s.name, this.owner, t, t + this.opts.leaseMs)) !== undefined;
    };
    let progressed = false;
    const blocked = new Set<string>();
    // parked events (retries) are read unless this node knows there are none: their keys block later events
    let parkedDueAt = Number.POSITIVE_INFINITY;
    const parked = held.parkedDueAt === Number.POSITIVE_INFINITY ? [] : await this.store.parked(s.name);
    for (const p of parked) {
      if (blocked.has(p.key)) {
        // waits behind an earlier event of its key: due once that one is through
        parkedDueAt = Math.min(parkedDueAt, p.nextAt);
        continue;
      }
      blocked.add(p.key);
      if (p.nextAt > now) {
        parkedDueAt = Math.min(parkedDueAt, p.nextAt);
        continue;
      }
      const [e] = await this.store.bySeq([p.seq]);
      if (!e) {
        await this.store.unpark(s.name, p.seq);
        continue;
      }
      try {
        await s.handler(e);
        await this.store.unpark(s.name, p.seq);
        progressed = true;
      } catch (err) {
        const attempts = p.attempts + 1;
        const dead = attempts >= s.maxAttempts;
        await this.store.reschedule(s.name, p.seq, attempts, now + this.backoff(s, attempts), messageOf(err), dead);
        if (!dead) parkedDueAt = Math.min(parkedDueAt, now + this.backoff(s, attempts));
        this.onError(err, { subscriber: s.name, seq: p.seq });
      }
    }
    held.parkedDueAt = parkedDueAt;
    const { events, next, more } = await this.read(cursor, s.types);
    let handled = 0;
    for (const e of events) {
      if (!(await keepLease())) break;
      handled++;
      const key = orderingKey(e.event);
      if (blocked.has(key)) {
        await this.store.park(s.name, { seq: e.seq, key, attempts: 0, nextAt: now, lastError: null, dead: false });
        held.parkedDueAt = Math.min(held.parkedDueAt, now);
        continue;
      }
      try {
        await s.handler(e);
      } catch (err) {
        blocked.add(key);
        await this.store.park(s.name, { seq: e.seq, key, attempts: 1, nextAt: now + this.backoff(s, 1), lastError: messageOf(err), dead: s.maxAttempts <= 1 });
        if (s.maxAttempts > 1) held.parkedDueAt = Math.min(held.parkedDueAt, now + this.backoff(s, 1));
        this.onError(err, { subscriber: s.name, seq: e.seq });
      }
    }
    const to = handled === events.length ? next : events[handled - 1]?.seq ?? cursor;
    if (to > cursor) {
      held.cursor = to;
      // moving past events of other types only is kept in memory, and stored now and then (the outbox purge waits
      // for every stored cursor); events handled are stored at once
      const lazy = handled === 0 && to - held.stored < LAZY_CURSOR_EVENTS && now - held.storedAt < LAZY_CURSOR_MS;
      if (!lazy) {
        if (!(await this.store.advance(s.name, this.owner, to))) {
          this.held.delete(s.name);
          return false;
        }
        held.stored = to;
        held.storedAt = now;
      }
      progressed = more || handled > 0 || progressed;
    }
    return progressed;
  }

  private backoff(s: Sub, attempts: number): number {
    return Math.min(s.maxBackoffMs, s.backoffMs * 2 ** (attempts - 1));
  }
}

function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 1000);
}
