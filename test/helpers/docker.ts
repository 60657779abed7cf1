/**
 * A private Docker engine for one test file: its own dockerd (and the containerd it starts), data root, exec root,
 * socket and daemon.json under one temp dir, so neither the machine's engine nor /var/lib/docker, /etc/docker or
 * ~/.docker are involved (dockerd still creates the empty /run/docker/plugins: a fixed path no option moves). Needs
 * root and Debian's docker.io (dockerd, /usr/bin/docker); scripts/test.sh installs it.
 *
 * dockerd runs with the vfs storage driver (no overlay mounts), no iptables and no bridge: nothing on the machine's
 * network changes, and containers cannot run with a network, so tests import, build (COPY only), push and pull.
 * Loopback registries (127.0.0.0/8) are insecure by default for dockerd, so plain http on 127.0.0.1:PORT works.
 *
 * The engine never outlives the test process: stop() shuts it down (SIGTERM, then SIGKILL) and kills its containerd
 * if it is still there; should the process die first, dockerd gets SIGTERM from the kernel (setpriv --pdeathsig) and
 * containerd follows dockerd (docker starts it with a parent-death signal of its own).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClientError, run, type ExecResult, type RunOptions } from './clients.js';

/** Debian's docker.io CLI. Not whatever `docker` comes first on PATH: /usr/local/bin may hold another version. */
export const DOCKER_CLI = '/usr/bin/docker';

/** A unix socket path must fit in sockaddr_un.sun_path (108 bytes); stay well below. */
const MAX_SOCKET_PATH = 100;

export interface DockerRunOptions extends RunOptions {
  /** The DOCKER_CONFIG directory (the identity: config.json holds `docker login`'s credentials). Default: the engine's own. */
  config?: string;
  /** Written to the command's stdin (e.g. for `docker login --password-stdin`). */
  input?: string;
}

export interface DockerEngine {
  /** unix:///…/d.sock */
  host: string;
  /** The temp dir holding everything of this engine; removed by stop(). */
  baseDir: string;
  /** A fresh, empty DOCKER_CONFIG directory: one per identity, so `docker login`s do not mix. */
  newConfig(label: string): Promise<string>;
  /** Runs /usr/bin/docker against this engine; throws a ClientError (with stderr) on a non-zero exit. */
  docker(args: string[], opts?: DockerRunOptions): Promise<ExecResult>;
  /** Like docker(), but returns the result whatever the exit code (for asserting failures). */
  dockerResult(args: string[], opts?: DockerRunOptions): Promise<ExecResult>;
  /** dockerd's log so far (for failure messages). */
  log(): string;
  /** Shuts the engine down, kills what is left of it and removes its directories. Idempotent. */
  stop(): Promise<void>;
}

/** Why a private engine cannot start here, or undefined when it can (root, dockerd on PATH, /usr/bin/docker). */
export function dockerEngineUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'the Docker tests start their own dockerd, which needs root';
  if (!onPath('dockerd')) return 'dockerd is not installed (Debian package docker.io)';
  if (!executable(DOCKER_CLI)) return `${DOCKER_CLI} is not installed (Debian package docker.io)`;
  return undefined;
}

export async function startDockerEngine(opts: { readyTimeoutMs?: number } = {}): Promise<DockerEngine> {
  const unavailable = dockerEngineUnavailable();
  if (unavailable) throw new Error(`cannot start a Docker engine: ${unavailable}`);

  // Short paths: dockerd and containerd put unix sockets under the exec root.
  const parent = join(tmpdir(), 'ncr-dk-XXXXXX', 'exec', 'containerd', 'containerd.sock.ttrpc').length < MAX_SOCKET_PATH ? tmpdir() : '/tmp';
  const baseDir = await mkdtemp(join(parent, 'ncr-dk-'));
  const dataRoot = join(baseDir, 'data');
  const execRoot = join(baseDir, 'exec');
  const socket = join(baseDir, 'd.sock');
  const pidFile = join(baseDir, 'dockerd.pid');
  const logFile = join(baseDir, 'dockerd.log');
  // Our own daemon.json: without --config-file dockerd would read the machine's /etc/docker/daemon.json.
  const daemonJson = join(baseDir, 'daemon.json');
  const defaultConfig = join(baseDir, 'cfg');
  await Promise.all([mkdir(dataRoot), mkdir(execRoot), mkdir(defaultConfig), writeFile(daemonJson, JSON.stringify(await daemonConfig(baseDir)) + '\n')]);
  const host = `unix://${socket}`;

  const dockerdArgs = [
    '--config-file',
    daemonJson,
    '--storage-driver=vfs',
    '--iptables=false',
    '--ip6tables=false',
    '--bridge=none',
    '--data-root',
    dataRoot,
    '--exec-root',
    execRoot,
    '--pidfile',
    pidFile,
    '--host',
    host,
  ];
  // setpriv execs dockerd, so the child's pid is dockerd's; the death signal survives that exec.
  const [file, args] = onPath('setpriv') ? ['setpriv', ['--pdeathsig', 'TERM', '--', 'dockerd', ...dockerdArgs]] : ['dockerd', dockerdArgs];
  const logFd = openSync(logFile, 'a');
  let daemon: ChildProcess;
  try {
    daemon = spawn(file, args, { stdio: ['ignore', logFd, logFd], env: daemonEnv() });
  } finally {
    closeSync(logFd);
  }
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let daemonError: Error | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    daemon.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    });
    daemon.once('error', (err) => {
      exited = { code: null, signal: null };
      daemonError = err;
      resolve();
    });
  });
  // Last resort if stop() is never reached: the process is exiting, dockerd shuts itself (and containerd) down.
  const onExit = (): void => {
    if (!exited && daemon.pid) {
      try {
        process.kill(daemon.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
  };
  process.once('exit', onExit);

  const log = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };

  const cliEnv = (config: string): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: host, DOCKER_CONFIG: config };
    // Anything that would point the CLI elsewhere or at TLS material.
    for (const k of ['DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_TLS']) delete env[k];
    return env;
  };
  const dockerResult = (cliArgs: string[], o: DockerRunOptions = {}): Promise<ExecResult> =>
    runWithInput(DOCKER_CLI, cliArgs, { ...o, env: { ...cliEnv(o.config ?? defaultConfig), ...o.env } });
  const docker = async (cliArgs: string[], o: DockerRunOptions = {}): Promise<ExecResult> => {
    const res = await dockerResult(cliArgs, o);
    if (res.code !== 0) throw new ClientError(res);
    return res;
  };

  let containerdPid: number | undefined;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      process.removeListener('exit', onExit);
      if (!exited && daemon.pid) {
        daemon.kill('SIGTERM');
        await Promise.race([exitedPromise, sleep(20_000)]);
        if (!exited) {
          daemon.kill('SIGKILL');
          await exitedPromise;
        }
      }
      // dockerd stops containerd on a clean shutdown; after a SIGKILL it may linger for a moment.
      if (containerdPid !== undefined) await killIfOurs(containerdPid, baseDir);
      await unmountUnder(baseDir);
      await rm(baseDir, { recursive: true, force: true });
    })());

  const engine: DockerEngine = {
    host,
    baseDir,
    async newConfig(label) {
      return mkdtemp(join(baseDir, `cfg-${label}-`));
    },
    docker,
    dockerResult,
    log,
    stop,
  };

  // Ready when `docker info` answers; fail fast (with dockerd's log) when dockerd exits instead.
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  try {
    for (;;) {
      if (exited) {
        throw new Error(
          `dockerd exited before it was ready (${daemonError?.message ?? `code ${exited.code}, signal ${exited.signal}`})\n--- dockerd log ---\n${tail(log())}`,
        );
      }
      if (existsSync(socket)) {
        const info = await dockerResult(['--host', host, 'info', '--format', '{{.ServerVersion}} {{.Driver}}'], { timeout: 10_000 });
        if (info.code === 0 && info.stdout.trim()) break;
      }
      if (Date.now() > deadline) throw new Error(`dockerd did not answer \`docker info\` in time\n--- dockerd log ---\n${tail(log())}`);
      await sleep(200);
    }
    containerdPid = readPid(join(execRoot, 'containerd', 'containerd.pid'));
  } catch (err) {
    await stop();
    throw err;
  }
  return engine;
}

/**
 * daemon.json for the private engine. dockerd before 23.0 keeps a "trust key" in /etc/docker/key.json unless told
 * otherwise; 23.0 dropped it (and may refuse the option), so it is only set for older engines.
 */
async function daemonConfig(baseDir: string): Promise<Record<string, unknown>> {
  const version = await run('dockerd', ['--version'], { timeout: 20_000 });
  const major = Number(/version (\d+)\./i.exec(version.stdout)?.[1] ?? Number.NaN);
  return major < 23 ? { 'deprecated-key-path': join(baseDir, 'key.json') } : {};
}

/** The environment for dockerd: the machine's, minus anything that would make it talk to another daemon. */
function daemonEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_CONFIG', 'CONTAINERD_ADDRESS', 'CONTAINERD_NAMESPACE']) delete env[k];
  return env;
}

/** Like clients.ts's run(), plus text on stdin. */
function runWithInput(file: string, args: string[], opts: RunOptions & { input?: string }): Promise<ExecResult> {
  if (opts.input === undefined) return run(file, args, opts);
  const command = [file, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += '\n[killed by SIGKILL (timeout?)]';
      child.kill('SIGKILL');
    }, opts.timeout ?? 150_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${command}: ${err.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ command, code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(opts.input);
  });
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** SIGKILLs `pid` if it is still a process whose command line mentions `marker` (not a recycled pid), and waits. */
async function killIfOurs(pid: number, marker: string): Promise<void> {
  const ours = (): boolean => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
    } catch {
      return false;
    }
  };
  if (!ours()) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && ours(); i++) await sleep(50);
}

/** dockerd bind-mounts its data root (and may leave it mounted after a SIGKILL): lazily unmount anything under dir. */
async function unmountUnder(dir: string): Promise<void> {
  const mountPoints = (): string[] => {
    const text = readFileSync('/proc/self/mountinfo', 'utf8');
    return text
      .split('\n')
      .map((line) => line.split(' ')[4])
      .filter((p): p is string => !!p)
      .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))))
      .filter((p) => p === dir || p.startsWith(dir + '/'));
  };
  for (const mp of mountPoints().sort((a, b) => b.length - a.length)) {
    const res = await run('umount', ['-l', mp], { timeout: 20_000 });
    if (res.code !== 0 && mountPoints().includes(mp)) throw new ClientError(res);
  }
}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): boolean {
  return (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .some((dir) => dir && executable(join(dir, name)));
}

/** `docker login` with an access key (user name) and secret key (password, on stdin), into the given DOCKER_CONFIG. */
export function dockerLogin(
  engine: DockerEngine,
  registryHost: string,
  creds: { accessKey: string; secretKey: string },
  config: string,
): Promise<ExecResult> {
  return engine.dockerResult(['login', '--username', creds.accessKey, '--password-stdin', registryHost], { config, input: creds.secretKey });
}

/** The `auths` entries of a DOCKER_CONFIG's config.json (empty when there is none). */
export async function dockerConfigAuths(config: string): Promise<Record<string, { auth?: string; identitytoken?: string }>> {
  try {
    return (JSON.parse(await readFile(join(config, 'config.json'), 'utf8')).auths ?? {}) as Record<string, { auth?: string; identitytoken?: string }>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}
