import { randomBytes } from 'node:crypto';
import { rm, utimes } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FsBlobStore } from '../../src/storage/blob/fs/fs-blob-store.js';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';
import { basic, errorCode, OciClient, sha256, sha512 } from '../helpers/oci-client.js';

/** A GET with node:http that stalls for `stallMs` before reading the body (the socket is paused meanwhile). */
function get(url: string, headers: Record<string, string>, stallMs: number): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.pause();
        setTimeout(() => {
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(parts) }));
          res.resume();
        }, stallMs);
      })
      .on('error', reject);
  });
}

describe.each(DB_KINDS)('blobs and uploads (%s)', (db) => {
  let s: TestServer;
  let c: OciClient;
  beforeAll(async () => {
    s = await startServer({ db });
    c = new OciClient(s.url, s.admin);
    expect((await s.api('POST', '/api/v1/registries', { name: 'team' })).status).toBe(201);
  });
  afterAll(async () => s?.close());
  afterEach(() => vi.restoreAllMocks());

  it('monolithic push, HEAD, GET and Range', async () => {
    const data = 'hello blob '.repeat(50);
    const digest = await c.pushBlob('team/app', data);
    const head = await c.req('HEAD', `/v2/team/app/blobs/${digest}`);
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(data.length));
    expect(head.headers.get('docker-content-digest')).toBe(digest);
    const get = await c.req('GET', `/v2/team/app/blobs/${digest}`);
    expect(await get.text()).toBe(data);
    const part = await c.req('GET', `/v2/team/app/blobs/${digest}`, { headers: { range: 'bytes=6-9' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 6-9/${data.length}`);
    expect(await part.text()).toBe('blob');
    const bad = await c.req('GET', `/v2/team/app/blobs/${digest}`, { headers: { range: 'bytes=100000-' } });
    expect(bad.status).toBe(416);
  });

  it('many pulls at once of multi-chunk blobs, whole and by range, are byte-exact', async () => {
    // The server reuses its read buffers across responses. Stalled clients (not reading for a while) keep chunks
    // queued in the server's socket while other pulls go on: a buffer reused too early shows up as a wrong digest.
    const blobs = [1, 2, 3, 4].map((i) => randomBytes(6_000_000 + i * 150_000));
    const digests = await Promise.all(blobs.map((b) => c.pushBlob('team/many', b)));
    const auth = `Bearer ${await c.token('repository:team/many:pull')}`;
    const pulls = Array.from({ length: 16 }, async (_, i) => {
      const k = i % blobs.length;
      const ranged = i % 3 === 0;
      const res = await get(`${s.url}/v2/team/many/blobs/${digests[k]}`, { authorization: auth, ...(ranged ? { range: 'bytes=1000-2400999' } : {}) }, i % 2 === 1 ? 300 : 0);
      expect(res.status).toBe(ranged ? 206 : 200);
      if (ranged) expect(res.body.equals(blobs[k]!.subarray(1000, 2401000))).toBe(true);
      else expect(sha256(res.body)).toBe(digests[k]);
    });
    await Promise.all(pulls);
  });

  it('a blob is visible only in repositories that link it', async () => {
    const digest = await c.pushBlob('team/one', 'only in one');
    expect((await c.req('HEAD', `/v2/team/one/blobs/${digest}`)).status).toBe(200);
    await c.pushBlob('team/two', 'something else');
    const res = await c.req('GET', `/v2/team/two/blobs/${digest}`);
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe('BLOB_UNKNOWN');
  });

  it('sha512 digests are accepted', async () => {
    const data = 'sha512 content';
    const digest = sha512(data);
    const res = await c.req('POST', `/v2/team/app/blobs/uploads/?digest=${digest}`, { body: data });
    expect(res.status).toBe(201);
    expect(res.headers.get('docker-content-digest')).toBe(digest);
    expect(await (await c.req('GET', `/v2/team/app/blobs/${digest}`)).text()).toBe(data);
  });

  it('a wrong digest is refused and nothing becomes visible', async () => {
    const wrong = sha256('other bytes');
    const res = await c.req('POST', `/v2/team/app/blobs/uploads/?digest=${wrong}`, { body: 'actual bytes' });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('DIGEST_INVALID');
    expect((await c.req('HEAD', `/v2/team/app/blobs/${wrong}`)).status).toBe(404);
    const malformed = await c.req('POST', `/v2/team/app/blobs/uploads/?digest=sha256:abc`, { body: 'x' });
    expect(await errorCode(malformed)).toBe('DIGEST_INVALID');
  });

  it('chunked upload with Content-Range, status, gap → 416, close', async () => {
    const start = await c.req('POST', '/v2/team/app/blobs/uploads/');
    expect(start.status).toBe(202);
    const location = start.headers.get('location')!;
    expect(start.headers.get('docker-upload-uuid')).toBeTruthy();
    expect(start.headers.get('range')).toBe('0-0');
    const a = Buffer.alloc(1000, 'a');
    const b = Buffer.alloc(500, 'b');
    const p1 = await c.req('PATCH', location, { body: a, headers: { 'content-range': '0-999', 'content-type': 'application/octet-stream' } });
    expect(p1.status).toBe(202);
    expect(p1.headers.get('range')).toBe('0-999');
    const gap = await c.req('PATCH', location, { body: b, headers: { 'content-range': '1001-1500' } });
    expect(gap.status).toBe(416);
    expect(gap.headers.get('range')).toBe('0-999');
    expect(gap.headers.get('location')).toBe(location);
    expect(gap.headers.get('docker-upload-uuid')).toBe(start.headers.get('docker-upload-uuid'));
    expect(((await gap.json()) as { errors: { code: string; detail: unknown }[] }).errors[0]).toMatchObject({ code: 'RANGE_INVALID', detail: { offset: 1000 } });
    const overlap = await c.req('PATCH', location, { body: b, headers: { 'content-range': '900-1399' } });
    expect(overlap.status).toBe(416);
    const status = await c.req('GET', location);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe('0-999');
    const p2 = await c.req('PATCH', location, { body: b, headers: { 'content-range': '1000-1499' } });
    expect(p2.status).toBe(202);
    const all = Buffer.concat([a, b]);
    const done = await c.req('PUT', `${location}?digest=${sha256(all)}`);
    expect(done.status).toBe(201);
    expect(done.headers.get('docker-content-digest')).toBe(sha256(all));
    expect(Buffer.from(await (await c.req('GET', `/v2/team/app/blobs/${sha256(all)}`)).arrayBuffer()).equals(all)).toBe(true);
    const gone = await c.req('GET', location);
    expect(gone.status).toBe(404);
    expect(await errorCode(gone)).toBe('BLOB_UPLOAD_UNKNOWN');
  });

  it('streamed PATCH without Content-Range, final chunk in the PUT', async () => {
    const start = await c.req('POST', '/v2/team/app/blobs/uploads/');
    const location = start.headers.get('location')!;
    await c.req('PATCH', location, { body: 'first-' });
    const done = await c.req('PUT', `${location}?digest=${sha256('first-second')}`, { body: 'second', headers: { 'content-type': 'application/octet-stream' } });
    expect(done.status).toBe(201);
  });

  it('a chunk shorter than its Content-Range is refused and leaves the upload where it was', async () => {
    const start = await c.req('POST', '/v2/team/app/blobs/uploads/');
    const location = start.headers.get('location')!;
    await c.req('PATCH', location, { body: 'abc', headers: { 'content-range': '0-2' } });
    // sent chunked, so only the Content-Range announces a length
    const auth = `Bearer ${await c.token('repository:team/app:pull,push')}`;
    const short = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${s.url}${location}`, { method: 'PATCH', headers: { authorization: auth, 'content-range': '3-102', 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end(Buffer.alloc(50, 1));
    });
    expect(short.status).toBe(400);
    expect(JSON.parse(short.body).errors[0].code).toBe('SIZE_INVALID');
    expect((await c.req('GET', location)).headers.get('range')).toBe('0-2');
    await c.req('PATCH', location, { body: 'def', headers: { 'content-range': '3-5' } });
    expect((await c.req('PUT', `${location}?digest=${sha256('abcdef')}`)).status).toBe(201);
  });

  it('a storage failure mid-upload is a 503 that shows no server path, and the upload can go on', async () => {
    const start = await c.req('POST', '/v2/team/app/blobs/uploads/');
    const location = start.headers.get('location')!;
    const id = location.split('/').pop()!;
    await c.req('PATCH', location, { body: 'kept-', headers: { 'content-range': '0-4' } });
    // the disk fails after part of the chunk is written, with an error that names the file (as node:fs errors do)
    const path = join(s.dataDir, 'storage', 'uploads', id);
    const append = FsBlobStore.prototype.appendUpload;
    vi.spyOn(FsBlobStore.prototype, 'appendUpload').mockImplementationOnce(function (this: FsBlobStore, upload, state, source: Readable, opts) {
      let n = 0;
      const disk = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          if ((n += chunk.length) > 3) return cb(Object.assign(new Error(`EIO: i/o error, write '${path}'`), { code: 'EIO', path }));
          cb(null, chunk);
        },
      });
      source.on('error', (err) => disk.destroy(err));
      return append.call(this, upload, state, source.pipe(disk), opts);
    });
    const failed = await c.req('PATCH', location, { body: 'lost bytes', headers: { 'content-range': '5-14' } });
    // a failing disk is the server's trouble, not the request's: UNAVAILABLE, retry later
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toMatch(/^\d+$/);
    const text = await failed.text();
    expect(text).not.toContain(s.dataDir);
    expect(text).not.toContain('/tmp/');
    expect(text).not.toContain('EIO');
    expect(JSON.parse(text).errors[0].code).toBe('UNAVAILABLE');
    // none of the failed chunk stayed: the upload continues from where it was
    expect((await c.req('GET', location)).headers.get('range')).toBe('0-4');
    await c.req('PATCH', location, { body: 'more', headers: { 'content-range': '5-8' } });
    expect((await c.req('PUT', `${location}?digest=${sha256('kept-more')}`)).status).toBe(201);

    // the session's file removed behind the server's back: the client is told the session is gone, nothing more
    const other = (await c.req('POST', '/v2/team/app/blobs/uploads/')).headers.get('location')!;
    await c.req('PATCH', other, { body: 'abc' });
    await rm(join(s.dataDir, 'storage', 'uploads', other.split('/').pop()!));
    const gone = await c.req('PATCH', other, { body: 'def' });
    expect(gone.status).toBe(404);
    const goneText = await gone.text();
    expect(JSON.parse(goneText).errors[0].code).toBe('BLOB_UPLOAD_UNKNOWN');
    expect(goneText).not.toContain(s.dataDir);
    expect(goneText).not.toContain('/tmp/');
  });

  it('GET redirects (307) when the store offers a URL for the blob; HEAD is still answered here', async () => {
    const digest = await c.pushBlob('team/app', 'served elsewhere');
    vi.spyOn(FsBlobStore.prototype, 'redirectUrl').mockResolvedValue('https://blobs.example/presigned?sig=1');
    const res = await c.req('GET', `/v2/team/app/blobs/${digest}`);
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe('https://blobs.example/presigned?sig=1');
    expect((await c.req('HEAD', `/v2/team/app/blobs/${digest}`)).status).toBe(200);
    // only for blobs the repository links
    const unlinked = await c.req('GET', `/v2/team/app/blobs/${sha256('not linked here')}`);
    expect(unlinked.status).toBe(404);
  });

  it('cancel an upload', async () => {
    const start = await c.req('POST', '/v2/team/app/blobs/uploads/');
    const location = start.headers.get('location')!;
    expect((await c.req('DELETE', location)).status).toBe(204);
    expect((await c.req('PATCH', location, { body: 'x' })).status).toBe(404);
  });

  it('abandoned uploads are purged, fresh ones kept', async () => {
    const old = await c.req('POST', '/v2/team/app/blobs/uploads/');
    const oldLoc = old.headers.get('location')!;
    await c.req('PATCH', oldLoc, { body: 'abandoned' });
    // last written an hour ago (upload ages are the storage's own times)
    const anHourAgo = new Date(Date.now() - 3600_000);
    await utimes(join(s.dataDir, 'storage', 'uploads', oldLoc.split('/').pop()!), anHourAgo, anHourAgo);
    expect(await s.app.maintenance.purgeUploads(60_000)).toBeGreaterThanOrEqual(1);
    expect((await c.req('GET', oldLoc)).status).toBe(404);
    const fresh = await c.req('POST', '/v2/team/app/blobs/uploads/');
    expect(await s.app.maintenance.purgeUploads(60_000)).toBe(0);
    expect((await c.req('GET', fresh.headers.get('location')!)).status).toBe(204);
  });

  it('cross-repository mount: 201 when the source has it, 202 otherwise', async () => {
    const digest = await c.pushBlob('team/src', 'mount me');
    const scopes = ['repository:team/dst:pull,push', 'repository:team/src:pull'];
    const ok = await c.req('POST', `/v2/team/dst/blobs/uploads/?mount=${digest}&from=team/src`, { scopes });
    expect(ok.status).toBe(201);
    expect(ok.headers.get('docker-content-digest')).toBe(digest);
    expect((await c.req('HEAD', `/v2/team/dst/blobs/${digest}`)).status).toBe(200);
    const miss = await c.req('POST', `/v2/team/dst/blobs/uploads/?mount=${sha256('nope')}&from=team/src`, { scopes });
    expect(miss.status).toBe(202);
    // A token without pull on the source gets a normal session, not the blob.
    const other = await c.pushBlob('team/src', 'not yours');
    const noPull = await c.req('POST', `/v2/team/dst/blobs/uploads/?mount=${other}&from=team/src`, { scopes: ['repository:team/dst:pull,push'] });
    expect(noPull.status).toBe(202);
    expect(miss.status).toBe(202);
    expect(miss.headers.get('location')).toContain('/blobs/uploads/');
  });

  it('delete a blob unlinks it from the repository', async () => {
    const digest = await c.pushBlob('team/del', 'delete me');
    // pulled first, so the link is in the pull cache: the delete must drop it there too
    expect((await c.req('GET', `/v2/team/del/blobs/${digest}`)).status).toBe(200);
    expect((await c.req('DELETE', `/v2/team/del/blobs/${digest}`)).status).toBe(202);
    expect((await c.req('HEAD', `/v2/team/del/blobs/${digest}`)).status).toBe(404);
    expect((await c.req('GET', `/v2/team/del/blobs/${digest}`)).status).toBe(404);
  });

  it('deleting the image makes its blobs unknown at once, even just after a pull', async () => {
    const digest = await c.pushBlob('team/gone', 'in an image about to be deleted');
    expect((await c.req('GET', `/v2/team/gone/blobs/${digest}`)).status).toBe(200);
    expect((await s.api('DELETE', '/api/v1/registries/team/images/gone')).status).toBe(204);
    expect((await c.req('GET', `/v2/team/gone/blobs/${digest}`)).status).toBe(404);
  });

  it('a push into a registry that does not exist is NAME_UNKNOWN, a bad name NAME_INVALID', async () => {
    const res = await c.req('POST', '/v2/nosuch/app/blobs/uploads/');
    expect(res.status).toBe(404);
    const body = (await res.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0].code).toBe('NAME_UNKNOWN');
    expect(body.errors[0].message).toMatch(/create it first/);
    const bad = await c.req('POST', '/v2/team/App/blobs/uploads/');
    expect(await errorCode(bad)).toBe('NAME_INVALID');
    const single = await c.req('POST', '/v2/team/blobs/uploads/');
    expect(await errorCode(single)).toBe('NAME_INVALID');
  });

  it('Basic auth with an access key works on /v2 as Harbor allows', async () => {
    const res = await fetch(`${s.url}/v2/team/app/tags/list`, { headers: { authorization: basic(s.admin) } });
    expect([200, 404]).toContain(res.status);
    expect(res.status).not.toBe(401);
  });
});

describe('an upload session survives a restart of the server', () => {
  it('continues after close and a new app on the same data', async () => {
    const first = await startServer({ db: 'sqlite' });
    const c1 = new OciClient(first.url, first.admin);
    await first.api('POST', '/api/v1/registries', { name: 'team' });
    const start = await c1.req('POST', '/v2/team/app/blobs/uploads/');
    const location = start.headers.get('location')!;
    await c1.req('PATCH', location, { body: Buffer.alloc(4096, 1), headers: { 'content-range': '0-4095' } });
    const dataDir = first.dataDir;
    await first.app.close();
    const second = await startServer({ db: 'sqlite', dataDir });
    try {
      const c2 = new OciClient(second.url, first.admin);
      const status = await c2.req('GET', location);
      expect(status.status).toBe(204);
      expect(status.headers.get('range')).toBe('0-4095');
      await c2.req('PATCH', location, { body: Buffer.alloc(100, 2), headers: { 'content-range': '4096-4195' } });
      const all = Buffer.concat([Buffer.alloc(4096, 1), Buffer.alloc(100, 2)]);
      const done = await c2.req('PUT', `${location}?digest=${sha256(all)}`);
      expect(done.status).toBe(201);
    } finally {
      await second.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
