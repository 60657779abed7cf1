/**
 * The ECR token exchange against a stand-in for ECR's API on loopback: the request is GetAuthorizationToken for the
 * registry, SigV4-signed for the region with the key id (never carrying the secret key), and the answer's base64
 * "AWS:password" becomes Basic credentials.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ecrTokenSource } from './ecr-token.js';

describe('ecrTokenSource', () => {
  let server: Server;
  let url: string;
  const seen: { headers: IncomingMessage['headers']; body: string }[] = [];
  let answer = { status: 200, body: {} as unknown };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('signs GetAuthorizationToken with SigV4 for the region and turns the token into Basic credentials', async () => {
    const expires = new Date('2026-12-04T00:00:00Z');
    answer = { status: 200, body: { authorizationData: [{ authorizationToken: Buffer.from('AWS:the-password').toString('base64'), expiresAt: expires.getTime() / 1000 }] } };
    const t = await ecrTokenSource({ apiUrl: url })({ region: 'ap-northeast-2', registryId: '123456789012', accessKeyId: 'AKIAEXAMPLEKEY', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG' });
    expect(t).toEqual({ username: 'AWS', password: 'the-password', expiresAt: expires.getTime() });
    const req = seen.at(-1)!;
    expect(req.headers['x-amz-target']).toBe('AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken');
    expect(req.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEKEY\/\d{8}\/ap-northeast-2\/ecr\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/);
    expect(JSON.parse(req.body)).toEqual({ registryIds: ['123456789012'] });
    expect(JSON.stringify(req)).not.toContain('wJalrXUtnFEMI');
  });

  it('a refused key is UNAUTHORIZED naming the key id, not the secret', async () => {
    answer = { status: 400, body: { __type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' } };
    const err = await ecrTokenSource({ apiUrl: url })({ region: 'us-east-1', accessKeyId: 'AKIABAD', secretAccessKey: 'secret-xyz' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAUTHORIZED' });
    expect((err as Error).message).toContain('AKIABAD');
    expect((err as Error).message).not.toContain('secret-xyz');
  });
});
