/**
 * Storage port of the durable outbox. Events are appended by the unit of work (uow.ts) in the transaction of their
 * change; this port is what the dispatcher reads and records delivery progress with.
 */
import type { StoredEvent } from '../events.js';

/** An event a subscriber failed to handle, waiting for its next attempt. */
export interface ParkedEvent {
  seq: number;
  /** the ordering key (events.ts orderingKey) */
  key: string;
  attempts: number;
  nextAt: number;
  lastError: string | null;
  /** gave up after the last allowed attempt; kept for inspection, no longer blocks its key */
  dead: boolean;
}

export interface OutboxStore {
  /**
   * Events with seq > `after`, in seq order, at most `limit`; only of `types` and only up to seq `upTo` when given
   * (so a reader can skip what it does not want without reading it).
   */
  after(after: number, limit: number, filter?: { types?: readonly string[]; upTo?: number }): Promise<StoredEvent[]>;
  /** Events by seq (for parked retries); missing ones are left out. */
  bySeq(seqs: number[]): Promise<StoredEvent[]>;
  /** The highest seq stored (0 when none). */
  latestSeq(): Promise<number>;
  /** Registers a durable subscriber at `cursor` if it is not registered yet; an existing cursor is kept. */
  ensureSubscriber(name: string, cursor: number): Promise<void>;
  /**
   * Takes (or renews) the subscriber's lease for `owner` until `until`, when it is free, expired or already
   * `owner`'s; resolves with the subscriber's cursor, or undefined when another owner holds a live lease.
   */
  lease(name: string, owner: string, now: number, until: number): Promise<number | undefined>;
  /** Moves the cursor forward (never back) if `owner` still holds the lease; false when the lease was lost. */
  advance(name: string, owner: string, cursor: number): Promise<boolean>;
  /** Gives the lease up. */
  release(name: string, owner: string): Promise<void>;
  /** Parked events of the subscriber that are not dead, by key then seq. */
  parked(name: string): Promise<ParkedEvent[]>;
  /** Parks an event (idempotent per subscriber and seq). */
  park(name: string, p: ParkedEvent): Promise<void>;
  /** Records another failed attempt (or gives up: dead). */
  reschedule(name: string, seq: number, attempts: number, nextAt: number, error: string, dead: boolean): Promise<void>;
  /** A parked event was handled: forget it. */
  unpark(name: string, seq: number): Promise<void>;
  /** Deletes events older than `before` that every subscriber's cursor has passed; returns how many. */
  purge(before: number): Promise<number>;
  /**
   * Calls `wake` when another process may have appended events (PostgreSQL: LISTEN/NOTIFY); returns a function
   * that stops watching. A driver without notifications never calls it (the dispatcher also polls).
   */
  watch(wake: () => void): Promise<() => Promise<void>>;
}
