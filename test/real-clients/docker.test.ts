/**
 * End-to-end: the real Docker engine and CLI (Debian's docker.io) against a real ncr server, on each database kind.
 *
 * The file starts its own dockerd (test/helpers/docker.ts), shared by every test and removed afterwards. It has no
 * network: images come from `docker import` of a tar written here, or from ncr itself (docker build pulls its base).
 * Each identity (admin, viewer) has its own DOCKER_CONFIG. ncr listens on plain http on 127.0.0.1, which dockerd
 * treats as an insecure registry by default; `docker manifest` needs --insecure for it.
 *
 * The ncr server is the run's shared one (test/helpers/shared.ts): this file's registry and user have unique names.
 *
 * Set NCR_SKIP_REAL_CLIENTS=1 to skip this file when docker.io cannot be installed (or without root).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerConfigAuths, dockerEngineUnavailable, dockerLogin, startDockerEngine, type DockerEngine, type DockerRunOptions } from '../helpers/docker.js';
import { createTar } from '../helpers/oci-image.js';
import { DB_KINDS } from '../helpers/server.js';
import { sharedServer, unique, type SharedServer } from '../helpers/shared.js';

const SKIP = process.env.NCR_SKIP_REAL_CLIENTS === '1';

// this file's registry and viewer on the shared server
const TEAM = unique('team');
const VERA = unique('vera');

const MT_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const MT_DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const MT_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MT_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

type Creds = { accessKey: string; secretKey: string };

function sha256(data: string | Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** The digest `docker push` reports: "<tag>: digest: sha256:… size: N". */
function pushedDigest(stdout: string): string {
  const m = /: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(stdout);
  if (!m) throw new Error(`no digest in docker push output:\n${stdout}`);
  return m[1];
}

describe.skipIf(SKIP)('real Docker engine against ncr', () => {
  let engine: DockerEngine;

  beforeAll(async () => {
    const unavailable = dockerEngineUnavailable();
    if (unavailable) throw new Error(`${unavailable}: run \`npm test\` as root (scripts/test.sh installs docker.io) or set NCR_SKIP_REAL_CLIENTS=1`);
    engine = await startDockerEngine();
  });

  afterAll(async () => {
    await engine?.stop();
  });

  describe.each(DB_KINDS)('on %s', { timeout: 120_000 }, (db) => {
    let server: SharedServer;
    let HOST: string;
    let admin: Creds;
    /** DOCKER_CONFIG of the admin identity, logged in once in beforeAll. */
    let adminConfig: string;
    let workDir: string;

    const docker = (args: string[], opts: DockerRunOptions = {}) => engine.docker(args, { config: adminConfig, ...opts });
    const dockerResult = (args: string[], opts: DockerRunOptions = {}) => engine.dockerResult(args, { config: adminConfig, ...opts });

    /** Removes local images (tags), ignoring ones that are not there: the next pull must talk to ncr. */
    async function removeLocal(...refs: string[]): Promise<void> {
      for (const ref of refs) {
        const res = await dockerResult(['image', 'rm', ref]);
        if (res.code !== 0 && !/No such image/i.test(res.stderr)) throw new Error(`${res.command}: ${res.stderr}`);
      }
      const left = (await docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n');
      for (const ref of refs) expect(left, `${ref} is still in the engine`).not.toContain(ref);
    }

    /** GET /v2/<name>/manifests/<ref> with Basic auth. */
    async function getManifest(name: string, ref: string, accept: string[], creds: Creds = admin) {
      const res = await fetch(`${server.url}/v2/${name}/manifests/${ref}`, {
        headers: {
          accept: accept.join(', '),
          authorization: 'Basic ' + Buffer.from(`${creds.accessKey}:${creds.secretKey}`).toString('base64'),
        },
      });
      const body = new Uint8Array(await res.arrayBuffer());
      return { status: res.status, headers: res.headers, body, json: () => JSON.parse(Buffer.from(body).toString('utf8')) };
    }

    /** Reads a file out of an image without running it: docker create + docker cp. */
    async function readFromImage(ref: string, path: string, opts: DockerRunOptions = {}): Promise<string> {
      const id = (await docker(['create', ref, '/not-run'], opts)).stdout.trim();
      try {
        const out = await mkdtemp(join(workDir, 'cp-'));
        await docker(['cp', `${id}:${path}`, out], opts);
        return await readFile(join(out, path.split('/').pop()!), 'utf8');
      } finally {
        await docker(['rm', id], opts);
      }
    }

    // The base image: a tiny rootfs written here, imported and pushed once (memoized, so each test runs alone too).
    const BASE_RELEASE = `ncr docker base on ${db}\n`;
    const baseTar = createTar([
      { name: 'etc/', type: 'dir' },
      { name: 'etc/base-release', type: 'file', data: Buffer.from(BASE_RELEASE) },
      { name: 'bin/', type: 'dir' },
      { name: 'bin/true', type: 'file', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
    ]);
    let base: Promise<{ digest: string }> | undefined;
    function pushBase(): Promise<{ digest: string }> {
      base ??= (async () => {
        const tarPath = join(workDir, 'base.tar');
        await writeFile(tarPath, baseTar);
        await docker(['import', tarPath, `${HOST}/${TEAM}/base:import`]);
        await docker(['tag', `${HOST}/${TEAM}/base:import`, `${HOST}/${TEAM}/base:1`]);
        const push = await docker(['push', `${HOST}/${TEAM}/base:1`]);
        return { digest: pushedDigest(push.stdout) };
      })();
      return base;
    }

    // The app image: built FROM the base in ncr with a COPY, pushed once.
    const MESSAGE = `hello from docker build on ${db}\n`;
    let app: Promise<{ digest: string; build: string }> | undefined;
    function pushApp(): Promise<{ digest: string; build: string }> {
      app ??= (async () => {
        await pushBase();
        // Without a local copy, the builder has to pull the base from ncr with the login's credentials.
        await removeLocal(`${HOST}/${TEAM}/base:1`, `${HOST}/${TEAM}/base:import`);
        const ctx = await mkdtemp(join(workDir, 'ctx-'));
        await writeFile(join(ctx, 'Dockerfile'), `FROM ${HOST}/${TEAM}/base:1\nCOPY message.txt /srv/message.txt\n`);
        await writeFile(join(ctx, 'message.txt'), MESSAGE);
        // The legacy builder: no BuildKit, no buildx, nothing to fetch.
        const build = await docker(['build', '--tag', `${HOST}/${TEAM}/app:1`, ctx], { env: { DOCKER_BUILDKIT: '0' } });
        const push = await docker(['push', `${HOST}/${TEAM}/app:1`]);
        return { digest: pushedDigest(push.stdout), build: build.stdout };
      })();
      return app;
    }

    beforeAll(async () => {
      workDir = await mkdtemp(join(engine.baseDir, `work-${db}-`));
      server = sharedServer(db);
      HOST = server.host;
      admin = { accessKey: server.admin.accessKey, secretKey: server.admin.secretKey };
      const created = await server.api('POST', '/api/v1/registries', { name: TEAM });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      adminConfig = await engine.newConfig(`admin-${db}`);
      const login = await dockerLogin(engine, HOST, admin, adminConfig);
      expect(login.code, `${login.command}\n${login.stderr}`).toBe(0);
    });

    afterAll(async () => {
      if (workDir) await rm(workDir, { recursive: true, force: true });
    });

    it('a. docker login stores the access key for ncr; a wrong secret key is refused and stores nothing', async () => {
      const auths = await dockerConfigAuths(adminConfig);
      expect(Object.keys(auths)).toContain(HOST);
      // The user name is the access key. ncr's token endpoint hands docker a refresh token at login, which docker keeps
      // (identitytoken) instead of the secret key; a registry without one would make docker keep the secret.
      const [user, secret] = Buffer.from(auths[HOST].auth ?? '', 'base64').toString().split(/:(.*)/s);
      expect(user).toBe(admin.accessKey);
      if (auths[HOST].identitytoken) expect(secret).toBe('');
      else expect(secret).toBe(admin.secretKey);

      const badConfig = await engine.newConfig(`bad-${db}`);
      const bad = await dockerLogin(engine, HOST, { ...admin, secretKey: admin.secretKey + 'x' }, badConfig);
      expect(bad.code, 'login with a wrong secret key unexpectedly succeeded').not.toBe(0);
      expect(bad.stderr).toMatch(/unauthorized/i);
      expect(Object.keys(await dockerConfigAuths(badConfig))).not.toContain(HOST);
    });

    it('b. docker import + push: ncr serves the Docker manifest under the pushed digest, with the imported tar as its layer', async () => {
      const { digest } = await pushBase();
      const res = await getManifest(`${TEAM}/base`, '1', [MT_DOCKER_MANIFEST, MT_OCI_MANIFEST]);
      expect(res.status).toBe(200);
      expect(res.headers.get('docker-content-digest')).toBe(digest);
      expect(sha256(res.body)).toBe(digest);
      const manifest = res.json();
      expect(manifest.mediaType).toBe(MT_DOCKER_MANIFEST);
      expect(manifest.layers).toHaveLength(1);

      // The config's only diff_id is the tar this test wrote: docker kept it byte for byte.
      const config = await fetch(`${server.url}/v2/${TEAM}/base/blobs/${manifest.config.digest}`, {
        headers: { authorization: 'Basic ' + Buffer.from(`${admin.accessKey}:${admin.secretKey}`).toString('base64') },
      });
      expect(config.status).toBe(200);
      const configJson = JSON.parse(await config.text());
      expect(configJson.rootfs.diff_ids).toEqual([sha256(baseTar)]);
      expect(configJson.architecture).toBe('amd64');
      expect(configJson.os).toBe('linux');

      const tags = await getTags(`${TEAM}/base`);
      expect(tags).toContain('1');
    });

    async function getTags(name: string): Promise<string[]> {
      const res = await fetch(`${server.url}/v2/${name}/tags/list`, {
        headers: { authorization: 'Basic ' + Buffer.from(`${admin.accessKey}:${admin.secretKey}`).toString('base64') },
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { tags: string[] }).tags;
    }

    it('c. docker build FROM an ncr image pulls it, pushes the result, and a fresh pull has the copied file', async () => {
      const { digest: baseDigest } = await pushBase();
      const { digest, build } = await pushApp();
      // The builder had no local base: it pulled it from ncr.
      expect(build).toMatch(new RegExp(`Downloaded newer image for ${HOST.replace(/[.]/g, '\\.')}/${TEAM}/base:1`));
      expect(digest).not.toBe(baseDigest);

      await removeLocal(`${HOST}/${TEAM}/app:1`, `${HOST}/${TEAM}/base:1`);
      const pull = await docker(['pull', `${HOST}/${TEAM}/app:1`]);
      expect(pull.stdout).toContain(`Digest: ${digest}`);
      expect(pull.stdout).toMatch(/Downloaded newer image/);
      const repoDigests = JSON.parse((await docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', `${HOST}/${TEAM}/app:1`])).stdout);
      expect(repoDigests).toContain(`${HOST}/${TEAM}/app@${digest}`);

      expect(await readFromImage(`${HOST}/${TEAM}/app:1`, '/srv/message.txt')).toBe(MESSAGE);
      // The base's layer came along.
      expect(await readFromImage(`${HOST}/${TEAM}/app:1`, '/etc/base-release')).toBe(BASE_RELEASE);

      const manifest = await getManifest(`${TEAM}/app`, '1', [MT_DOCKER_MANIFEST, MT_OCI_MANIFEST]);
      expect(manifest.status).toBe(200);
      expect(manifest.headers.get('docker-content-digest')).toBe(digest);
      expect(manifest.json().layers).toHaveLength(2);
    });

    it('d. docker manifest create + push makes a manifest list that ncr serves with both images', async () => {
      const { digest: baseDigest } = await pushBase();
      const { digest: appDigest } = await pushApp();
      await docker(['manifest', 'create', '--insecure', `${HOST}/${TEAM}/multi:1`, `${HOST}/${TEAM}/base:1`, `${HOST}/${TEAM}/app:1`]);
      const push = await docker(['manifest', 'push', '--insecure', `${HOST}/${TEAM}/multi:1`]);
      // "Pushed ref <name>@<child> with digest: <child>" per child (mounted into team/multi), then the list's digest.
      expect(push.stdout).toContain(`Pushed ref ${HOST}/${TEAM}/multi@${baseDigest} with digest: ${baseDigest}`);
      expect(push.stdout).toContain(`Pushed ref ${HOST}/${TEAM}/multi@${appDigest} with digest: ${appDigest}`);
      const listDigest = /^(sha256:[0-9a-f]{64})$/m.exec(push.stdout)?.[1];
      expect(listDigest, push.stdout).toBeDefined();

      const res = await getManifest(`${TEAM}/multi`, '1', [MT_DOCKER_LIST, MT_OCI_INDEX]);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(MT_DOCKER_LIST);
      expect(res.headers.get('docker-content-digest')).toBe(listDigest);
      expect(sha256(res.body)).toBe(listDigest);
      const list = res.json();
      expect(list.mediaType).toBe(MT_DOCKER_LIST);
      // docker lists the children in the order of its local manifest store, not of the command line.
      expect(list.manifests.map((m: { digest: string }) => m.digest).sort()).toEqual([baseDigest, appDigest].sort());
      for (const m of list.manifests) {
        expect(m.mediaType).toBe(MT_DOCKER_MANIFEST);
        expect(m.platform).toMatchObject({ os: 'linux', architecture: 'amd64' });
      }
      // Each child is there by digest.
      for (const d of [baseDigest, appDigest]) {
        const child = await getManifest(`${TEAM}/multi`, d, [MT_DOCKER_MANIFEST, MT_OCI_MANIFEST]);
        expect(child.status, `${TEAM}/multi@${d}`).toBe(200);
        expect(sha256(child.body)).toBe(d);
      }
    });

    it('e. a viewer can docker pull but docker push is denied', async () => {
      const { digest } = await pushApp();
      const user = await server.api('POST', '/api/v1/users', { username: VERA, role: 'viewer', password: 'vera-Passw0rd-long-enough' });
      expect(user.status, JSON.stringify(user.body)).toBe(201);
      const key = await server.api('POST', `/api/v1/users/${VERA}/access-keys`);
      expect(key.status, JSON.stringify(key.body)).toBe(201);
      const viewer: Creds = { accessKey: key.body.accessKey, secretKey: key.body.secretKey };
      const config = await engine.newConfig(`vera-${db}`);
      const login = await dockerLogin(engine, HOST, viewer, config);
      expect(login.code, login.stderr).toBe(0);

      await removeLocal(`${HOST}/${TEAM}/app:1`);
      const pull = await docker(['pull', `${HOST}/${TEAM}/app:1`], { config });
      expect(pull.stdout).toContain(`Digest: ${digest}`);
      expect(await readFromImage(`${HOST}/${TEAM}/app:1`, '/srv/message.txt', { config })).toBe(MESSAGE);

      // A new layer (so the push has to upload a blob) under a new tag.
      const tarPath = join(workDir, 'vera.tar');
      await writeFile(tarPath, createTar([{ name: 'vera.txt', type: 'file', data: Buffer.from(`vera on ${db}\n`) }]));
      await docker(['import', tarPath, `${HOST}/${TEAM}/app:vera`], { config });
      const push = await engine.dockerResult(['push', `${HOST}/${TEAM}/app:vera`], { config });
      expect(push.code, `viewer push unexpectedly succeeded:\n${push.stdout}`).not.toBe(0);
      expect(push.stderr).toMatch(/denied/i);
      expect(push.stdout).not.toMatch(/digest: sha256:/);
      expect(await getTags(`${TEAM}/app`)).not.toContain('vera');
      expect((await getManifest(`${TEAM}/app`, 'vera', [MT_DOCKER_MANIFEST, MT_OCI_MANIFEST])).status).toBe(404);
    });

    it('f. after docker logout the same pull is refused as unauthorized', async () => {
      await pushApp();
      const config = await engine.newConfig(`logout-${db}`);
      const login = await dockerLogin(engine, HOST, admin, config);
      expect(login.code, login.stderr).toBe(0);
      expect(Object.keys(await dockerConfigAuths(config))).toContain(HOST);
      await removeLocal(`${HOST}/${TEAM}/app:1`);
      // Logged in, the pull works...
      await docker(['pull', `${HOST}/${TEAM}/app:1`], { config });
      await removeLocal(`${HOST}/${TEAM}/app:1`);

      await docker(['logout', HOST], { config });
      expect(Object.keys(await dockerConfigAuths(config))).not.toContain(HOST);
      // ...logged out, it does not.
      const pull = await engine.dockerResult(['pull', `${HOST}/${TEAM}/app:1`], { config });
      expect(pull.code, `pull after logout unexpectedly succeeded:\n${pull.stdout}`).not.toBe(0);
      expect(pull.stderr).toMatch(/unauthorized/i);
      const left = (await docker(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n');
      expect(left).not.toContain(`${HOST}/${TEAM}/app:1`);
    });
  });
});
