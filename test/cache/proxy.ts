/**
 * A small HTTP proxy in front of an image cache's source registry, for tests: counts the requests it forwards (method
 * and path), can be "down" (every connection is cut at once: the source is unreachable), and can hold a blob's body
 * back for a while, from its start or after its first bytes (so concurrent pulls overlap, or a fill outlasts its
 * timeout).
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SourceProxy {
  url: string;
  /** forwarded requests as `METHOD path status` (a challenge's 401 included) */
  seen: string[];
  count(method: string, pathPart: string): number;
  down: boolean;
  /** a blob GET whose path contains this waits `ms` before its body flows (or, with `afterBytes`, the rest of it) */
  hold?: { pathPart: string; ms: number; afterBytes?: number };
  /** when a held body last started flowing again (Date.now()) */
  releasedAt?: number;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<SourceProxy> {
  const t = new URL(target);
  const sockets = new Set<Socket>();
  const proxy: SourceProxy = {
    url: '',
    seen: [],
    down: false,
    /** successful (2xx) requests of the method whose path contains `pathPart` */
    count: (method, pathPart) => proxy.seen.filter((s) => s.startsWith(`${method} `) && s.includes(pathPart) && / 2\d\d$/.test(s)).length,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    if (proxy.down) {
      req.socket.destroy();
      return;
    }
    const up = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } }, (upRes: IncomingMessage) => {
      const headers = { ...upRes.headers };
      // the token realm (another ncr) and redirects point at the source itself: keep them coming through here
      for (const h of ['www-authenticate', 'location'] as const) {
        const v = headers[h];
        if (typeof v === 'string') headers[h] = v.split(t.host).join(new URL(proxy.url).host);
      }
      proxy.seen.push(`${req.method} ${req.url} ${upRes.statusCode}`);
      res.writeHead(upRes.statusCode ?? 502, headers);
      // the status and headers go out now; only the body may be held back
      res.flushHeaders();
      const hold = proxy.hold;
      if (hold && req.method === 'GET' && req.url?.includes(hold.pathPart)) holdBody(upRes, res, hold.afterBytes ?? 0, hold.ms);
      else upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  /** Sends the first `afterBytes` bytes, then nothing for `ms`, then the rest. */
  function holdBody(upRes: IncomingMessage, res: ServerResponse, afterBytes: number, ms: number) {
    const release = () => {
      proxy.releasedAt = Date.now();
      upRes.pipe(res);
    };
    if (afterBytes === 0) return void setTimeout(release, ms);
    let sent = 0;
    const onData = (chunk: Buffer) => {
      const head = chunk.subarray(0, afterBytes - sent);
      sent += head.length;
      res.write(head);
      if (sent < afterBytes) return;
      upRes.off('data', onData);
      upRes.pause();
      setTimeout(() => {
        if (head.length < chunk.length) res.write(chunk.subarray(head.length));
        release();
        upRes.resume();
      }, ms);
    };
    upRes.on('data', onData);
  }

  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
