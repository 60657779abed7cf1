/**
 * What the multi-node tests (test/multinode, test/s3) share: a token from one node's /service/token, a push with one
 * Authorization header, and polling until another node agrees.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { basic, sha256, type Creds } from '../helpers/oci-client.js';
import type { TestServer } from '../helpers/server.js';

export const MT_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A registry token from `s`'s /service/token for `scope`, as `docker login` and a pull get it (Basic with the key). */
export async function tokenFrom(s: Pick<TestServer, 'url' | 'host'>, creds: Creds, scope: string): Promise<string> {
  const res = await fetch(`${s.url}/service/token?service=${s.host}&scope=${encodeURIComponent(scope)}`, { headers: { authorization: basic(creds) } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

/** Pushes a config blob, a layer and a manifest through `s` with one Authorization header; returns their digests. */
export async function pushWith(s: Pick<TestServer, 'url'>, auth: string, repo: string, tag: string, seed: string) {
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, seed });
  const layer = `layer-${seed}-${randomBytes(64).toString('hex')}`;
  for (const blob of [config, layer]) {
    const res = await fetch(`${s.url}/v2/${repo}/blobs/uploads/?digest=${sha256(blob)}`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/octet-stream' }, body: blob });
    expect(res.status, await res.text()).toBe(201);
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MT_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: Buffer.byteLength(config) },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: Buffer.byteLength(layer) }],
  });
  const res = await fetch(`${s.url}/v2/${repo}/manifests/${tag}`, { method: 'PUT', headers: { authorization: auth, 'content-type': MT_MANIFEST }, body: manifest });
  expect(res.status, await res.text()).toBe(201);
  return { digest: sha256(manifest), blobs: [sha256(config), sha256(layer)] };
}

/** Calls `probe` every 100 ms until it returns `want` (or `withinMs` passes); resolves with the elapsed time. */
export async function until<T>(probe: () => Promise<T>, want: T, withinMs: number): Promise<{ ms: number; last: T }> {
  const start = Date.now();
  let last = await probe();
  while (last !== want && Date.now() - start < withinMs) {
    await sleep(100);
    last = await probe();
  }
  return { ms: Date.now() - start, last };
}
