/**
 * An image cache registry pulled through with the real clients, on both databases: skopeo and podman pull
 * `HOST/CACHE/library/IMG:TAG` from Debian's docker-registry (distribution, htpasswd auth) through ncr; podman pulls
 * one platform of a multi-arch index; with the source process stopped, a fresh podman store still pulls the cached
 * image. The Docker engine (a private dockerd, test/helpers/docker.ts, one for the file) pulls an image through the cache,
 * and pulls it again after `docker rmi` with the source stopped. Set NCR_SKIP_REAL_CLIENTS=1 to skip this file when
 * skopeo/podman/docker cannot be installed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { podman, removePodmanStore, skopeo } from '../helpers/clients.js';
import { dockerEngineUnavailable, dockerLogin, startDockerEngine, type DockerEngine } from '../helpers/docker.js';
import { buildImage, buildIndex, type BuiltImage, type BuiltIndex } from '../helpers/oci-image.js';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';
import { startDistribution, type Distribution } from '../outbound/distribution.js';

const SKIP = process.env.NCR_SKIP_REAL_CLIENTS === '1';

/** The file's one Docker engine, started by the first test that needs it (both databases' tests share it). */
let engine: Promise<DockerEngine> | undefined;
function dockerEngine(): Promise<DockerEngine> {
  const unavailable = dockerEngineUnavailable();
  if (unavailable) throw new Error(`${unavailable}: run \`npm test\` as root (scripts/test.sh installs docker.io) or set NCR_SKIP_REAL_CLIENTS=1`);
  return (engine ??= startDockerEngine());
}
afterAll(async () => (await engine)?.stop());

describe.skipIf(SKIP).each(DB_KINDS)('image cache with skopeo and podman (%s)', { timeout: 180_000 }, (db) => {
  let d: Distribution;
  let s: TestServer;
  let dir: string;
  let app: BuiltImage;
  let multi: BuiltIndex;
  let dock: BuiltImage;
  const clock = new ManualClock();
  const cache = 'mirror';
  const stores: string[] = [];
  let distHost: string;

  const admin = () => `${s.admin.accessKey}:${s.admin.secretKey}`;
  async function store(label: string): Promise<string> {
    const p = await mkdtemp(join(dir, `${label}-`));
    stores.push(p);
    return p;
  }

  beforeAll(async () => {
    [d, s] = await Promise.all([startDistribution(), startServer({ db, adapters: { clock }, config: { endpoints: { allowPrivateNetworks: true } } })]);
    distHost = new URL(d.url).host;
    dir = await mkdtemp(join(tmpdir(), 'ncr-cache-rc-'));
    app = await buildImage({ dir: join(dir, 'app'), layers: 2, layerSize: 200_000, seed: `cache-rc-app-${db}`, tag: '1.0' });
    multi = await buildIndex({ dir: join(dir, 'multi'), platforms: [{ os: 'linux', arch: 'amd64' }, { os: 'linux', arch: 'arm64' }], layers: 1, layerSize: 50_000, seed: `cache-rc-multi-${db}`, tag: '2.0' });
    const dest = ['--dest-tls-verify=false', '--dest-creds', `${d.user}:${d.password}`];
    await skopeo(['copy', ...dest, app.ref, `docker://${distHost}/library/app:1.0`]);
    await skopeo(['copy', '--all', ...dest, multi.ref, `docker://${distHost}/library/multi:2.0`]);
    // docker's own image: the first pull of it, by docker, is what fills the cache
    dock = await buildImage({ dir: join(dir, 'dock'), layers: 2, layerSize: 100_000, seed: `cache-rc-dock-${db}`, tag: '3.0' });
    await skopeo(['copy', ...dest, dock.ref, `docker://${distHost}/library/dock:3.0`]);
    expect((await s.api('POST', '/api/v1/endpoints', { name: 'dist', provider: 'docker-registry', url: d.url, accessId: d.user, secret: d.password })).status).toBe(201);
    expect((await s.api('POST', '/api/v1/registries', { name: cache, kind: 'cache', endpoint: 'dist' })).status).toBe(201);
  });
  afterAll(async () => {
    for (const p of stores) await removePodmanStore(p).catch(() => undefined);
    await Promise.all([s?.close(), d?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('skopeo copies CACHE/library/app:1.0 out of the cache with the source digest', async () => {
    const out = join(dir, 'copied');
    await skopeo(['copy', '--src-tls-verify=false', '--src-creds', admin(), `docker://${s.host}/${cache}/library/app:1.0`, `oci:${out}:1.0`]);
    const inspected = JSON.parse((await skopeo(['inspect', '--tls-verify=false', '--creds', admin(), `docker://${s.host}/${cache}/library/app:1.0`])).stdout);
    expect(inspected.Digest).toBe(app.manifestDigest);
  });

  it('podman pulls one platform of a multi-arch index through the cache', async () => {
    const st = await store('multi');
    await podman(['pull', '--tls-verify=false', '--creds', admin(), '--arch', 'arm64', `${s.host}/${cache}/library/multi:2.0`], st);
    const inspected = JSON.parse((await podman(['image', 'inspect', `${s.host}/${cache}/library/multi:2.0`], st)).stdout);
    const arm = multi.children.find((c) => c.platform.arch === 'arm64')!;
    expect(inspected[0].Architecture).toBe('arm64');
    expect(inspected[0].RootFS?.Layers).toEqual(arm.diffIds);
  });

  it('docker pulls CACHE/library/dock:3.0 through ncr from the source', async () => {
    const e = await dockerEngine();
    const config = await e.newConfig(db);
    expect((await dockerLogin(e, s.host, s.admin, config)).code).toBe(0);
    const ref = `${s.host}/${cache}/library/dock:3.0`;
    const pulled = await e.docker(['pull', ref], { config });
    expect(pulled.stdout).toContain(`Digest: ${dock.manifestDigest}`);
    const layers = JSON.parse((await e.docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', ref], { config })).stdout);
    expect(layers).toEqual(dock.diffIds);
  });

  it('podman pulls the cached image while the source is stopped', async () => {
    const first = await store('first');
    await podman(['pull', '--tls-verify=false', '--creds', admin(), `${s.host}/${cache}/library/app:1.0`], first);
    await d.stop();
    clock.advance(120_000); // past the recheck window: the source is asked, cannot answer, and the copy is served
    const second = await store('second');
    await podman(['pull', '--tls-verify=false', '--creds', admin(), `${s.host}/${cache}/library/app:1.0`], second);
    const inspected = JSON.parse((await podman(['image', 'inspect', `${s.host}/${cache}/library/app:1.0`], second)).stdout);
    expect(inspected[0].Digest).toBe(app.manifestDigest);
    expect(inspected[0].RootFS?.Layers).toEqual(app.diffIds);
  });
  it('docker pulls CACHE/library/dock:3.0 again after docker rmi, with the source stopped', async () => {
    const e = await dockerEngine();
    const config = await e.newConfig(`${db}-stopped`);
    expect((await dockerLogin(e, s.host, s.admin, config)).code).toBe(0);
    const ref = `${s.host}/${cache}/library/dock:3.0`;
    await d.stop();
    clock.advance(120_000); // past the recheck window: the source is asked, cannot answer, and the copy is served
    await e.docker(['rmi', ref], { config });
    expect((await e.dockerResult(['image', 'inspect', ref], { config })).code).not.toBe(0);
    const pulled = await e.docker(['pull', ref], { config });
    expect(pulled.stdout).toContain(`Digest: ${dock.manifestDigest}`);
    // every layer came again: none was left in the engine (one image, its own layers)
    expect(pulled.stdout.match(/Pull complete/g)).toHaveLength(dock.diffIds.length);
    const layers = JSON.parse((await e.docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', ref], { config })).stdout);
    expect(layers).toEqual(dock.diffIds);
  });
});
