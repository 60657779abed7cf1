/**
 * Image protection policies over real HTTP, on the shared server of each database: the policy API (limits,
 * duplicates, validation, enable/disable) and every refusal (412 PROTECTED naming the policy) on /v2 and the API.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { OciClient } from '../helpers/oci-client.js';
import { DB_KINDS } from '../helpers/server.js';
import { ownAdmin, sharedServer, unique, type SharedServer } from '../helpers/shared.js';

const REG = unique('prot');
const LIMITS = unique('prot-limits');

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return ((await res.json()) as { errors: { code: string; message: string }[] }).errors[0]!;
}

describe.each(DB_KINDS)('image protection (%s)', (db) => {
  let s: SharedServer & { username: string };
  let c: OciClient;
  let policyId: string;
  let v1: { digest: string };
  beforeAll(async () => {
    s = await ownAdmin(sharedServer(db), `prot-${db}`);
    c = new OciClient(s.url, s.admin);
    for (const r of [REG, LIMITS]) expect((await s.api('POST', '/api/v1/registries', { name: r })).status).toBe(201);
    v1 = await c.pushImage(`${REG}/app`, 'v1', `p1-${db}`);
    await c.pushImage(`${REG}/app`, 'dev', `p2-${db}`);
    await c.pushImage(`${REG}/other`, 'v1', `p3-${db}`);
    const created = await s.api('POST', `/api/v1/registries/${REG}/protection-policies`, { imageFilter: { pattern: 'app' }, tagFilter: { pattern: 'v*' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'protection', enabled: true, imageFilter: { pattern: 'app', syntax: 'glob', mode: 'matching' }, tagFilter: { pattern: 'v*', untagged: false }, rule: null });
    policyId = created.body.id;
  });

  it('refuses a push of a protected tag to another digest with 412 naming the policy', async () => {
    const res = await c.req('PUT', `/v2/${REG}/app/manifests/v1`, { body: JSON.stringify({ ...(await c.pushImage(`${REG}/app`, 'scratch', `p4-${db}`)).manifest }), headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    expect(res.status).toBe(412);
    const err = await errorOf(res);
    expect(err.code).toBe('PROTECTED');
    expect(err.message).toContain(policyId.slice(0, 8));
    expect(err.message).toContain('tag v1');
    // the same bytes again are fine (nothing changes)
    const same = await c.req('PUT', `/v2/${REG}/app/manifests/v1`, { body: (await (await c.req('GET', `/v2/${REG}/app/manifests/${v1.digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).text()), headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    expect(same.status).toBe(201);
  });

  it('refuses deleting the protected tag or artifact, on /v2 and the API', async () => {
    const tagDel = await c.req('DELETE', `/v2/${REG}/app/manifests/v1`);
    expect(tagDel.status).toBe(412);
    expect((await errorOf(tagDel)).code).toBe('PROTECTED');
    const artDel = await c.req('DELETE', `/v2/${REG}/app/manifests/${v1.digest}`);
    expect(artDel.status).toBe(412);
    const apiDel = await s.api('DELETE', `/api/v1/registries/${REG}/images/app/artifacts/${v1.digest}`);
    expect(apiDel.status).toBe(412);
    expect(apiDel.body.errors[0].message).toMatch(/protected by protection policy/);
    const apiTag = await s.api('DELETE', `/api/v1/registries/${REG}/images/app/tags/v1`);
    expect(apiTag.status).toBe(412);
  });

  it('refuses retagging the protected tag away, and deleting the image or the registry', async () => {
    const other = await c.pushImage(`${REG}/app`, 'other', `p5-${db}`);
    const move = await s.api('POST', `/api/v1/registries/${REG}/images/app/tags`, { name: 'v1', digest: other.digest });
    expect(move.status).toBe(412);
    expect((await s.api('DELETE', `/api/v1/registries/${REG}/images/app`)).status).toBe(412);
    const regDel = await s.api('DELETE', `/api/v1/registries/${REG}?force=true`);
    expect(regDel.status).toBe(412);
    expect(regDel.body.errors[0].message).toContain(`deleting registry ${REG}`);
  });

  it('leaves what no policy covers alone: other tags, other images', async () => {
    expect((await c.req('DELETE', `/v2/${REG}/app/manifests/dev`)).status).toBe(202);
    expect((await c.req('DELETE', `/v2/${REG}/other/manifests/v1`)).status).toBe(202);
  });

  it('a disabled policy protects nothing; enabling it again protects again', async () => {
    const off = await s.api('PATCH', `/api/v1/registries/${REG}/protection-policies/${policyId}`, { enabled: false });
    expect(off.status).toBe(200);
    expect(off.body.enabled).toBe(false);
    const t = await c.pushImage(`${REG}/app`, 'v9', `p6-${db}`);
    expect((await c.req('DELETE', `/v2/${REG}/app/manifests/v9`)).status).toBe(202);
    expect((await s.api('PATCH', `/api/v1/registries/${REG}/protection-policies/${policyId}`, { enabled: true })).body.enabled).toBe(true);
    await s.api('POST', `/api/v1/registries/${REG}/images/app/tags`, { name: 'v9', digest: t.digest });
    expect((await c.req('DELETE', `/v2/${REG}/app/manifests/v9`)).status).toBe(412);
  });

  it('untagged protection and regex filters', async () => {
    const reg = LIMITS;
    const p = await s.api('POST', `/api/v1/registries/${reg}/protection-policies`, { imageFilter: { pattern: 'base-[0-9]+', syntax: 'regex' }, tagFilter: { pattern: 'x', untagged: true } });
    expect(p.status).toBe(201);
    const img = await c.pushImage(`${reg}/base-1`, 'tmp', `p7-${db}`);
    expect((await c.req('DELETE', `/v2/${reg}/base-1/manifests/tmp`)).status).toBe(202); // tag "tmp" is not covered
    expect((await c.req('DELETE', `/v2/${reg}/base-1/manifests/${img.digest}`)).status).toBe(412); // now untagged: covered
    expect((await s.api('DELETE', `/api/v1/registries/${reg}/protection-policies/${p.body.id}`)).status).toBe(204);
    expect((await c.req('DELETE', `/v2/${reg}/base-1/manifests/${img.digest}`)).status).toBe(202);
  });

  it('policy API: validation, duplicates, at most 15, permissions, audit', async () => {
    const reg = LIMITS;
    const bad = await s.api('POST', `/api/v1/registries/${reg}/protection-policies`, { tagFilter: { pattern: '(', syntax: 'regex' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].message).toContain('tagFilter.pattern');
    const badMode = await s.api('POST', `/api/v1/registries/${reg}/protection-policies`, { imageFilter: { pattern: 'x', mode: 'maybe' } });
    expect(badMode.status).toBe(400);
    const first = await s.api('POST', `/api/v1/registries/${reg}/protection-policies`, { tagFilter: { pattern: 'release-0' } });
    expect(first.status).toBe(201);
    const dup = await s.api('POST', `/api/v1/registries/${reg}/protection-policies`, { tagFilter: { pattern: 'release-0', syntax: 'glob' }, imageFilter: { pattern: '**' } });
    expect(dup.status).toBe(409);
    expect(dup.body.errors[0].message).toContain('already has this protection policy');
    for (let i = 1; i < 15; i++) expect((await s.api('POST', `/api/v1/registries/${reg}/protection-policies`, { tagFilter: { pattern: `release-${i}` } })).status).toBe(201);
    const over = await s.api('POST', `/api/v1/registries/${reg}/protection-policies`, { tagFilter: { pattern: 'release-99' } });
    expect(over.status).toBe(409);
    expect(over.body.errors[0].code).toBe('LIMIT_EXCEEDED');
    const list = await s.api('GET', `/api/v1/registries/${reg}/protection-policies`);
    expect(list.body.items).toHaveLength(15);
    expect((await s.api('GET', `/api/v1/registries/${reg}/protection-policies/nope`)).status).toBe(404);
    expect((await s.api('GET', `/api/v1/registries/${unique('nope')}/protection-policies`)).status).toBe(404);
    const audit = await s.api('GET', `/api/v1/audit?actor=${s.username}&action=ProtectionPolicyCreated&perPage=100`);
    expect(audit.body.items.filter((e: { target: string }) => e.target.startsWith(`${reg}/`)).length).toBe(16);
  });
});
