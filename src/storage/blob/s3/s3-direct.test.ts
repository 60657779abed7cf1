import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectS3 } from './s3-direct.js';

/** A stand-in S3 endpoint: answers by path, and records what it was asked. */
describe('DirectS3.get', () => {
  let server: Server;
  let direct: DirectS3;
  let s3: S3Client;
  const asked: { url?: string; auth?: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      asked.push({ url: req.url, auth: req.headers.authorization });
      if (req.url === '/bkt/plain') return res.writeHead(200, { 'content-length': 5 }).end('plain');
      if (req.url === '/bkt/chunked') {
        res.write('chun');
        return res.end('ked');
      }
      res.writeHead(404, { 'content-type': 'application/xml', 'content-length': 60 }).end('<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>'.padEnd(60));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } });
    direct = new DirectS3(s3, endpoint, 'bkt', true);
  });
  afterAll(async () => {
    direct.close();
    s3.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const text = async (b: AsyncIterable<Buffer>) => {
    let t = '';
    for await (const c of b) t += c.toString();
    return t;
  };

  it('signs the GET and reads the body; a missing key is S3RequestError NoSuchKey with status 404', async () => {
    const r = await direct.get('plain');
    expect(await text(r.body)).toBe('plain');
    expect(r.headers['content-length']).toBe('5');
    expect(asked.at(-1)?.auth).toMatch(/^AWS4-HMAC-SHA256 Credential=AK\//);
    await expect(direct.get('missing')).rejects.toMatchObject({ code: 'NoSuchKey', status: 404, message: expect.stringContaining('gone') });
  });

  it('a body framed without Content-Length is read by Node\'s client instead, then and afterwards (two at once too)', async () => {
    const both = await Promise.all([direct.get('chunked'), direct.get('chunked')]);
    for (const r of both) expect(await text(r.body)).toBe('chunked');
    const again = await direct.get('plain');
    expect(await text(again.body)).toBe('plain');
  });
});
