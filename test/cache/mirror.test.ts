/**
 * Registry-mirror mode (cache.mirrorRegistry): `/v2/library/app/...`, whose first component is no local registry, is
 * served from the mirror's cache registry (pulled through from its source), with Basic auth and with skopeo's token
 * flow (the token names library/app); a local registry's names are served as they are.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skopeo } from '../helpers/clients.js';
import { OciClient } from '../helpers/oci-client.js';
import { startServer, type TestServer } from '../helpers/server.js';

describe('image cache as a registry mirror', () => {
  let s: TestServer;
  let source: TestServer;
  let pushed: { digest: string };
  let local: { digest: string };
  const basic = () => 'Basic ' + Buffer.from(`${s.admin.accessKey}:${s.admin.secretKey}`).toString('base64');

  beforeAll(async () => {
    [s, source] = await Promise.all([startServer({ db: 'sqlite', config: { endpoints: { allowPrivateNetworks: true }, cache: { mirrorRegistry: 'hub' } } }), startServer({ db: 'sqlite' })]);
    expect((await source.api('POST', '/api/v1/registries', { name: 'library' })).status).toBe(201);
    pushed = await new OciClient(source.url, source.admin).pushImage('library/app', '1.0', 'mirror-src');
    expect((await s.api('POST', '/api/v1/endpoints', { name: 'up', provider: 'ncr', url: source.url, accessId: source.admin.accessKey, secret: source.admin.secretKey })).status).toBe(201);
    expect((await s.api('POST', '/api/v1/registries', { name: 'hub', kind: 'cache', endpoint: 'up' })).status).toBe(201);
    expect((await s.api('POST', '/api/v1/registries', { name: 'team' })).status).toBe(201);
    local = await new OciClient(s.url, s.admin).pushImage('team/app', '1.0', 'mirror-local');
  });
  afterAll(async () => Promise.all([s?.close(), source?.close()]));

  it('serves /v2/library/app from the mirror cache registry', async () => {
    const res = await fetch(`${s.url}/v2/library/app/manifests/1.0`, { headers: { authorization: basic(), accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('docker-content-digest')).toBe(pushed.digest);
    const images = await s.api('GET', '/api/v1/registries/hub/images');
    expect(images.body.items.map((i: { name: string }) => i.name)).toEqual(['library/app']);
  });

  it('honours a token scoped to the name the client asked for (skopeo)', async () => {
    const out = await skopeo(['inspect', '--tls-verify=false', '--creds', `${s.admin.accessKey}:${s.admin.secretKey}`, `docker://${s.host}/library/app:1.0`]);
    expect(JSON.parse(out.stdout).Digest).toBe(pushed.digest);
  });

  it('serves a local registry as it is, and does not mirror its misses', async () => {
    const res = await fetch(`${s.url}/v2/team/app/manifests/1.0`, { headers: { authorization: basic(), accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(res.headers.get('docker-content-digest')).toBe(local.digest);
    const miss = await fetch(`${s.url}/v2/team/nothing/manifests/1.0`, { headers: { authorization: basic() } });
    expect(miss.status).toBe(404);
  });
});
