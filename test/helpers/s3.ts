/**
 * An S3-compatible server for tests: s3rver (npm, pinned) in a child process on 127.0.0.1 and a free port, with its
 * own temp directory, started by the test file that needs it and stopped after (test/helpers/s3rver-main.mjs).
 * Debian's real S3 implementations need far more before the first request (Ceph's radosgw a monitor and an OSD; Swift
 * four daemons, rings and an xattr filesystem); s3rver starts in well under a second. It does not enforce AWS's part
 * sizes, so the driver's own tests check what it sends against AWS's rules; the conditional writes it lacks
 * (If-Match / If-None-Match on PUT, which the driver relies on across nodes) are added in front of it, as AWS has them.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

/** s3rver's fixed credentials (it accepts no others). */
export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

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
  /** e.g. http://127.0.0.1:41234 */
  endpoint: string;
  region: string;
  credentials: typeof S3_CREDENTIALS;
  /** A client on this server (path-style). */
  client(): S3Client;
  /** Creates a fresh, empty bucket and returns its name. */
  newBucket(): Promise<string>;
  /** Requests the server has seen so far: which bytes came from S3, which parts were sent. */
  requests: S3Request[];
  close(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('./s3rver-main.mjs', import.meta.url));

export async function startS3(): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'ncr-s3-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', MAIN, directory], { stdio: ['pipe', 'pipe', 'inherit'] });
  const requests: TestS3['requests'] = [];
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
  const endpoint = `http://127.0.0.1:${port}`;
  const region = 'us-east-1';
  const clients: S3Client[] = [];
  const client = () => {
    const c = new S3Client({ endpoint, region, credentials: S3_CREDENTIALS, forcePathStyle: true });
    clients.push(c);
    return c;
  };
  return {
    endpoint,
    region,
    credentials: S3_CREDENTIALS,
    client,
    requests,
    async newBucket() {
      const name = `ncr-${randomBytes(6).toString('hex')}`;
      await client().send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    async close() {
      for (const c of clients) c.destroy();
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill();
        await exited;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}
