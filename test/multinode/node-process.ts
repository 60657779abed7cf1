/**
 * An ncr node in a process of its own, for the multi-node tests: `fork`ed with `--import tsx` and the configuration
 * overrides and start time as JSON in argv[2]. It runs on a ManualClock that the parent moves, and does what the parent
 * asks over IPC: move the clock, register a job kind, run due jobs, read a job, close.
 *
 * A process of its own because two apps in one process cannot share a SQLite file: better-sqlite3 waits for the file's
 * write lock synchronously, so one app waiting (busy_timeout) blocks the thread of the other app that holds the lock.
 */
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { ManualClock } from '../../src/domain/clock.js';

export type NodeRequest = { id: number } & (
  | { op: 'clock'; t: number }
  | { op: 'register'; kind: string; result: unknown; concurrency?: number; sleepMs?: number }
  | { op: 'runDue' }
  | { op: 'job'; jobId: string }
  | { op: 'close' }
);

export type NodeMessage =
  | { type: 'ready'; owner: string }
  | { type: 'ran'; kind: string; jobId: string }
  | { type: 'reply'; id: number; ok: true; result?: unknown }
  | { type: 'reply'; id: number; ok: false; error: string };

const send = (m: NodeMessage) => new Promise<void>((resolve) => process.send!(m, () => resolve()));

const { overrides, now } = JSON.parse(process.argv[2]) as { overrides: object; now: number };
const clock = new ManualClock(now);
const app = await buildApp(loadConfig({ env: {}, overrides }), { clock });
// the parent went away (test ended or crashed): do not linger
process.on('disconnect', () => void app.close().finally(() => process.exit(0)));

async function handle(m: NodeRequest): Promise<unknown> {
  switch (m.op) {
    case 'clock':
      clock.set(m.t);
      return undefined;
    case 'register':
      app.jobs.runner.register({
        kind: m.kind,
        concurrency: m.concurrency,
        async run(_payload, ctx) {
          await send({ type: 'ran', kind: m.kind, jobId: ctx.job.id });
          if (m.sleepMs) await new Promise((r) => setTimeout(r, Math.floor(Math.random() * m.sleepMs!)));
          return m.result;
        },
      });
      return undefined;
    case 'runDue':
      return app.jobs.runner.runDue();
    case 'job':
      return app.jobs.queue.get(m.jobId);
    case 'close':
      await app.close();
      setImmediate(() => process.exit(0));
      return undefined;
  }
}

process.on('message', (m: NodeRequest) => {
  handle(m).then(
    (result) => send({ type: 'reply', id: m.id, ok: true, result }),
    (err: Error) => send({ type: 'reply', id: m.id, ok: false, error: err.stack ?? String(err) }),
  );
});
await send({ type: 'ready', owner: app.jobs.runner.owner });
