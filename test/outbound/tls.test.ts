/**
 * HTTPS to a remote whose certificate no system CA signed: refused with a clear TLS error, accepted once the
 * endpoint's extra CA (PEM) is given; the system CAs stay trusted besides it.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OciRemoteClient } from '../../src/outbound/oci-client.js';
import { selfSigned } from '../webhooks/receiver.js';

describe('OCI client over HTTPS with an extra CA', () => {
  let server: https.Server;
  let url: string;
  let cert: Buffer;

  beforeAll(async () => {
    const pair = selfSigned();
    cert = pair.cert;
    server = https.createServer({ key: pair.key, cert: pair.cert }, (_req, res) => res.writeHead(200, { 'docker-distribution-api-version': 'registry/2.0' }).end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('refuses an unknown CA, then trusts the endpoint CA given', async () => {
    await expect(new OciRemoteClient({ url, allowPrivateNetworks: true, attempts: 1 }).ping()).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/TLS failed/) });
    await new OciRemoteClient({ url, allowPrivateNetworks: true, caPem: cert.toString('utf8') }).ping();
  });
});
