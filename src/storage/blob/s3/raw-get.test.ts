import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { releaseChunk } from '../chunk-pool.js';
import { NotPlainResponse, RawGetter } from './raw-get.js';

const BIG = Buffer.alloc(8 * 1024 * 1024);
for (let i = 0; i < BIG.length; i += 4) BIG.writeUInt32LE(i, i);

async function drain(body: Readable, release = true): Promise<{ bytes: number; sha: string }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const c of body as AsyncIterable<Buffer>) {
    h.update(c);
    bytes += c.length;
    if (release) releaseChunk(c);
  }
  return { bytes, sha: h.digest('hex') };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('RawGetter', () => {
  let server: Server;
  let port: number;
  let connections: Socket[] = [];
  let handler: (req: IncomingMessage, res: ServerResponse) => void;
  let getter: RawGetter;

  beforeAll(async () => {
    server = createServer((req, res) => handler(req, res));
    server.on('connection', (s) => connections.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    getter?.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    getter?.close();
    getter = new RawGetter('127.0.0.1', port);
    connections = [];
    handler = (req, res) => {
      res.writeHead(200, { 'content-length': BIG.length, 'x-path': req.url, 'x-asked': req.headers['x-asked'] ?? '' });
      res.end(BIG);
    };
  });

  it('reads a Content-Length body whole, with the head, and sends the next GET on the same connection', async () => {
    const a = await getter.get('/a?x=1', { host: `127.0.0.1:${port}`, 'x-asked': 'yes' });
    expect(a.status).toBe(200);
    expect(a.headers['x-path']).toBe('/a?x=1');
    expect(a.headers['x-asked']).toBe('yes');
    expect(await drain(a.body)).toEqual({ bytes: BIG.length, sha: sha(BIG) });
    const b = await getter.get('/b', { host: 'h' });
    expect(await drain(b.body)).toEqual({ bytes: BIG.length, sha: sha(BIG) });
    expect(connections).toHaveLength(1);
  });

  it('many at once: every body intact although chunks are reused as soon as they are given back', async () => {
    const all = await Promise.all(Array.from({ length: 12 }, (_, i) => getter.get(`/${i}`, { host: 'h' }).then((r) => drain(r.body))));
    for (const r of all) expect(r).toEqual({ bytes: BIG.length, sha: sha(BIG) });
  });

  it('joins repeated headers, reads empty bodies and error statuses', async () => {
    handler = (req, res) => {
      if (req.url === '/empty') return res.writeHead(200, { 'content-length': 0 }).end();
      res.setHeader('x-two', ['a', 'b']);
      res.writeHead(404, { 'content-length': 9 }).end('not found');
    };
    const missing = await getter.get('/missing', { host: 'h' });
    expect(missing.status).toBe(404);
    expect(missing.headers['x-two']).toBe('a, b');
    const text = await drain(missing.body, false);
    expect(text.bytes).toBe(9);
    const empty = await getter.get('/empty', { host: 'h' });
    expect(await drain(empty.body)).toEqual({ bytes: 0, sha: sha(Buffer.alloc(0)) });
    expect(connections).toHaveLength(1);
  });

  it('refuses a chunked response with NotPlainResponse, before any byte', async () => {
    handler = (_req, res) => {
      res.write('part');
      res.end('rest');
    };
    await expect(getter.get('/chunked', { host: 'h' })).rejects.toBeInstanceOf(NotPlainResponse);
  });

  it('a kept-alive connection the server closed is replaced, and the GET still answered', async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'content-length': 2 });
      // the first connection's end: as a server's keep-alive timeout closes an idle one
      res.end('ok', () => req.url === '/1' && setTimeout(() => req.socket.destroy(), 20));
    };
    await drain((await getter.get('/1', { host: 'h' })).body);
    await new Promise((r) => setTimeout(r, 100));
    await drain((await getter.get('/2', { host: 'h' })).body);
    expect(connections).toHaveLength(2);
  });

  it('a request its kept-alive connection drops unanswered is sent once more on a new one', async () => {
    const served = new WeakSet<Socket>();
    handler = (req, res) => {
      // the second request on a connection finds it closing: no answer at all
      if (served.has(req.socket)) return void req.socket.destroy();
      served.add(req.socket);
      res.writeHead(200, { 'content-length': 2 }).end('ok');
    };
    await drain((await getter.get('/1', { host: 'h' })).body);
    const again = await getter.get('/2', { host: 'h' });
    expect((await drain(again.body)).bytes).toBe(2);
    expect(connections).toHaveLength(2);
    // a new connection that drops the request is not retried
    handler = (req) => void req.socket.destroy();
    await expect(getter.get('/3', { host: 'h' })).rejects.toThrow();
  });

  it('a body cut short fails its stream, naming how much came', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': 1000 });
      res.write(Buffer.alloc(100));
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const r = await getter.get('/cut', { host: 'h' });
    await expect(drain(r.body)).rejects.toThrow('after 100 of 1000 bytes');
  });

  it('a body given up half way closes its connection; the next GET opens another', async () => {
    const r = await getter.get('/x', { host: 'h' });
    await new Promise((res) => r.body.once('readable', res));
    r.body.destroy();
    await drain((await getter.get('/y', { host: 'h' })).body);
    expect(connections).toHaveLength(2);
  });

  it('keeps what it buffers bounded while the body is not read', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': BIG.length * 4 });
      for (let i = 0; i < 4; i++) res.write(BIG);
      res.end();
    };
    const r = await getter.get('/slow', { host: 'h' });
    await new Promise((res) => setTimeout(res, 300));
    expect(r.body.readableLength).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect((await drain(r.body)).bytes).toBe(BIG.length * 4);
  });

  it('does not reuse a connection the server said it closes', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': 2, connection: 'close' });
      res.end('ok');
    };
    await drain((await getter.get('/1', { host: 'h' })).body);
    await drain((await getter.get('/2', { host: 'h' })).body);
    expect(connections).toHaveLength(2);
  });
});
