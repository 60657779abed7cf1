/**
 * The job queue's storage port: one table of jobs worked by every node (claimed with a lease, so a job whose node
 * died is claimed again once its lease runs out) and cron schedules that fire once across all nodes.
 * Implemented by storage/meta/kysely/jobs.repo.ts on SQLite and PostgreSQL; one contract suite runs against both.
 */
import type { Page, PageRequest } from '../pagination.js';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobSpec {
  kind: string;
  payload?: unknown;
  /** epoch ms; now when absent */
  runAt?: number;
  /** higher runs first; default 0 */
  priority?: number;
  /** while a job with this key is queued or running, enqueueing another with the key returns the existing one */
  singletonKey?: string;
  /** attempts in all (first run included); default 3 */
  maxAttempts?: number;
  /** delay before the first retry, doubled per further attempt; default 10 s */
  backoffMs?: number;
}

export interface Job {
  id: string;
  kind: string;
  payload: unknown;
  status: JobStatus;
  priority: number;
  runAt: number;
  attempts: number;
  maxAttempts: number;
  backoffMs: number;
  singletonKey: string | null;
  lockedBy: string | null;
  lockedUntil: number | null;
  cancelRequested: boolean;
  progress: unknown;
  result: unknown;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export interface JobStore {
  /**
   * Adds a job; when `singletonKey` matches a queued or running job, adds nothing and returns that job with
   * created=false.
   */
  enqueue(spec: JobSpec, now: number): Promise<{ job: Job; created: boolean }>;
  /**
   * Claims up to `limit` jobs of the given kinds that are due (queued with runAt <= now, or running with an expired
   * lease), highest priority then oldest first; each is marked running for `owner` until `lockedUntil` and its
   * attempts counted. Two owners never claim the same job.
   */
  claim(kinds: string[], owner: string, now: number, lockedUntil: number, limit: number): Promise<Job[]>;
  /** Of `kinds`, those with a job claim() would take now (a read: a poll that finds nothing writes nothing). */
  dueKinds(kinds: string[], now: number): Promise<string[]>;
  /** Extends the lease; undefined when `owner` no longer holds the job. Tells whether cancelling was asked. */
  heartbeat(id: string, owner: string, lockedUntil: number, now: number): Promise<{ cancelRequested: boolean } | undefined>;
  /** Records progress (any JSON) while running. */
  progress(id: string, owner: string, progress: unknown, now: number): Promise<void>;
  /** Marks the job succeeded, or cancelled when `cancelled`. */
  finish(id: string, owner: string, now: number, outcome: { status: 'succeeded' | 'cancelled'; result?: unknown }): Promise<void>;
  /** A failed attempt: queued again at `retryAt`, or failed for good when `retryAt` is undefined. */
  fail(id: string, owner: string, now: number, error: string, retryAt: number | undefined): Promise<void>;
  /** Cancels a queued job at once; asks a running one to stop (its handler sees the request). Undefined when unknown. */
  cancel(id: string, now: number): Promise<Job | undefined>;
  get(id: string): Promise<Job | undefined>;
  list(q: { kind?: string; status?: JobStatus } & PageRequest): Promise<Page<Job>>;
  /** Deletes finished jobs (succeeded, failed, cancelled) that ended before `before`; returns how many. */
  purgeFinished(before: number): Promise<number>;
}

export interface Schedule {
  /** unique; e.g. `cleanup:team` */
  name: string;
  /** 5-field cron, UTC (cron.ts) */
  cron: string;
  kind: string;
  payload: unknown;
  enabled: boolean;
  nextAt: number;
  lastFiredAt: number | null;
}

export interface ScheduleStore {
  /** Creates or replaces the schedule of that name. */
  put(s: Schedule): Promise<void>;
  get(name: string): Promise<Schedule | undefined>;
  list(prefix?: string): Promise<Schedule[]>;
  delete(name: string): Promise<boolean>;
  /** Enabled schedules with nextAt <= now. */
  due(now: number): Promise<Schedule[]>;
  /**
   * Compare-and-set: moves the schedule from `expectedNextAt` to `nextAt` and records the firing; true for exactly
   * one caller per firing, whichever node it runs on.
   */
  claimFiring(name: string, expectedNextAt: number, nextAt: number, now: number): Promise<boolean>;
}
