/**
 * The job queue as the domain uses it: enqueue, look at, cancel jobs; put cron schedules that enqueue a job each time
 * they fire. The workers that run jobs live in src/jobs (runner.ts).
 */
import type { Clock } from '../clock.js';
import { NcrError } from '../../oci/errors.js';
import type { Page, PageRequest } from '../pagination.js';
import { nextCronTime, parseCron } from './cron.js';
import type { Job, JobSpec, JobStatus, JobStore, Schedule, ScheduleStore } from './ports.js';

export class JobQueue {
  private readonly wakers: (() => void)[] = [];

  constructor(
    private readonly jobs: JobStore,
    private readonly schedules: ScheduleStore,
    private readonly clock: Clock,
  ) {}

  /** Called after each enqueue (the runner wakes up instead of waiting for its next poll). */
  onEnqueue(fn: () => void): void {
    this.wakers.push(fn);
  }

  async enqueue(spec: JobSpec): Promise<Job> {
    const { job } = await this.jobs.enqueue(spec, this.clock.now());
    this.poke();
    return job;
  }

  /** Something was enqueued (maybe in another service's transaction): wake this node's runner. */
  poke(): void {
    for (const w of this.wakers) w();
  }

  async get(id: string): Promise<Job> {
    const job = await this.jobs.get(id);
    if (!job) throw new NcrError('NOT_FOUND', `job ${id} does not exist (finished jobs are kept for a limited time)`);
    return job;
  }

  list(q: { kind?: string; status?: JobStatus } & PageRequest): Promise<Page<Job>> {
    return this.jobs.list(q);
  }

  /** Cancels a queued job, or asks a running one to stop. */
  async cancel(id: string): Promise<Job> {
    const job = await this.jobs.cancel(id, this.clock.now());
    if (!job) throw new NcrError('NOT_FOUND', `job ${id} does not exist`);
    return job;
  }

  /** Creates or replaces a cron schedule (UTC); it next fires at the first matching minute after now. */
  async schedule(s: { name: string; cron: string; kind: string; payload?: unknown; enabled?: boolean }): Promise<Schedule> {
    const cron = parseCron(s.cron);
    const nextAt = nextCronTime(cron, this.clock.now());
    if (nextAt === undefined) throw new NcrError('VALIDATION_FAILED', `cron "${s.cron}" never fires: pick a date that exists`);
    const schedule: Schedule = { name: s.name, cron, kind: s.kind, payload: s.payload ?? null, enabled: s.enabled ?? true, nextAt, lastFiredAt: null };
    const prev = await this.schedules.get(s.name);
    if (prev && prev.cron === cron && prev.kind === s.kind && prev.enabled === schedule.enabled && JSON.stringify(prev.payload) === JSON.stringify(schedule.payload)) return prev;
    await this.schedules.put({ ...schedule, lastFiredAt: prev?.lastFiredAt ?? null });
    return schedule;
  }

  getSchedule(name: string): Promise<Schedule | undefined> {
    return this.schedules.get(name);
  }

  listSchedules(prefix?: string): Promise<Schedule[]> {
    return this.schedules.list(prefix);
  }

  unschedule(name: string): Promise<boolean> {
    return this.schedules.delete(name);
  }
}
