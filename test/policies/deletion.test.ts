/**
 * What deleting an artifact through the API takes with it (the cleanup's delete too): its tags, its referrers, and the
 * platform manifests of an index that nothing else references; a /v2 DELETE removes the one manifest, as the spec has
 * it. Protection covers what belongs to a protected artifact. On the shared server of each database.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { OciClient, sha256 } from '../helpers/oci-client.js';
import { DB_KINDS } from '../helpers/server.js';
import { ownAdmin, sharedServer, unique, type SharedServer } from '../helpers/shared.js';

const REG = unique('deletion');
const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

describe.each(DB_KINDS)('deleting with accessories (%s)', (db) => {
  let s: SharedServer & { username: string };
  let c: OciClient;
  const pushIndex = async (repo: string, tag: string, children: { digest: string; body: string }[]) => {
    const body = JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: children.map((ch, i) => ({ mediaType: MANIFEST, digest: ch.digest, size: Buffer.byteLength(ch.body), platform: { architecture: i ? 'arm64' : 'amd64', os: 'linux' } })) });
    const res = await c.pushManifest(repo, tag, body, INDEX);
    expect(res.status).toBe(201);
    return sha256(body);
  };
  const exists = async (repo: string, digest: string) => (await c.req('HEAD', `/v2/${repo}/manifests/${digest}`)).status === 200;
  beforeAll(async () => {
    s = await ownAdmin(sharedServer(db), `del-${db}`);
    c = new OciClient(s.url, s.admin);
    expect((await s.api('POST', '/api/v1/registries', { name: REG })).status).toBe(201);
  });

  it('an index goes with its unshared children and its referrers; a shared child stays', async () => {
    const repo = `${REG}/multi`;
    const amd = await c.pushImage(repo, 'amd-tmp', `amd-${db}`);
    const arm = await c.pushImage(repo, 'arm-tmp', `arm-${db}`);
    const shared = await c.pushImage(repo, 'shared-tmp', `shared-${db}`);
    for (const t of ['amd-tmp', 'arm-tmp', 'shared-tmp']) expect((await c.req('DELETE', `/v2/${repo}/manifests/${t}`)).status).toBe(202);
    const idx = await pushIndex(repo, 'v1', [amd, arm]);
    const other = await pushIndex(repo, 'v2', [shared, arm]);
    const sig = await c.pushImage(repo, 'sig-tmp', `sig-${db}`, { subject: { mediaType: INDEX, digest: idx, size: 1 } });
    expect((await c.req('DELETE', `/v2/${repo}/manifests/sig-tmp`)).status).toBe(202);

    const del = await s.api('DELETE', `/api/v1/registries/${REG}/images/multi/artifacts/${idx}`);
    expect(del.status).toBe(204);
    expect(await exists(repo, idx)).toBe(false);
    expect(await exists(repo, amd.digest)).toBe(false); // only v1 referenced it
    expect(await exists(repo, sig.digest)).toBe(false); // its signature went with it
    expect(await exists(repo, arm.digest)).toBe(true); // v2 still references it
    expect(await exists(repo, shared.digest)).toBe(true);
    expect(await exists(repo, other)).toBe(true);
  });

  it("cosign's tag-addressed signature (sha256-<hex>.sig) goes with its image and is protected with it", async () => {
    const repo = `${REG}/cosigned`;
    const img = await c.pushImage(repo, 'release-1', `cos-${db}`);
    const sigTag = `${img.digest.replace(':', '-')}.sig`;
    const sig = await c.pushImage(repo, sigTag, `cossig-${db}`);
    const p = await s.api('POST', `/api/v1/registries/${REG}/protection-policies`, { imageFilter: { pattern: 'cosigned' }, tagFilter: { pattern: 'release-*' } });
    expect((await c.req('DELETE', `/v2/${repo}/manifests/${sigTag}`)).status).toBe(412);
    expect((await s.api('DELETE', `/api/v1/registries/${REG}/protection-policies/${p.body.id}`)).status).toBe(204);
    expect((await s.api('DELETE', `/api/v1/registries/${REG}/images/cosigned/artifacts/${img.digest}`)).status).toBe(204);
    expect(await exists(repo, sig.digest)).toBe(false);
  });

  it('a /v2 DELETE by digest removes only that manifest', async () => {
    const repo = `${REG}/plain`;
    const img = await c.pushImage(repo, 'v1', `plain-${db}`);
    const sig = await c.pushImage(repo, 'sig-tmp', `plainsig-${db}`, { subject: { mediaType: MANIFEST, digest: img.digest, size: Buffer.byteLength(img.body) } });
    expect((await c.req('DELETE', `/v2/${repo}/manifests/sig-tmp`)).status).toBe(202);
    expect((await c.req('DELETE', `/v2/${repo}/manifests/${img.digest}`)).status).toBe(202);
    expect(await exists(repo, sig.digest)).toBe(true);
  });

  it('the signature and the platform manifests of a protected index are protected with it', async () => {
    const repo = `${REG}/guarded`;
    const amd = await c.pushImage(repo, 'amd-tmp', `gamd-${db}`);
    expect((await c.req('DELETE', `/v2/${repo}/manifests/amd-tmp`)).status).toBe(202);
    const idx = await pushIndex(repo, 'release-1', [amd]);
    const sig = await c.pushImage(repo, 'sig-tmp', `gsig-${db}`, { subject: { mediaType: INDEX, digest: idx, size: 1 } });
    expect((await c.req('DELETE', `/v2/${repo}/manifests/sig-tmp`)).status).toBe(202);
    const p = await s.api('POST', `/api/v1/registries/${REG}/protection-policies`, { imageFilter: { pattern: 'guarded' }, tagFilter: { pattern: 'release-*' } });
    expect(p.status).toBe(201);
    expect((await c.req('DELETE', `/v2/${repo}/manifests/${sig.digest}`)).status).toBe(412);
    expect((await c.req('DELETE', `/v2/${repo}/manifests/${amd.digest}`)).status).toBe(412);
    expect((await s.api('DELETE', `/api/v1/registries/${REG}/images/guarded/artifacts/${idx}`)).status).toBe(412);
    expect((await s.api('DELETE', `/api/v1/registries/${REG}/protection-policies/${p.body.id}`)).status).toBe(204);
    expect((await s.api('DELETE', `/api/v1/registries/${REG}/images/guarded/artifacts/${idx}`)).status).toBe(204);
    for (const d of [idx, amd.digest, sig.digest]) expect(await exists(repo, d)).toBe(false);
  });
});
