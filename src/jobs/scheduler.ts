/** Runs periodic jobs in-process: each on its own interval, never overlapping itself, errors logged, stopped on close. */
export interface Job {
  name: string;
  everyMs: number;
  run(): Promise<unknown>;
}

export class Scheduler {
  private timers: NodeJS.Timeout[] = [];
  private running = new Set<string>();

  constructor(private readonly log: { info(o: object, m: string): void; error(o: object, m: string): void }) {}

  start(jobs: Job[]): void {
    for (const job of jobs) {
      const t = setInterval(() => void this.runOnce(job), job.everyMs);
      t.unref();
      this.timers.push(t);
    }
  }

  async runOnce(job: Job): Promise<void> {
    if (this.running.has(job.name)) return;
    this.running.add(job.name);
    try {
      const result = await job.run();
      if (result) this.log.info({ job: job.name, result }, 'job finished');
    } catch (err) {
      this.log.error({ err, job: job.name }, 'job failed');
    } finally {
      this.running.delete(job.name);
    }
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }
}
