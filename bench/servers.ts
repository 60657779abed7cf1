/**
 * Starts and stops the two registries as child processes on free loopback ports, each on a fresh directory:
 * the peer (Debian's docker-registry: CNCF distribution, filesystem storage, no auth) and ncr (`node bin/ncr.js
 * serve`, login required, known admin keys, the `bench` registry created). Every server started is stopped by
 * stopAll(), which main.ts also calls on a signal or a crash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchConfig } from './config.js';
import { RegistryClient, type Creds } from './client.js';

export type Kind = 'peer' | 'ncr';

export interface Server {
  kind: Kind;
  url: string;
  pid: number;
  dataDir: string;
  /** Basic credentials for the token endpoint (ncr); undefined for the peer, which has no auth */
  creds?: Creds;
  client(): RegistryClient;
  stop(): Promise<void>;
}

export const ADMIN: Creds & { password: string } = {
  user: 'BENCHADMIN0001',
  pass: 'bench-secret-key-0123456789abcdef',
  password: 'bench-admin-password',
};

/** The registry (first path component) every benchmark repository lives in. */
export const REGISTRY = 'bench';

const running = new Set<ChildProcess>();

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function track(child: ChildProcess, logFile: string): void {
  running.add(child);
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  child.once('exit', () => running.delete(child));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
export async function stopChild(child: ChildProcess, graceMs = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => stopChild(c, 5_000)));
}

async function waitReady(url: string, child: ChildProcess, what: string, logFile: string, ok = [200, 401]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (let i = 0; i < 600 && Date.now() < deadline; i++) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (ok.includes(res.status)) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  const log = await readFile(logFile, 'utf8').catch(() => '');
  throw new Error(`${what} did not start (exit code ${child.exitCode}); its log:\n${log.slice(-2000)}`);
}

/** distribution with filesystem storage in `dir`, no auth, on a free loopback port. */
export async function startPeer(cfg: BenchConfig, dir: string): Promise<Server> {
  await mkdir(join(dir, 'storage'), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const config = [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'storage')}`,
      '  delete:',
      '    enabled: true',
      // the packaged default configuration's cache, kept: this is how distribution is normally run
      '  cache:',
      '    blobdescriptor: inmemory',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '  secret: ncr-bench-not-a-secret',
      '',
    ].join('\n');
    const configFile = join(dir, 'config.yml');
    await writeFile(configFile, config);
    const logFile = join(dir, 'peer.log');
    const child = spawn(cfg.peerBin, ['serve', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child, logFile);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(url, child, 'docker-registry', logFile, [200]);
    } catch (err) {
      await stopChild(child, 2_000);
      if (attempt === 2) throw err;
      continue;
    }
    return server('peer', url, child, dir, undefined, cfg.root);
  }
  throw new Error('unreachable');
}

/**
 * ncr on a free loopback port with login required and known admin keys. `dataDir` is reused when it already holds
 * a database (a restart for profiling); `nodeArgs` go before bin/ncr.js (e.g. --cpu-prof); `env` adds NCR_* settings;
 * `workers` > 1 starts it as `serve --workers N` (default BENCH_NCR_WORKERS).
 */
export async function startNcr(cfg: BenchConfig, dataDir: string, opts: { nodeArgs?: string[]; createRegistry?: boolean; env?: Record<string, string>; workers?: number } = {}): Promise<Server> {
  await mkdir(dataDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {};
  // the developer's own NCR_* settings (a database URL, a log level) must not leak into the measurement
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('NCR_')) env[k] = v;
  env.NCR_AUTH_ADMIN_ACCESS_KEY = ADMIN.user;
  env.NCR_AUTH_ADMIN_SECRET_KEY = ADMIN.pass;
  env.NCR_AUTH_ADMIN_PASSWORD = ADMIN.password;
  // BENCH_NCR_DIR may be a build from before the grouped configuration, which knows only the flat names; a newer
  // build takes the grouped ones and notes the flat ones as ignored (in the server log).
  env.NCR_ADMIN_ACCESS_KEY = ADMIN.user;
  env.NCR_ADMIN_SECRET_KEY = ADMIN.pass;
  env.NCR_ADMIN_PASSWORD = ADMIN.password;
  // the scenario's own settings (the S3 scenarios' storage)
  Object.assign(env, opts.env);
  const logFile = join(dataDir, '..', `${dataDir.split('/').pop()}.log`);
  const workers = opts.workers ?? cfg.ncrWorkers;
  const args = [...(process.env.BENCH_NCR_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...(opts.nodeArgs ?? []), join(cfg.ncrDir, 'bin/ncr.js'), 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, ...(workers > 1 ? ['--workers', String(workers)] : [])];
  const child = spawn(process.execPath, args, { cwd: cfg.ncrDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child, logFile);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`ncr did not print its address within 30 s; output:\n${out.slice(-2000)}`)), 30_000);
    const onData = (c: Buffer) => {
      out += c.toString('utf8');
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(m[1].replace('0.0.0.0', '127.0.0.1'));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`ncr exited with code ${code} before listening; output:\n${out.slice(-2000)}`));
    });
  });
  await waitReady(url, child, 'ncr', logFile);
  const s = server('ncr', url, child, dataDir, { user: ADMIN.user, pass: ADMIN.pass }, cfg.root);
  if (opts.createRegistry !== false) await createRegistry(s, REGISTRY);
  return s;
}

async function createRegistry(s: Server, name: string): Promise<void> {
  const res = await fetch(`${s.url}/api/v1/registries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from(`${ADMIN.user}:${ADMIN.pass}`).toString('base64') },
    body: JSON.stringify({ name }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (res.status !== 201 && res.status !== 200 && res.status !== 409) throw new Error(`creating registry ${name} on ncr: HTTP ${res.status} ${text}`);
}

function server(kind: Kind, url: string, child: ChildProcess, dataDir: string, creds: Creds | undefined, root: string): Server {
  const clients: RegistryClient[] = [];
  return {
    kind,
    url,
    pid: child.pid!,
    dataDir,
    creds,
    client() {
      const c = new RegistryClient(url, root, creds);
      clients.push(c);
      return c;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.close()));
      await stopChild(child);
    },
  };
}

/** VmRSS and VmHWM of a process, in bytes (Linux /proc). */
export async function memoryOf(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/**
 * CPU time (user + system, all threads) the process and its live children (`serve --workers N`'s workers) have used
 * so far, in seconds (from /proc/<pid>/stat and /proc/<pid>/task/<pid>/children).
 */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // the fields after the command name (which may hold spaces) start after the last ')'; utime and stime are 14 and 15
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).split(' ').filter(Boolean).map(Number);
  let sum = (Number(fields[11]) + Number(fields[12])) / 100;
  for (const c of children) sum += await cpuSecondsOf(c).catch(() => 0);
  return sum;
}
