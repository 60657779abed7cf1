/**
 * `ncr serve --workers N`: the primary process only forks workers (node:cluster), restarts one that dies and passes
 * SIGINT/SIGTERM on; each worker is a whole ncr (buildApp, listen) and they share the listening socket. Nothing that
 * matters lives in a process (tokens, sessions, jobs, schedules are in the database; SQLite in WAL mode is shared
 * across processes), so any worker can answer any request.
 *
 * The first worker starts alone: it runs the migrations, creates the first admin (and prints its credentials, once)
 * and the token signing key; the others start when it listens, and find all of that done.
 */
import cluster, { type Worker } from 'node:cluster';

/** What a worker tells the primary once it listens. */
export interface ListeningMessage {
  type: 'ncr:listening';
  url: string;
}

const isListening = (m: unknown): m is ListeningMessage => typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'ncr:listening';

/** In a worker: tells the primary that this worker listens at `url` (no-op outside cluster mode). */
export function reportListening(url: string): void {
  if (cluster.isWorker && process.send) process.send({ type: 'ncr:listening', url } satisfies ListeningMessage);
}

/** A worker that dies this many times within RESTART_WINDOW_MS makes the primary give up (a crash loop). */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
/** a worker that has not ended this long after SIGTERM is killed */
const STOP_GRACE_MS = 35_000;

/**
 * Runs the primary: forks `n` workers (the first alone until it listens), calls `onListening` once all listen, then
 * restarts workers that exit until SIGINT or SIGTERM, which it passes to every worker before exiting when they have.
 */
export function runPrimary(n: number, onListening: (url: string) => void, log: (msg: string) => void = (m) => process.stderr.write(`ncr: ${m}\n`)): void {
  let stopping = false;
  let exitCode = 0;
  let ready = false;
  const restarts: number[] = [];
  const alive = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());

  const fork = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const w: Worker = cluster.fork();
      const onMessage = (m: unknown) => {
        if (!isListening(m)) return;
        w.off('message', onMessage);
        w.off('exit', onEarlyExit);
        resolve(m.url);
      };
      const onEarlyExit = (code: number | null, signal: string | null) => reject(new Error(`worker ${w.id} (pid ${w.process.pid}) exited before listening (${signal ?? `code ${code}`})`));
      w.on('message', onMessage);
      w.once('exit', onEarlyExit);
    });

  const stop = (signal: NodeJS.Signals, code = 0) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    const workers = alive();
    if (workers.length === 0) process.exit(code);
    for (const w of workers) w.process.kill(signal);
    setTimeout(() => {
      for (const w of alive()) w.process.kill('SIGKILL');
      process.exit(code || 1);
    }, STOP_GRACE_MS).unref();
  };

  cluster.on('exit', (w, code, signal) => {
    if (stopping) {
      if (alive().length === 0) process.exit(exitCode);
      return;
    }
    if (!ready) return; // the start-up below reports it
    log(`worker ${w.id} (pid ${w.process.pid}) exited (${signal ?? `code ${code}`}); starting another`);
    const now = Date.now();
    restarts.push(now);
    while (restarts.length > 0 && restarts[0] < now - RESTART_WINDOW_MS) restarts.shift();
    if (restarts.length > MAX_RESTARTS) {
      log(`${restarts.length} workers exited within ${RESTART_WINDOW_MS / 1000} s: giving up`);
      stop('SIGTERM', 1);
      return;
    }
    setTimeout(() => {
      if (!stopping) fork().catch((err: Error) => log(err.message));
    }, 1_000);
  });
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  void (async () => {
    try {
      const url = await fork();
      await Promise.all(Array.from({ length: n - 1 }, () => fork()));
      ready = true;
      onListening(url);
    } catch (err) {
      if (stopping) return; // a signal during start-up: the workers were told to stop
      log(`${(err as Error).message}; stopping`);
      stop('SIGTERM', 1);
    }
  })();
}
