/**
 * An S3-compatible server for tests and the benchmark, on 127.0.0.1, started by the file that needs it and stopped
 * after. By default a real one: Ceph's S3 gateway radosgw (Debian's radosgw, ceph-mon and ceph-osd, installed by the
 * test command) on a throwaway single-node cluster of its own (test/helpers/radosgw.sh: one monitor, one in-memory
 * OSD, no cephx; up in about two seconds). It enforces AWS's rules the driver must keep (EntityTooSmall for parts
 * under 5 MiB but the last, and so on). `NCR_TEST_S3=s3rver` (or a machine without radosgw) takes s3rver instead, a
 * JavaScript emulator (npm, pinned) that starts in under a second but enforces no part sizes; the driver's own tests
 * check what it sends against AWS's rules either way. What the server served (`requests`) is recorded by a proxy in
 * front of radosgw, and by s3rver itself (test/helpers/s3rver-main.mjs); `quiet` (the benchmark) records nothing and
 * talks to the server directly.
 */
import { spawn, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createServer, request, Agent, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

/** s3rver's fixed credentials (it accepts no others). */
export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
/** The radosgw user the start script creates. */
const RGW_CREDENTIALS = { accessKeyId: 'NCRTESTACCESSKEY', secretAccessKey: 'ncr-test-secret-key-0123456789abcdef' };

export type S3ServerKind = 'radosgw' | 's3rver';

/** The server tests use: NCR_TEST_S3, else radosgw where it is installed, else s3rver. */
export function s3ServerKind(): S3ServerKind {
  const asked = process.env.NCR_TEST_S3;
  if (asked === 'radosgw' || asked === 's3rver') return asked;
  if (asked) throw new Error(`NCR_TEST_S3 is ${JSON.stringify(asked)}: use radosgw or s3rver`);
  return existsSync('/usr/bin/radosgw') ? 'radosgw' : 's3rver';
}

export interface S3Request {
  method: string;
  /** /bucket/key */
  path: string;
  /** the query string, e.g. partNumber=1&uploadId=... */
  query: string;
  /** the request body's length, when it had one */
  length: number | null;
}

export interface TestS3 {
  kind: S3ServerKind;
  /** e.g. http://127.0.0.1:41234 */
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** A client on this server (path-style). */
  client(): S3Client;
  /** Creates a fresh, empty bucket and returns its name. */
  newBucket(): Promise<string>;
  /** Requests the server has seen so far: which bytes came from S3, which parts were sent. */
  requests: S3Request[];
  close(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('./s3rver-main.mjs', import.meta.url));

/** `quiet`: nothing is recorded (`requests` stays empty); the benchmark's setting. `store`: radosgw's OSD backend. */
export async function startS3(opts: { quiet?: boolean; kind?: S3ServerKind; store?: 'memstore' | 'bluestore' } = {}): Promise<TestS3> {
  const kind = opts.kind ?? s3ServerKind();
  const requests: TestS3['requests'] = [];
  const started = kind === 'radosgw' ? await startRadosgw(requests, opts) : await startS3rver(requests, opts);
  return serverOn(kind, started.port, started.credentials, requests, started.stop);
}

interface Started {
  port: number;
  credentials: TestS3['credentials'];
  stop(): Promise<void>;
}

async function startS3rver(requests: S3Request[], opts: { quiet?: boolean }): Promise<Started> {
  const directory = await mkdtemp(join(tmpdir(), 'ncr-s3-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', MAIN, directory, ...(opts.quiet ? ['--quiet'] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the S3 server did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`the S3 server exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { port: number } | S3Request;
      if ('port' in msg) {
        clearTimeout(timer);
        resolve(msg.port);
      } else requests.push(msg);
    });
  });
  return {
    port,
    credentials: S3_CREDENTIALS,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill();
        await exited;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}

const RADOSGW_SH = fileURLToPath(new URL('./radosgw.sh', import.meta.url));

/** radosgw on a cluster of its own (radosgw.sh), behind a recording proxy unless quiet. */
async function startRadosgw(requests: S3Request[], opts: { quiet?: boolean; store?: 'memstore' | 'bluestore' }): Promise<Started> {
  let lastError: unknown;
  // the script needs PORT..PORT+40 free: a few tries at random bases
  for (let attempt = 0; attempt < 4; attempt++) {
    const directory = await mkdtemp(join(tmpdir(), 'ncr-rgw-'));
    const port = 20_000 + randomInt(0, 700) * 50;
    const stop = async () => {
      for (const f of (await readdir(directory).catch(() => [])).filter((n) => n.endsWith('.bgpid'))) {
        const pid = Number(await readFile(join(directory, f), 'utf8'));
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      await rm(directory, { recursive: true, force: true });
    };
    try {
      await promisify(execFile)('bash', [RADOSGW_SH, directory, String(port), RGW_CREDENTIALS.accessKeyId, RGW_CREDENTIALS.secretAccessKey, opts.store ?? 'memstore'], { timeout: 90_000 });
    } catch (err) {
      lastError = err;
      await stop();
      continue;
    }
    if (opts.quiet) return { port, credentials: RGW_CREDENTIALS, stop };
    const proxy = await recordingProxy(port, requests);
    return {
      port: proxy.port,
      credentials: RGW_CREDENTIALS,
      async stop() {
        await proxy.close();
        await stop();
      },
    };
  }
  throw new Error(`radosgw did not start: ${(lastError as Error).message}`);
}

/**
 * A pass-through HTTP proxy on a free port that records each request (method, path, query, Content-Length) before
 * forwarding it unchanged: the Host header stays the proxy's, which is what the client signed.
 */
async function recordingProxy(target: number, requests: S3Request[]): Promise<{ port: number; close(): Promise<void> }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const length = req.headers['content-length'];
    requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.search.slice(1), length: length === undefined ? null : Number(length) });
    const headers = { ...req.headers };
    // this side already answered 100 Continue to the client
    delete headers.expect;
    const upstream = request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers, agent }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
      up.on('error', (err) => res.destroy(err));
    });
    upstream.on('error', (err) => res.destroy(err));
    req.on('error', (err) => upstream.destroy(err));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
    },
  };
}

function serverOn(kind: S3ServerKind, port: number, credentials: TestS3['credentials'], requests: S3Request[], stop: () => Promise<void>): TestS3 {
  const endpoint = `http://127.0.0.1:${port}`;
  const region = 'us-east-1';
  const clients: S3Client[] = [];
  const client = () => {
    const c = new S3Client({ endpoint, region, credentials, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    clients.push(c);
    return c;
  };
  return {
    kind,
    endpoint,
    region,
    credentials,
    client,
    requests,
    async newBucket() {
      const name = `ncr-${randomBytes(6).toString('hex')}`;
      await client().send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    async close() {
      for (const c of clients) c.destroy();
      await stop();
    },
  };
}
