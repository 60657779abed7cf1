/** Manifests, tags, referrers and the catalog over /v2, on the run's shared server (test/helpers/shared.ts). */
import { beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../helpers/server.js';
import { sharedServer, unique, type SharedServer } from '../helpers/shared.js';
import { errorCode, OciClient, sha256 } from '../helpers/oci-client.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

// this file's registries on the shared server
const TEAM = unique('team');
const FLEETING = unique('fleeting');

describe.each(DB_KINDS)('manifests, tags, referrers, catalog (%s)', (db) => {
  let s: SharedServer;
  let c: OciClient;
  beforeAll(async () => {
    s = sharedServer(db);
    c = new OciClient(s.url, s.admin);
    expect((await s.api('POST', '/api/v1/registries', { name: TEAM })).status).toBe(201);
  });

  it('PUT by tag; GET and HEAD by tag and digest return the bytes exactly as pushed', async () => {
    const { body, digest } = await c.pushImage(`${TEAM}/app`, '1.0', 'a');
    for (const ref of ['1.0', digest]) {
      const get = await c.req('GET', `/v2/${TEAM}/app/manifests/${ref}`, { headers: { accept: OCI_MANIFEST } });
      expect(get.status).toBe(200);
      expect(get.headers.get('content-type')).toBe(OCI_MANIFEST);
      expect(get.headers.get('docker-content-digest')).toBe(digest);
      expect(await get.text()).toBe(body);
      const head = await c.req('HEAD', `/v2/${TEAM}/app/manifests/${ref}`);
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(body)));
    }
    // Bytes are kept as pushed, whitespace included.
    const spaced = JSON.stringify(JSON.parse(body), null, 3);
    const put = await c.pushManifest(`${TEAM}/app`, 'spaced', spaced);
    expect(put.status).toBe(201);
    expect(put.headers.get('docker-content-digest')).toBe(sha256(spaced));
    expect(await (await c.req('GET', `/v2/${TEAM}/app/manifests/spaced`)).text()).toBe(spaced);
  });

  it('PUT by digest checks the digest', async () => {
    const { body } = await c.pushImage(`${TEAM}/app`, 'tmp', 'b');
    const ok = await c.pushManifest(`${TEAM}/app`, sha256(body), body);
    expect(ok.status).toBe(201);
    const bad = await c.pushManifest(`${TEAM}/app`, sha256('something else'), body);
    expect(bad.status).toBe(400);
    expect(await errorCode(bad)).toBe('DIGEST_INVALID');
  });

  it('Docker schema 2 manifests are accepted; schema 1 is refused', async () => {
    const config = await c.pushBlob(`${TEAM}/docker`, '{"architecture":"amd64","os":"linux"}');
    const layer = await c.pushBlob(`${TEAM}/docker`, 'docker layer');
    const m = {
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: config, size: 37 },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: layer, size: 12 }],
    };
    const put = await c.pushManifest(`${TEAM}/docker`, 'v2', m, DOCKER_MANIFEST);
    expect(put.status).toBe(201);
    const get = await c.req('GET', `/v2/${TEAM}/docker/manifests/v2`, { headers: { accept: `${DOCKER_MANIFEST}, ${OCI_MANIFEST}` } });
    expect(get.headers.get('content-type')).toBe(DOCKER_MANIFEST);
    const s1 = await c.pushManifest(`${TEAM}/docker`, 'v1', { schemaVersion: 1, name: `${TEAM}/docker`, tag: 'v1', fsLayers: [] }, 'application/vnd.docker.distribution.manifest.v1+prettyjws');
    expect(s1.status).toBe(400);
    expect(await errorCode(s1)).toBe('MANIFEST_INVALID');
  });

  it('content negotiation: a tag whose type is not in Accept is not served', async () => {
    await c.pushImage(`${TEAM}/neg`, 'v', 'n');
    const res = await c.req('GET', `/v2/${TEAM}/neg/manifests/v`, { headers: { accept: DOCKER_MANIFEST } });
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe('MANIFEST_UNKNOWN');
  });

  it('a manifest whose blobs are not in the repository is MANIFEST_BLOB_UNKNOWN', async () => {
    const m = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('absent config'), size: 14 },
      layers: [],
    };
    const res = await c.pushManifest(`${TEAM}/app`, 'missing', m);
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('MANIFEST_BLOB_UNKNOWN');
  });

  it('an index needs its children; with them it is stored and lists platforms', async () => {
    const amd = await c.pushImage(`${TEAM}/multi`, 'amd', 'amd');
    const arm = await c.pushImage(`${TEAM}/multi`, 'arm', 'arm');
    const child = (d: { digest: string; body: string }, arch: string) => ({ mediaType: OCI_MANIFEST, digest: d.digest, size: Buffer.byteLength(d.body), platform: { os: 'linux', architecture: arch } });
    const missing = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [child(amd, 'amd64'), { ...child(arm, 'arm64'), digest: sha256('nope') }] };
    const bad = await c.pushManifest(`${TEAM}/multi`, 'latest', missing, OCI_INDEX);
    expect(bad.status).toBe(400);
    expect(await errorCode(bad)).toBe('MANIFEST_BLOB_UNKNOWN');
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [child(amd, 'amd64'), child(arm, 'arm64')] };
    const ok = await c.pushManifest(`${TEAM}/multi`, 'latest', index, OCI_INDEX);
    expect(ok.status).toBe(201);
    const list = await s.api('GET', `/api/v1/registries/${TEAM}/images/multi/artifacts`);
    const idx = list.body.items.find((a: { digest: string }) => a.digest === sha256(JSON.stringify(index)));
    expect(idx.platforms).toEqual(['linux/amd64', 'linux/arm64']);
  });

  it('over 4 MiB is 413', async () => {
    const big = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, annotations: { pad: 'x'.repeat(4 * 1024 * 1024) } });
    const res = await c.pushManifest(`${TEAM}/app`, 'big', big);
    expect(res.status).toBe(413);
    expect(await errorCode(res)).toBe('MANIFEST_TOO_LARGE');
  });

  it('a method an endpoint lacks is 405 METHOD_NOT_ALLOWED with Allow; a path that is no endpoint is 404 NOT_FOUND', async () => {
    const patch = await c.req('PATCH', `/v2/${TEAM}/app/manifests/1.0`);
    expect(patch.status).toBe(405);
    expect(patch.headers.get('allow')).toBe('GET, HEAD, PUT, DELETE');
    expect(await errorCode(patch)).toBe('METHOD_NOT_ALLOWED');
    const nowhere = await c.req('GET', `/v2/${TEAM}/app/nowhere`);
    expect(nowhere.status).toBe(404);
    expect(await errorCode(nowhere)).toBe('NOT_FOUND');
  });

  it('subject → OCI-Subject; referrers with artifactType filtering', async () => {
    const subject = await c.pushImage(`${TEAM}/ref`, 'main', 'subj');
    const empty = await c.pushBlob(`${TEAM}/ref`, '{}');
    const mk = (type: string, n: string) => ({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: type,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: empty, size: 2 },
      layers: [],
      subject: { mediaType: OCI_MANIFEST, digest: subject.digest, size: Buffer.byteLength(subject.body) },
      annotations: { n },
    });
    const sig = mk('application/vnd.example.sig', '1');
    const sbom = mk('application/vnd.example.sbom', '2');
    const r1 = await c.pushManifest(`${TEAM}/ref`, sha256(JSON.stringify(sig)), sig);
    expect(r1.status).toBe(201);
    expect(r1.headers.get('oci-subject')).toBe(subject.digest);
    await c.pushManifest(`${TEAM}/ref`, sha256(JSON.stringify(sbom)), sbom);
    const all = await c.req('GET', `/v2/${TEAM}/ref/referrers/${subject.digest}`);
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toBe(OCI_INDEX);
    const idx = (await all.json()) as { manifests: { artifactType: string; annotations: Record<string, string> }[] };
    expect(idx.manifests.map((m) => m.artifactType).sort()).toEqual(['application/vnd.example.sbom', 'application/vnd.example.sig']);
    const filtered = await c.req('GET', `/v2/${TEAM}/ref/referrers/${subject.digest}?artifactType=application/vnd.example.sig`);
    expect(filtered.headers.get('oci-filters-applied')).toBe('artifactType');
    const f = (await filtered.json()) as { manifests: { annotations: Record<string, string> }[] };
    expect(f.manifests).toHaveLength(1);
    expect(f.manifests[0].annotations.n).toBe('1');
    const none = await c.req('GET', `/v2/${TEAM}/ref/referrers/${sha256('no referrers')}`);
    expect(((await none.json()) as { manifests: unknown[] }).manifests).toEqual([]);
  });

  it('tags list with n, last and Link; catalog paginated the same way', async () => {
    for (const t of ['a', 'b', 'c', 'd', 'e']) await c.pushImage(`${TEAM}/tags`, t, 'same');
    const first = await c.req('GET', `/v2/${TEAM}/tags/tags/list?n=2`);
    expect(await first.json()).toEqual({ name: `${TEAM}/tags`, tags: ['a', 'b'] });
    expect(first.headers.get('link')).toBe(`</v2/${TEAM}/tags/tags/list?n=2&last=b>; rel="next"`);
    const next = await c.req('GET', `/v2/${TEAM}/tags/tags/list?n=2&last=b`);
    expect(((await next.json()) as { tags: string[] }).tags).toEqual(['c', 'd']);
    const last = await c.req('GET', `/v2/${TEAM}/tags/tags/list?n=2&last=d`);
    expect(((await last.json()) as { tags: string[] }).tags).toEqual(['e']);
    expect(last.headers.get('link')).toBeNull();
    const cat = await c.req('GET', '/v2/_catalog?n=2', { scopes: ['registry:catalog:*'] });
    expect(cat.status).toBe(200);
    const page = (await cat.json()) as { repositories: string[] };
    expect(page.repositories).toHaveLength(2);
    expect(cat.headers.get('link')).toContain(`last=${encodeURIComponent(page.repositories[1])}`);
    const rest = await c.req('GET', `/v2/_catalog?n=1000&last=${encodeURIComponent(page.repositories[1])}`);
    const restNames = ((await rest.json()) as { repositories: string[] }).repositories;
    expect(restNames).toContain(`${TEAM}/tags`);
    expect(restNames).not.toContain(page.repositories[0]);
  });

  it('DELETE by tag removes only the tag; by digest removes the artifact and its tags', async () => {
    const img = await c.pushImage(`${TEAM}/del`, 'one', 'del');
    await c.pushManifest(`${TEAM}/del`, 'two', img.body);
    expect((await c.req('DELETE', `/v2/${TEAM}/del/manifests/one`)).status).toBe(202);
    expect((await c.req('GET', `/v2/${TEAM}/del/manifests/one`)).status).toBe(404);
    expect((await c.req('GET', `/v2/${TEAM}/del/manifests/two`)).status).toBe(200);
    expect((await c.req('DELETE', `/v2/${TEAM}/del/manifests/${img.digest}`)).status).toBe(202);
    const gone = await c.req('GET', `/v2/${TEAM}/del/manifests/${img.digest}`);
    expect(await errorCode(gone)).toBe('MANIFEST_UNKNOWN');
    expect((await c.req('GET', `/v2/${TEAM}/del/manifests/two`)).status).toBe(404);
    expect((await c.req('DELETE', `/v2/${TEAM}/del/manifests/${img.digest}`)).status).toBe(404);
  });

  it('a bad tag is refused', async () => {
    const res = await c.pushManifest(`${TEAM}/app`, '-bad', '{}');
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('TAG_INVALID');
  });

  it('GET, HEAD and DELETE of a manifest that is not there: 404 MANIFEST_UNKNOWN (also for an invalid reference), NAME_UNKNOWN without the repository', async () => {
    await c.pushImage(`${TEAM}/known`, 'v1', 'known');
    const absent = ['nope', sha256('absent'), '.INVALID_MANIFEST_NAME', '-bad', 'a'.repeat(200), 'sha256:abc', 'md5:abc'];
    for (const ref of absent) {
      for (const method of ['GET', 'HEAD', 'DELETE']) {
        const res = await c.req(method, `/v2/${TEAM}/known/manifests/${ref}`);
        expect(res.status, `${method} ${ref}`).toBe(404);
        if (method !== 'HEAD') expect(await errorCode(res), `${method} ${ref}`).toBe('MANIFEST_UNKNOWN');
        else await res.arrayBuffer();
        const noRepo = await c.req(method, `/v2/${TEAM}/no-such-image/manifests/${ref}`);
        expect(noRepo.status, `${method} ${ref} in a repository that does not exist`).toBe(404);
        if (method !== 'HEAD') expect(await errorCode(noRepo)).toBe('NAME_UNKNOWN');
        else await noRepo.arrayBuffer();
      }
    }
    const invalid = await c.req('GET', `/v2/${TEAM}/known/manifests/.INVALID_MANIFEST_NAME`);
    expect(((await invalid.json()) as { errors: { message: string }[] }).errors[0].message).toMatch(/tag ".INVALID_MANIFEST_NAME" is invalid/);
    expect((await c.req('GET', `/v2/${TEAM}/known/manifests/v1`)).status).toBe(200);
    const put = await c.pushManifest(`${TEAM}/known`, '.INVALID_MANIFEST_NAME', '{}');
    expect(put.status).toBe(400);
    expect(await errorCode(put)).toBe('TAG_INVALID');
  });

  it('a pull from a single-component name (HOST/app:1) is 404 NAME_UNKNOWN for manifests and blobs, with the REGISTRY/IMAGE hint in the body', async () => {
    for (const path of ['/v2/app/manifests/1', `/v2/app/manifests/${sha256('x')}`, `/v2/app/blobs/${sha256('x')}`]) {
      const head = await c.req('HEAD', path);
      expect(head.status, `HEAD ${path}`).toBe(404);
      expect(await head.text()).toBe('');
      const get = await c.req('GET', path);
      expect(get.status, `GET ${path}`).toBe(404);
      const body = (await get.json()) as { errors: { code: string; message: string }[] };
      expect(body.errors[0].code).toBe('NAME_UNKNOWN');
      expect(body.errors[0].message).toMatch(/REGISTRY\/IMAGE/);
    }
    const tags = await c.req('GET', '/v2/app/tags/list');
    expect(tags.status).toBe(404);
    expect(await errorCode(tags)).toBe('NAME_UNKNOWN');
  });

  it('an index with "manifests": null (go-containerregistry\'s empty index) is stored as an empty index', async () => {
    await c.pushImage(`${TEAM}/emptyindex`, 'base', 'ei');
    const body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: null });
    const put = await c.pushManifest(`${TEAM}/emptyindex`, 'empty', body, OCI_INDEX);
    expect(put.status).toBe(201);
    expect(put.headers.get('docker-content-digest')).toBe(sha256(body));
    const get = await c.req('GET', `/v2/${TEAM}/emptyindex/manifests/empty`, { headers: { accept: OCI_INDEX } });
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toBe(OCI_INDEX);
    expect(await get.text()).toBe(body);
    const list = await s.api('GET', `/api/v1/registries/${TEAM}/images/emptyindex/artifacts`);
    const idx = list.body.items.find((a: { digest: string }) => a.digest === sha256(body));
    expect(idx).toMatchObject({ mediaType: OCI_INDEX, platforms: [], size: 0, tags: ['empty'] });
  });

  it('an image whose artifacts are all deleted leaves the catalog, the images list and the image count; a push under way into it still finishes', async () => {
    expect((await s.api('POST', '/api/v1/registries', { name: FLEETING })).status).toBe(201);
    const one = await c.pushImage(`${FLEETING}/app`, '1', 'f1');
    const two = await c.pushImage(`${FLEETING}/app`, '2', 'f2');
    const listed = async () => {
      const cat = await c.req('GET', '/v2/_catalog?n=1000', { scopes: ['registry:catalog:*'] });
      const images = await s.api('GET', `/api/v1/registries/${FLEETING}/images`);
      const reg = await s.api('GET', `/api/v1/registries/${FLEETING}`);
      return {
        catalog: ((await cat.json()) as { repositories: string[] }).repositories.includes(`${FLEETING}/app`),
        images: images.body.items.map((i: { repository: string }) => i.repository) as string[],
        total: images.body.total as number,
        imageCount: reg.body.imageCount as number,
      };
    };
    expect(await listed()).toEqual({ catalog: true, images: [`${FLEETING}/app`], total: 1, imageCount: 1 });
    // an upload started before the last artifact goes
    const start = await c.req('POST', `/v2/${FLEETING}/app/blobs/uploads/`);
    expect(start.status).toBe(202);
    const location = start.headers.get('location')!;
    for (const img of [one, two]) expect((await c.req('DELETE', `/v2/${FLEETING}/app/manifests/${img.digest}`)).status).toBe(202);
    expect(await listed()).toEqual({ catalog: false, images: [], total: 0, imageCount: 0 });
    expect((await c.req('GET', `/v2/${FLEETING}/app/manifests/1`)).status).toBe(404);
    const done = await c.req('PUT', `${location}?digest=${sha256('late layer')}`, { body: 'late layer', headers: { 'content-type': 'application/octet-stream' } });
    expect(done.status).toBe(201);
    expect(await listed()).toEqual({ catalog: false, images: [], total: 0, imageCount: 0 });
    // pushing again brings it back, reusing the blobs still linked
    const again = await c.pushManifest(`${FLEETING}/app`, '3', one.body);
    expect(again.status).toBe(201);
    expect(await listed()).toEqual({ catalog: true, images: [`${FLEETING}/app`], total: 1, imageCount: 1 });
  });

  it('pulls by tag and digest are recorded (batched)', async () => {
    const img = await c.pushImage(`${TEAM}/pulled`, 't', 'p');
    await c.req('GET', `/v2/${TEAM}/pulled/manifests/t`);
    // pull times are written in batches (about once a second): wait for this one to show, at most 10 s
    let list = await s.api('GET', `/api/v1/registries/${TEAM}/images/pulled/artifacts`);
    for (let i = 0; i < 100 && !list.body.items.find((x: { digest: string; pulledAt: string | null }) => x.digest === img.digest)?.pulledAt; i++) {
      await new Promise((r) => setTimeout(r, 100));
      list = await s.api('GET', `/api/v1/registries/${TEAM}/images/pulled/artifacts`);
    }
    const a = list.body.items.find((x: { digest: string }) => x.digest === img.digest);
    expect(a.pulledAt).not.toBeNull();
    const tags = await s.api('GET', `/api/v1/registries/${TEAM}/images/pulled/tags`);
    expect(tags.body.items[0].pulledAt).not.toBeNull();
  });
});
