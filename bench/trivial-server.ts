/**
 * The machine's own limit for the work a registry does, as a trivial Node server (run as its own process, like the
 * registries): POST /upload streams the body to a file while hashing it (sha256), fsyncs the file, renames it into
 * place and fsyncs the directory; GET /blob/<hex> streams a stored file; GET (or HEAD) /small answers 1 KiB from memory.
 * Usage: node --import tsx bench/trivial-server.ts <dir>; prints `listening <port>`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, stat } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const dir = process.argv[2];
if (!dir) throw new Error('usage: trivial-server.ts <dir>');
const blobs = join(dir, 'blobs');
const small = Buffer.alloc(1024, 'x');

async function fsync(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function upload(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const tmp = join(dir, `up-${randomUUID()}`);
  const hash = createHash('sha256');
  req.on('data', (c: Buffer) => hash.update(c));
  await pipeline(req, createWriteStream(tmp, { highWaterMark: 256 * 1024 }));
  const hex = hash.digest('hex');
  await fsync(tmp);
  await rename(tmp, join(blobs, hex));
  await fsync(blobs);
  res.writeHead(201, { 'docker-content-digest': `sha256:${hex}`, 'content-length': 0 }).end();
}

async function serve(hex: string, res: http.ServerResponse): Promise<void> {
  const path = join(blobs, hex.replace(/[^0-9a-f]/g, ''));
  const { size } = await stat(path);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
  await pipeline(createReadStream(path, { highWaterMark: 256 * 1024 }), res);
}

const server = http.createServer((req, res) => {
  const fail = (err: unknown) => {
    if (!res.headersSent) res.writeHead(500).end(String(err));
    else res.destroy();
  };
  if ((req.method === 'GET' || req.method === 'HEAD') && req.url === '/small') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': small.length }).end(req.method === 'GET' ? small : undefined);
  } else if (req.method === 'POST' && req.url === '/upload') {
    upload(req, res).catch(fail);
  } else if (req.method === 'GET' && req.url?.startsWith('/blob/')) {
    serve(req.url.slice(6), res).catch(fail);
  } else {
    res.writeHead(404, { 'content-length': 0 }).end();
  }
});
server.keepAliveTimeout = 60_000;

await mkdir(blobs, { recursive: true });
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
