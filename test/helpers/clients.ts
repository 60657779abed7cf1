/**
 * Thin wrappers that run the real container clients (skopeo, podman) with execFile, isolated from the machine's
 * state (no ~/.docker, no /run/containers auth, no system image store), and with errors that carry stderr.
 *
 * Loopback registries speak plain http: always pass `--tls-verify=false` (podman, skopeo inspect/delete) or
 * `--src-tls-verify=false` / `--dest-tls-verify=false` (skopeo copy). The `tlsOff` helpers below do that.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface ExecResult {
  /** The command line, for messages. */
  command: string;
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Milliseconds, default 150 000. */
  timeout?: number;
  cwd?: string;
}

export class ClientError extends Error {
  readonly result: ExecResult;
  constructor(result: ExecResult) {
    super(
      `${result.command} exited with ${result.code}` +
        (result.stderr.trim() ? `\n--- stderr ---\n${result.stderr.trim()}` : '') +
        (result.stdout.trim() ? `\n--- stdout ---\n${truncate(result.stdout.trim(), 4000)}` : ''),
    );
    this.name = 'ClientError';
    this.result = result;
  }
  get stderr(): string {
    return this.result.stderr;
  }
  get stdout(): string {
    return this.result.stdout;
  }
  get code(): number {
    return this.result.code;
  }
}

function truncate(s: string, max: number): string {
  return s.length > max ? s.slice(0, max) + `… (${s.length - max} more chars)` : s;
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Hides `--creds user:secret` values in printed command lines. */
function redact(args: string[]): string[] {
  return args.map((a, i) => {
    if (args[i - 1] === '--creds' || args[i - 1] === '--src-creds' || args[i - 1] === '--dest-creds' || args[i - 1] === '--password' || args[i - 1] === '-p') {
      const colon = a.indexOf(':');
      return args[i - 1].endsWith('creds') && colon >= 0 ? `${a.slice(0, colon)}:***` : '***';
    }
    const m = /^(--(?:src-|dest-)?creds=)([^:]*):.*$/.exec(a);
    if (m) return `${m[1]}${m[2]}:***`;
    if (a.startsWith('--password=')) return '--password=***';
    return a;
  });
}

/** Runs `file args…`; never throws for a non-zero exit (see `code`), only when the program cannot be started. */
export function run(file: string, args: string[], opts: RunOptions = {}): Promise<ExecResult> {
  const command = [file, ...redact(args)].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        env: opts.env ?? process.env,
        cwd: opts.cwd,
        timeout: opts.timeout ?? 150_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
        killSignal: 'SIGKILL',
      },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
          // ENOENT and the like: the program could not run at all.
          reject(new Error(`${command}: ${err.message}${stderr ? `\n${stderr}` : ''}`));
          return;
        }
        let code = 0;
        if (err) {
          const e = err as { code?: number | null; killed?: boolean; signal?: string | null };
          code = typeof e.code === 'number' ? e.code : 1;
          if (e.killed || e.signal) stderr = `${stderr}\n[killed by ${e.signal ?? 'signal'}${e.killed ? ' (timeout?)' : ''}]`;
        }
        resolve({ command, code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Like run, but throws a ClientError (message includes stderr) on a non-zero exit. */
export async function runOk(file: string, args: string[], opts: RunOptions = {}): Promise<ExecResult> {
  const res = await run(file, args, opts);
  if (res.code !== 0) throw new ClientError(res);
  return res;
}

const toolCache = new Map<string, boolean>();

/** True when `name` is on PATH and runs (`name --version` exits 0). */
export function haveTool(name: string): boolean {
  const cached = toolCache.get(name);
  if (cached !== undefined) return cached;
  let ok = false;
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore', timeout: 20_000 });
    ok = true;
  } catch {
    ok = false;
  }
  toolCache.set(name, ok);
  return ok;
}

// ---------------------------------------------------------------------------------------------------------------
// skopeo

/** A path that does not exist: skopeo treats a missing auth file as "no credentials" (podman does not). */
const NO_AUTH_FILE = '/nonexistent/ncr-test/auth.json';

/**
 * Environment for skopeo that never reads the machine's credentials (~/.docker, /run/containers/0/auth.json):
 * REGISTRY_AUTH_FILE points at `authFile`, or at a missing file. Pass credentials with `--creds AK:SK`
 * (`--src-creds`/`--dest-creds` for copy) or `--authfile`.
 */
export function skopeoEnv(authFile?: string): NodeJS.ProcessEnv {
  return { ...process.env, REGISTRY_AUTH_FILE: authFile ?? NO_AUTH_FILE, DOCKER_CONFIG: '/nonexistent/ncr-test/docker' };
}

/** Runs skopeo; throws a ClientError (with stderr) on failure. */
export function skopeo(args: string[], opts: RunOptions & { authFile?: string } = {}): Promise<ExecResult> {
  return runOk('skopeo', args, { ...opts, env: opts.env ?? skopeoEnv(opts.authFile) });
}

/** Runs skopeo and returns the result whatever the exit code (for asserting failures). */
export function skopeoResult(args: string[], opts: RunOptions & { authFile?: string } = {}): Promise<ExecResult> {
  return run('skopeo', args, { ...opts, env: opts.env ?? skopeoEnv(opts.authFile) });
}

/** `--creds AK:SK` */
export function creds(c: { accessKey: string; secretKey: string }): string[] {
  return ['--creds', `${c.accessKey}:${c.secretKey}`];
}

// ---------------------------------------------------------------------------------------------------------------
// podman

/**
 * The global flags every podman call gets: a private vfs store under `storeDir`, cgroupfs (no systemd here), file
 * events (no journald), and a private tmpdir (instead of /run/libpod).
 */
export function podmanGlobalFlags(storeDir: string): string[] {
  return [
    '--root',
    join(storeDir, 'root'),
    '--runroot',
    podmanRunroot(storeDir),
    '--storage-driver',
    'vfs',
    '--cgroup-manager=cgroupfs',
    '--events-backend=file',
    '--tmpdir',
    join(storeDir, 'tmp'),
  ];
}

/** podman refuses a runroot longer than this ("the specified runroot is longer than 50 characters"). */
const MAX_RUNROOT = 50;

/**
 * `<storeDir>/runroot` when short enough for podman, else a short directory derived from storeDir's path
 * (`<tmp>/ncr-rr-<hash>`, stable across calls) with a `<storeDir>/runroot` symlink to it. removePodmanStore removes both.
 */
export function podmanRunroot(storeDir: string): string {
  const preferred = join(storeDir, 'runroot');
  if (preferred.length <= MAX_RUNROOT) return preferred;
  const name = `ncr-rr-${createHash('sha256').update(resolve(storeDir)).digest('hex').slice(0, 12)}`;
  const base = join(tmpdir(), name).length <= MAX_RUNROOT ? tmpdir() : '/tmp';
  const short = join(base, name);
  mkdirSync(short, { recursive: true });
  mkdirSync(storeDir, { recursive: true });
  if (!existsSync(preferred)) symlinkSync(short, preferred);
  return short;
}

/** Removes a podman store made by these helpers, including a relocated runroot. */
export async function removePodmanStore(storeDir: string): Promise<void> {
  const runroot = podmanRunroot(storeDir);
  await rm(runroot, { recursive: true, force: true });
  await rm(storeDir, { recursive: true, force: true });
}

/**
 * Prepares `storeDir` (idempotent) and returns podman's environment: REGISTRY_AUTH_FILE = `<storeDir>/auth.json`
 * (podman login writes there; it must exist for pull), plus private registries.conf and containers.conf so neither
 * the system's short-name aliases nor its network config dirs are involved.
 */
export function podmanEnv(storeDir: string): NodeJS.ProcessEnv {
  mkdirSync(join(storeDir, 'tmp'), { recursive: true });
  const authFile = join(storeDir, 'auth.json');
  if (!existsSync(authFile)) writeFileSync(authFile, '{}\n');
  const registriesConf = join(storeDir, 'registries.conf');
  if (!existsSync(registriesConf)) writeFileSync(registriesConf, 'unqualified-search-registries = []\nshort-name-mode = "disabled"\n');
  const containersConf = join(storeDir, 'containers.conf');
  if (!existsSync(containersConf)) {
    writeFileSync(
      containersConf,
      [
        '[engine]',
        'events_logger = "file"',
        'cgroup_manager = "cgroupfs"',
        `tmp_dir = ${JSON.stringify(join(storeDir, 'tmp'))}`,
        '[network]',
        `network_config_dir = ${JSON.stringify(join(storeDir, 'networks'))}`,
        '',
      ].join('\n'),
    );
  }
  return {
    ...process.env,
    REGISTRY_AUTH_FILE: authFile,
    CONTAINERS_REGISTRIES_CONF: registriesConf,
    CONTAINERS_CONF: containersConf,
    DOCKER_CONFIG: join(storeDir, 'docker-config'),
  };
}

/** Runs podman against the private store in `storeDir`; throws a ClientError (with stderr) on failure. */
export function podman(args: string[], storeDir: string, opts: RunOptions = {}): Promise<ExecResult> {
  return runOk('podman', [...podmanGlobalFlags(storeDir), ...args], { ...opts, env: { ...podmanEnv(storeDir), ...opts.env } });
}

/** Runs podman and returns the result whatever the exit code (for asserting failures). */
export function podmanResult(args: string[], storeDir: string, opts: RunOptions = {}): Promise<ExecResult> {
  return run('podman', [...podmanGlobalFlags(storeDir), ...args], { ...opts, env: { ...podmanEnv(storeDir), ...opts.env } });
}
