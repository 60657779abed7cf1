/**
 * The OCI client against a tiny scripted HTTP server on 127.0.0.1: retries on 5xx / 429 honouring Retry-After and on
 * connection resets, a clear error after the configured attempts, timeouts, the SSRF guard refusing loopback before
 * connecting, Basic challenges, `access_token` answers, blob redirects followed without credentials, digest checks
 * while streaming, and cosign's signature tag where the referrers API is missing.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { Readable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OciRemoteClient } from '../../src/outbound/oci-client.js';
import { readAll } from './helpers.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const sha256 = (b: string | Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

describe('OCI client resilience (scripted server)', () => {
  let server: http.Server;
  let url: string;
  let handler: Handler;
  let seen: { method: string; url: string; auth?: string }[] = [];
  let connections = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization });
      handler(req, res);
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });
  beforeEach(() => {
    seen = [];
    connections = 0;
  });

  const client = (extra: Partial<ConstructorParameters<typeof OciRemoteClient>[0]> = {}) => new OciRemoteClient({ url, allowPrivateNetworks: true, baseDelayMs: 20, ...extra });
  /** answers with the given statuses in turn (the last one repeats) */
  const script = (steps: { status: number; headers?: Record<string, string>; body?: string }[]): Handler => {
    let i = 0;
    return (_req, res) => {
      const step = steps[Math.min(i++, steps.length - 1)];
      res.writeHead(step.status, step.headers ?? {}).end(step.body ?? '');
    };
  };

  it('retries 503 and 429, waiting as Retry-After says', async () => {
    handler = script([{ status: 503, headers: { 'retry-after': '1' } }, { status: 429, headers: { 'retry-after': '0' } }, { status: 200 }]);
    const started = Date.now();
    await client().ping();
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(seen.length).toBe(3);
  });

  it('gives up after the configured attempts with an error naming the remote and the failure', async () => {
    handler = script([{ status: 503, body: JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'down for maintenance' }] }) }]);
    const err = await client({ attempts: 3 })
      .headManifest('a/b', 'v1')
      .then(() => undefined, (e: unknown) => e as Error & { code: string });
    expect(err?.code).toBe('UNAVAILABLE');
    expect(err?.message).toContain(url);
    expect(err?.message).toMatch(/HEAD manifest a\/b:v1 failed with HTTP 503/);
    expect(seen.length).toBe(3);
  });

  it('retries an idempotent request after a connection reset', async () => {
    let n = 0;
    handler = (req, res) => {
      if (n++ === 0) return req.socket.destroy();
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': sha256('{}') }).end('{}');
    };
    const m = await client().getManifest('a/b', 'v1');
    expect(m.digest).toBe(sha256('{}'));
    expect(n).toBe(2);
  });

  it('an unreachable remote is UNAVAILABLE; a silent one times out', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = http.createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    await expect(new OciRemoteClient({ url: `http://127.0.0.1:${closed}`, allowPrivateNetworks: true, attempts: 2, baseDelayMs: 10 }).ping()).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/ECONNREFUSED/),
    });
    handler = () => undefined; // never answers
    await expect(client({ timeoutMs: 200, attempts: 1 }).ping()).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/no response within 200 ms/) });
  });

  it('refuses a loopback remote before connecting unless private networks are allowed', async () => {
    handler = script([{ status: 200 }]);
    const err = await new OciRemoteClient({ url, allowPrivateNetworks: false }).ping().then(() => undefined, (e: unknown) => e as Error & { code: string });
    expect(err?.code).toBe('UNAVAILABLE');
    expect(err?.message).toMatch(/127\.0\.0\.1 is a loopback address/);
    expect(connections).toBe(0);
    expect(seen).toEqual([]);
  });

  it('answers a Basic challenge with Basic', async () => {
    const expected = 'Basic ' + Buffer.from('u:p').toString('base64');
    handler = (req, res) => (req.headers.authorization === expected ? res.writeHead(200).end() : res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end());
    const c = client({ credentials: { kind: 'basic', username: 'u', password: 'p' } });
    await c.ping();
    await c.ping();
    // the second request sends Basic straight away
    expect(seen.map((r) => r.auth)).toEqual([undefined, expected, expected]);
    await expect(client({ credentials: { kind: 'basic', username: 'u', password: 'x' } }).ping()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('takes access_token from the realm and keeps it until it expires', async () => {
    let tokens = 0;
    handler = (req, res) => {
      const u = new URL(req.url ?? '/', url);
      if (u.pathname === '/token') {
        tokens++;
        expect(u.searchParams.get('service')).toBe('svc');
        expect(u.searchParams.getAll('scope')).toEqual(['repository:a/b:pull']);
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `t${tokens}`, expires_in: 300 }));
      }
      if (req.headers.authorization !== `Bearer t${tokens}` || tokens === 0) {
        return res.writeHead(401, { 'www-authenticate': `Bearer realm="${url}/token",service="svc",scope="repository:a/b:pull"` }).end();
      }
      res.writeHead(404).end();
    };
    const c = client();
    for (let i = 0; i < 3; i++) expect(await c.headManifest('a/b', 'v1')).toBeUndefined();
    expect(tokens).toBe(1);
  });

  it('follows a blob redirect without credentials and checks the digest while streaming', async () => {
    const blob = Buffer.from('blob content '.repeat(1000));
    handler = (req, res) => {
      if (req.url?.startsWith('/v2/a/b/blobs/')) return res.writeHead(307, { location: `/storage/${req.url.split('/').pop()}` }).end();
      if (req.url === `/storage/${sha256(blob)}`) return res.writeHead(200, { 'content-length': String(blob.length) }).end(blob);
      if (req.url?.startsWith('/storage/')) return res.writeHead(200).end('not what was asked for');
      res.writeHead(404).end();
    };
    const c = client({ credentials: { kind: 'bearer', token: 'secret' } });
    const got = await c.getBlob('a/b', sha256(blob));
    expect((await readAll(got.stream)).equals(blob)).toBe(true);
    expect(seen.map((r) => [r.url.split('/')[1], r.auth])).toEqual([
      ['v2', 'Bearer secret'],
      ['storage', undefined],
    ]);
    const bad = await c.getBlob('a/b', sha256('other'));
    await expect(readAll(bad.stream)).rejects.toMatchObject({ code: 'DIGEST_INVALID' });
  });

  it("falls back to cosign's signature tag when the referrers API is missing", async () => {
    const subject = sha256('subject');
    const sig = sha256('sig');
    handler = (req, res) => {
      if (req.method === 'HEAD' && req.url === `/v2/a/b/manifests/sha256-${subject.slice(7)}.sig`) {
        return res.writeHead(200, { 'docker-content-digest': sig, 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': '123' }).end();
      }
      res.writeHead(404).end();
    };
    expect(await client().referrers('a/b', subject)).toEqual([
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sig, size: 123, annotations: { 'org.opencontainers.image.ref.name': `sha256-${subject.slice(7)}.sig` } },
    ]);
  });

  it('a streamed upload may take longer than the request timeout while it keeps moving; a stalled one fails', async () => {
    let received = 0;
    handler = (req, res) => {
      if (req.method === 'POST') return res.writeHead(202, { location: '/upload/1' }).end();
      req.on('data', (c: Buffer) => (received += c.length));
      req.on('end', () => res.writeHead(201).end());
    };
    const chunks = Array.from({ length: 6 }, (_, i) => Buffer.alloc(1000, i));
    const all = Buffer.concat(chunks);
    const slow = async () =>
      Readable.from(
        (async function* () {
          for (const c of chunks) {
            await new Promise((r) => setTimeout(r, 100));
            yield c;
          }
        })(),
      );
    const c = client({ timeoutMs: 250, idleTimeoutMs: 250, attempts: 1 });
    expect(await c.pushBlob('a/b', sha256(all), all.length, slow)).toEqual({ mounted: false });
    expect(received).toBe(all.length);

    const stalled = async () =>
      Readable.from(
        (async function* () {
          yield chunks[0];
          await new Promise((r) => setTimeout(r, 1000));
          yield chunks[1];
        })(),
      );
    await expect(c.pushBlob('a/b', sha256(all), all.length, stalled)).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/nothing moved for 250 ms/) });
  });

  it('a failed upload starts again from a fresh stream', async () => {
    let puts = 0;
    let uploads = 0;
    handler = (req, res) => {
      if (req.method === 'POST') return res.writeHead(202, { location: `/upload/${++uploads}` }).end();
      req.resume();
      req.on('end', () => (++puts === 1 ? res.writeHead(503).end() : res.writeHead(201).end()));
    };
    const blob = Buffer.from('restartable');
    let opened = 0;
    const res = await client().pushBlob('a/b', sha256(blob), blob.length, async () => {
      opened++;
      return Readable.from([blob]);
    });
    expect(res).toEqual({ mounted: false });
    expect({ opened, uploads, puts }).toEqual({ opened: 2, uploads: 2, puts: 2 });
    expect(seen.filter((r) => r.method === 'PUT').map((r) => new URL(r.url, url).pathname)).toEqual(['/upload/1', '/upload/2']);
  });
});
