/**
 * End-to-end: the real skopeo and podman clients against a real ncr server, on each database kind.
 *
 * Images are built locally as OCI layouts (test/helpers/oci-image.ts): no network, no Docker engine. podman runs
 * with a private vfs store per test and its own REGISTRY_AUTH_FILE (test/helpers/clients.ts). The server listens on
 * plain http on loopback, hence the --tls-verify=false family of flags everywhere.
 *
 * The server is the run's shared one (test/helpers/shared.ts): this file's registry and user have unique names.
 *
 * Set NCR_SKIP_REAL_CLIENTS=1 to skip this file when skopeo/podman cannot be installed.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/server.js';
import { sharedServer, unique, type SharedServer } from '../helpers/shared.js';
import { buildImage, buildIndex, readLayoutBlob, readLayoutTag, type BuiltImage, type BuiltIndex } from '../helpers/oci-image.js';
import { haveTool, podman, podmanResult, removePodmanStore, skopeo, skopeoResult } from '../helpers/clients.js';

const SKIP = process.env.NCR_SKIP_REAL_CLIENTS === '1';

// this file's registry and viewer on the shared server; NOSUCHREG is never created
const TEAM = unique('team');
const VERA = unique('vera');
const NOSUCHREG = unique('nosuchreg');

function sha256(data: string | Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

type Creds = { accessKey: string; secretKey: string };
const credStr = (c: Creds): string => `${c.accessKey}:${c.secretKey}`;

describe.skipIf(SKIP).each(DB_KINDS)('real clients (skopeo, podman) against ncr on %s', { timeout: 180_000 }, (db) => {
  let server: SharedServer;
  let workDir: string;
  let HOST: string;
  let admin: Creds;
  /** Temp dirs made by the current test, removed after it. */
  const testDirs: string[] = [];

  /** podman stores made by the current test, removed after it (with their relocated runroot, if any). */
  const podmanStores: string[] = [];

  async function tempDir(label: string): Promise<string> {
    const dir = await mkdtemp(join(workDir, `${label}-`));
    testDirs.push(dir);
    return dir;
  }

  async function podmanStore(label: string): Promise<string> {
    const dir = await mkdtemp(join(workDir, `${label}-`));
    podmanStores.push(dir);
    return dir;
  }

  // Shared fixtures, built/pushed once on first use so every test can also run on its own (-t).
  let app: BuiltImage;
  let appPushed: Promise<void> | undefined;
  function pushApp(): Promise<void> {
    appPushed ??= skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', credStr(admin), app.ref, `docker://${HOST}/${TEAM}/app:1.0`]).then(
      () => undefined,
    );
    return appPushed;
  }
  let multi: BuiltIndex;
  let multiPushed: Promise<void> | undefined;
  function pushMulti(): Promise<void> {
    multiPushed ??= skopeo([
      'copy',
      '--all',
      '--dest-tls-verify=false',
      '--dest-creds',
      credStr(admin),
      multi.ref,
      `docker://${HOST}/${TEAM}/multi:1.0`,
    ]).then(() => undefined);
    return multiPushed;
  }

  async function inspectRaw(ref: string, creds: Creds = admin): Promise<string> {
    return (await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', credStr(creds), `docker://${ref}`])).stdout;
  }

  beforeAll(async () => {
    for (const tool of ['skopeo', 'podman']) {
      if (!haveTool(tool)) {
        throw new Error(`${tool} is not installed: run \`npm test\` (scripts/test.sh installs it as root) or set NCR_SKIP_REAL_CLIENTS=1`);
      }
    }
    workDir = await mkdtemp(join(tmpdir(), `ncr-real-clients-${db}-`));
    server = sharedServer(db);
    HOST = server.host;
    admin = { accessKey: server.admin.accessKey, secretKey: server.admin.secretKey };
    const created = await server.api('POST', '/api/v1/registries', { name: TEAM });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.name).toBe(TEAM);
    app = await buildImage({ dir: join(workDir, 'app-layout'), tag: '1.0', layers: 2, layerSize: 64 * 1024, seed: `app-${db}` });
    multi = await buildIndex({
      dir: join(workDir, 'multi-layout'),
      tag: 'multi',
      platforms: [
        { os: 'linux', arch: 'amd64' },
        { os: 'linux', arch: 'arm64' },
      ],
      seed: `multi-${db}`,
    });
  });

  afterAll(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  afterEach(async () => {
    for (const dir of podmanStores.splice(0)) await removePodmanStore(dir);
    for (const dir of testDirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('a. podman login succeeds with the admin key and fails with a wrong secret', async () => {
    const store = await podmanStore('podman-login');
    const ok = await podman(['login', '--tls-verify=false', '-u', admin.accessKey, '-p', admin.secretKey, HOST], store);
    expect(ok.code).toBe(0);
    const auth = JSON.parse(await readFile(join(store, 'auth.json'), 'utf8'));
    expect(Object.keys(auth.auths ?? {})).toContain(HOST);

    const badStore = await podmanStore('podman-login-bad');
    const bad = await podmanResult(['login', '--tls-verify=false', '-u', admin.accessKey, '-p', admin.secretKey + 'x', HOST], badStore);
    expect(bad.code, `${bad.command}\n${bad.stderr}`).not.toBe(0);
    expect(bad.stderr).toMatch(/unauthori[sz]ed|invalid username\/password|401/i);
    const badAuth = JSON.parse(await readFile(join(badStore, 'auth.json'), 'utf8'));
    expect(Object.keys(badAuth.auths ?? {})).not.toContain(HOST);
  });

  it('b. skopeo copy oci → ncr → oci keeps the manifest digest, the tag and the blobs', async () => {
    await pushApp();
    const raw = await inspectRaw(`${HOST}/${TEAM}/app:1.0`);
    expect(sha256(raw)).toBe(app.manifestDigest);
    expect(JSON.parse(raw).mediaType).toBe('application/vnd.oci.image.manifest.v1+json');

    const info = JSON.parse((await skopeo(['inspect', '--tls-verify=false', '--creds', credStr(admin), `docker://${HOST}/${TEAM}/app:1.0`])).stdout);
    expect(info.Digest).toBe(app.manifestDigest);
    expect(info.RepoTags).toContain('1.0');
    expect(info.Architecture).toBe('amd64');
    expect(info.Layers).toEqual(app.layers.map((l) => l.digest));

    const back = await tempDir('app-back');
    await skopeo(['copy', '--src-tls-verify=false', '--src-creds', credStr(admin), `docker://${HOST}/${TEAM}/app:1.0`, `oci:${back}:1.0`]);
    const desc = await readLayoutTag(back, '1.0');
    expect(desc?.digest).toBe(app.manifestDigest);
    expect(Buffer.from(await readLayoutBlob(back, app.manifestDigest)).equals(Buffer.from(app.manifest))).toBe(true);
    expect(Buffer.from(await readLayoutBlob(back, app.configDigest)).equals(Buffer.from(app.config))).toBe(true);
    for (const layer of app.layers) {
      const bytes = await readLayoutBlob(back, layer.digest);
      expect(bytes.length).toBe(layer.size);
      expect(Buffer.from(bytes).equals(Buffer.from(layer.bytes))).toBe(true);
    }
  });

  it('c. podman pull HOST/team/app:1.0 stores the image with the expected architecture and digest', async () => {
    await pushApp();
    const store = await podmanStore('podman-pull');
    await podman(['pull', '--tls-verify=false', '--creds', credStr(admin), `${HOST}/${TEAM}/app:1.0`], store);
    const inspected = JSON.parse((await podman(['image', 'inspect', `${HOST}/${TEAM}/app:1.0`], store)).stdout);
    expect(inspected).toHaveLength(1);
    expect(inspected[0].Architecture).toBe('amd64');
    expect(inspected[0].Os).toBe('linux');
    expect(inspected[0].Digest).toBe(app.manifestDigest);
    expect(inspected[0].RepoDigests).toContain(`${HOST}/${TEAM}/app@${app.manifestDigest}`);
    // podman unpacked every layer and checked it against rootfs.diff_ids.
    expect(inspected[0].RootFS?.Layers).toEqual(app.diffIds);
  });

  it('d. a two-platform index round-trips with skopeo copy --all and keeps its digest', async () => {
    await pushMulti();
    const raw = await inspectRaw(`${HOST}/${TEAM}/multi:1.0`);
    expect(sha256(raw)).toBe(multi.indexDigest);
    const index = JSON.parse(raw);
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((m: { digest: string }) => m.digest)).toEqual(multi.children.map((c) => c.manifestDigest));
    expect(index.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).toEqual(['amd64', 'arm64']);

    // Each child is reachable by digest.
    for (const child of multi.children) {
      expect(sha256(await inspectRaw(`${HOST}/${TEAM}/multi@${child.manifestDigest}`))).toBe(child.manifestDigest);
    }

    const back = await tempDir('multi-back');
    await skopeo(['copy', '--all', '--src-tls-verify=false', '--src-creds', credStr(admin), `docker://${HOST}/${TEAM}/multi:1.0`, `oci:${back}:multi`]);
    const desc = await readLayoutTag(back, 'multi');
    expect(desc?.digest).toBe(multi.indexDigest);
    expect(Buffer.from(await readLayoutBlob(back, multi.indexDigest)).equals(Buffer.from(multi.index))).toBe(true);
    for (const child of multi.children) {
      for (const layer of child.layers) {
        expect(Buffer.from(await readLayoutBlob(back, layer.digest)).equals(Buffer.from(layer.bytes))).toBe(true);
      }
    }
  });

  it('d2. podman pull --arch arm64 of the index picks the arm64 child', async () => {
    await pushMulti();
    const arm = multi.children.find((c) => c.platform.arch === 'arm64')!;
    const store = await podmanStore('podman-pull-arm');
    await podman(['pull', '--tls-verify=false', '--creds', credStr(admin), '--arch', 'arm64', `${HOST}/${TEAM}/multi:1.0`], store);
    const inspected = JSON.parse((await podman(['image', 'inspect', `${HOST}/${TEAM}/multi:1.0`], store)).stdout);
    expect(inspected[0].Architecture).toBe('arm64');
    // podman reports the index digest as Digest and records both the index and the chosen child.
    expect(inspected[0].Digest).toBe(multi.indexDigest);
    expect(inspected[0].RepoDigests).toContain(`${HOST}/${TEAM}/multi@${arm.manifestDigest}`);
    expect(inspected[0].RootFS?.Layers).toEqual(arm.diffIds);
  });

  it('e. skopeo copy between repositories of the same registry (cross-repository mount) keeps the digest', async () => {
    await pushApp();
    await skopeo([
      'copy',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      '--src-creds',
      credStr(admin),
      '--dest-creds',
      credStr(admin),
      `docker://${HOST}/${TEAM}/app:1.0`,
      `docker://${HOST}/${TEAM}/other:1.0`,
    ]);
    expect(sha256(await inspectRaw(`${HOST}/${TEAM}/other:1.0`))).toBe(app.manifestDigest);
    const info = JSON.parse((await skopeo(['inspect', '--tls-verify=false', '--creds', credStr(admin), `docker://${HOST}/${TEAM}/other:1.0`])).stdout);
    expect(info.RepoTags).toContain('1.0');
    expect(info.Layers).toEqual(app.layers.map((l) => l.digest));
    // The source is untouched.
    expect(sha256(await inspectRaw(`${HOST}/${TEAM}/app:1.0`))).toBe(app.manifestDigest);
  });

  it('f. a viewer can pull with skopeo but cannot push', async () => {
    await pushApp();
    const user = await server.api('POST', '/api/v1/users', { username: VERA, password: 'vera-Passw0rd-long-enough', role: 'viewer' });
    expect(user.status, JSON.stringify(user.body)).toBe(201);
    expect(user.body.role).toBe('viewer');
    const key = await server.api('POST', `/api/v1/users/${VERA}/access-keys`);
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    const viewer: Creds = { accessKey: key.body.accessKey, secretKey: key.body.secretKey };
    expect(viewer.accessKey).toBeTruthy();
    expect(viewer.secretKey).toBeTruthy();

    const back = await tempDir('viewer-pull');
    await skopeo(['copy', '--src-tls-verify=false', '--src-creds', credStr(viewer), `docker://${HOST}/${TEAM}/app:1.0`, `oci:${back}:1.0`]);
    expect((await readLayoutTag(back, '1.0'))?.digest).toBe(app.manifestDigest);

    const own = await tempDir('viewer-img');
    const img = await buildImage({ dir: own, tag: 'v', layers: 1, layerSize: 2048, seed: `viewer-${db}` });
    const push = await skopeoResult(['copy', '--dest-tls-verify=false', '--dest-creds', credStr(viewer), img.ref, `docker://${HOST}/${TEAM}/app:viewer-push`]);
    expect(push.code, `viewer push unexpectedly succeeded:\n${push.stderr}`).not.toBe(0);
    expect(push.stderr).toMatch(/denied|unauthori[sz]ed|forbidden|insufficient/i);

    // Nothing was tagged.
    const probe = await skopeoResult(['inspect', '--raw', '--tls-verify=false', '--creds', credStr(admin), `docker://${HOST}/${TEAM}/app:viewer-push`]);
    expect(probe.code).not.toBe(0);
  });

  it('g. pushing into a registry that does not exist fails with NAME_UNKNOWN', async () => {
    const dir = await tempDir('nosuchreg');
    const img = await buildImage({ dir, tag: '1', layers: 1, layerSize: 1024, seed: `nosuchreg-${db}` });
    const res = await skopeoResult(['copy', '--dest-tls-verify=false', '--dest-creds', credStr(admin), img.ref, `docker://${HOST}/${NOSUCHREG}/app:1`]);
    expect(res.code, 'push into a missing registry unexpectedly succeeded').not.toBe(0);
    // containers/image renders the OCI error code NAME_UNKNOWN as "name unknown: <message>".
    expect(res.stderr).toMatch(/name unknown|NAME_UNKNOWN/i);
    expect(res.stderr).toMatch(/creat/i);
  });

  it('h. skopeo delete by digest removes the manifest', async () => {
    const dir = await tempDir('to-delete');
    const img = await buildImage({ dir, tag: 'doomed', layers: 1, layerSize: 4096, seed: `doomed-${db}` });
    await skopeo(['copy', '--dest-tls-verify=false', '--dest-creds', credStr(admin), img.ref, `docker://${HOST}/${TEAM}/app:doomed`]);
    expect(sha256(await inspectRaw(`${HOST}/${TEAM}/app@${img.manifestDigest}`))).toBe(img.manifestDigest);

    await skopeo(['delete', '--tls-verify=false', '--creds', credStr(admin), `docker://${HOST}/${TEAM}/app@${img.manifestDigest}`]);

    const byDigest = await skopeoResult(['inspect', '--raw', '--tls-verify=false', '--creds', credStr(admin), `docker://${HOST}/${TEAM}/app@${img.manifestDigest}`]);
    expect(byDigest.code).not.toBe(0);
    expect(byDigest.stderr).toMatch(/manifest unknown|not found|404/i);
  });
});
