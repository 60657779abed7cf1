/**
 * The role × action matrix, walked over real HTTP from the exported permission table: every action that has an
 * endpoint today, for the admin, a member and a viewer, on each entry point it has — /v2 with Bearer tokens from
 * /service/token, /api/v1 with Basic access keys, and /api/v1 with a console session (cookie + X-CSRF-Token).
 * Allowed → 2xx; refused → 403 DENIED. On /v2 a role that may act but whose token lacks the scope → 401 with an
 * insufficient_scope challenge. An action in the table with no walk must be listed in NO_ENDPOINT_YET, and only then.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS, type Action, roleMay } from '../../src/domain/auth/permissions.js';
import { ROLES, type Role } from '../../src/domain/auth/roles.js';
import { basic, OciClient, sha256, type Creds } from '../helpers/oci-client.js';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';

/** Capabilities in the guide's table that ncr has no endpoint for yet. Give one an endpoint: add it to WALK below. */
const NO_ENDPOINT_YET: Action[] = [];

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const TEST_PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
const REG = 'mx';

interface Request {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** /v2 only: the token scope(s) to ask for, space-separated; the first is the one a challenge names */
  scope?: string;
}
/** Sends one request as the caller under test and asserts it was allowed (2xx) or refused as the walk expects. */
type Send = (r: Request) => Promise<Response>;

interface Ctx {
  s: TestServer;
  admin: OciClient;
  /** unique per walk, for names the walk creates */
  u: string;
  /** the caller's own password (to set it again, unchanged) */
  password: string;
  /** the image every read walks over: REG/pull:1.0 */
  pulled: { digest: string; layerDigest: string; configDigest: string };
}

type Entry = 'v2' | 'api';
interface Probe {
  entry: Entry;
  name: string;
  run(ctx: Ctx, send: Send): Promise<void>;
}

const json = (body: unknown) => ({ body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
const adminApi = async (ctx: Ctx, method: string, path: string, body?: unknown) => {
  const res = await ctx.s.api(method, path, body);
  expect(res.status, `setup ${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
  return res.body;
};

/** An endpoint (made by the admin) for the server itself, as another ncr: a reachable, writable replication target. */
const selfEndpoint = async (ctx: Ctx, name: string): Promise<string> =>
  (await adminApi(ctx, 'POST', '/api/v1/endpoints', { name, provider: 'ncr', url: ctx.s.url, accessId: ctx.s.admin.accessKey, secret: ctx.s.admin.secretKey })).id;

/** How each action is reached today. Keyed by the table's actions: a new row with an endpoint gets a probe here. */
const WALK: Partial<Record<Action, Probe[]>> = {
  'registry:view': [
    {
      entry: 'api',
      name: 'list and get registries',
      async run(_ctx, send) {
        await send({ method: 'GET', path: '/api/v1/registries' });
        await send({ method: 'GET', path: `/api/v1/registries/${REG}` });
      },
    },
  ],
  'registry:create': [{ entry: 'api', name: 'create a registry', run: (ctx, send) => send({ method: 'POST', path: '/api/v1/registries', ...json({ name: `new${ctx.u}` }) }).then(() => undefined) }],
  'registry:delete': [
    {
      entry: 'api',
      name: 'delete a registry',
      async run(ctx, send) {
        await adminApi(ctx, 'POST', '/api/v1/registries', { name: `del${ctx.u}` });
        await send({ method: 'DELETE', path: `/api/v1/registries/del${ctx.u}` });
      },
    },
  ],
  'image:view': [{ entry: 'api', name: 'list images', run: (_ctx, send) => send({ method: 'GET', path: `/api/v1/registries/${REG}/images` }).then(() => undefined) }],
  'image:pull': [
    {
      entry: 'v2',
      name: 'GET and HEAD a manifest and a blob',
      async run(ctx, send) {
        const scope = `repository:${REG}/pull:pull`;
        await send({ method: 'GET', path: `/v2/${REG}/pull/manifests/1.0`, headers: { accept: OCI_MANIFEST }, scope });
        await send({ method: 'HEAD', path: `/v2/${REG}/pull/manifests/${ctx.pulled.digest}`, scope });
        await send({ method: 'GET', path: `/v2/${REG}/pull/blobs/${ctx.pulled.layerDigest}`, scope });
        await send({ method: 'HEAD', path: `/v2/${REG}/pull/blobs/${ctx.pulled.configDigest}`, scope });
      },
    },
  ],
  'image:push': [
    {
      entry: 'v2',
      name: 'push blobs (monolithic, chunked, mount) and a manifest',
      async run(ctx, send) {
        const repo = `${REG}/push${ctx.u}`;
        const scope = `repository:${repo}:pull,push`;
        const config = JSON.stringify({ architecture: 'amd64', os: 'linux', u: ctx.u });
        const layer = `layer of ${ctx.u}`;
        await send({ method: 'POST', path: `/v2/${repo}/blobs/uploads/?digest=${sha256(config)}`, body: config, headers: { 'content-type': 'application/octet-stream' }, scope });
        const started = await send({ method: 'POST', path: `/v2/${repo}/blobs/uploads/`, scope });
        const location = started.headers.get('location') ?? `/v2/${repo}/blobs/uploads/none`;
        await send({ method: 'PATCH', path: location, body: layer, headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${layer.length - 1}` }, scope });
        await send({ method: 'GET', path: location, scope });
        await send({ method: 'PUT', path: `${location}?digest=${sha256(layer)}`, scope });
        await send({
          method: 'POST',
          path: `/v2/${repo}/blobs/uploads/?mount=${ctx.pulled.layerDigest}&from=${REG}/pull`,
          scope: `${scope} repository:${REG}/pull:pull`,
        });
        const manifest = {
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layer), size: layer.length }],
        };
        await send({ method: 'PUT', path: `/v2/${repo}/manifests/1.0`, body: JSON.stringify(manifest), headers: { 'content-type': OCI_MANIFEST }, scope });
        const cancelled = await send({ method: 'POST', path: `/v2/${repo}/blobs/uploads/`, scope });
        await send({ method: 'DELETE', path: cancelled.headers.get('location') ?? `/v2/${repo}/blobs/uploads/none`, scope });
      },
    },
  ],
  'image:delete': [
    {
      entry: 'v2',
      name: 'DELETE a blob',
      async run(ctx, send) {
        const repo = `${REG}/blobdel${ctx.u}`;
        const digest = await ctx.admin.pushBlob(repo, `blob to delete ${ctx.u}`);
        await send({ method: 'DELETE', path: `/v2/${repo}/blobs/${digest}`, scope: `repository:${repo}:delete` });
      },
    },
    {
      entry: 'api',
      name: 'delete an image',
      async run(ctx, send) {
        await ctx.admin.pushImage(`${REG}/imgdel${ctx.u}`, '1.0', ctx.u);
        await send({ method: 'DELETE', path: `/api/v1/registries/${REG}/images/imgdel${ctx.u}` });
      },
    },
  ],
  'artifact:view': [
    { entry: 'v2', name: 'list referrers', run: (ctx, send) => send({ method: 'GET', path: `/v2/${REG}/pull/referrers/${ctx.pulled.digest}`, scope: `repository:${REG}/pull:pull` }).then(() => undefined) },
    {
      entry: 'api',
      name: 'list artifacts and get one',
      async run(ctx, send) {
        await send({ method: 'GET', path: `/api/v1/registries/${REG}/images/pull/artifacts` });
        await send({ method: 'GET', path: `/api/v1/registries/${REG}/images/pull/artifacts/${ctx.pulled.digest}` });
      },
    },
  ],
  'artifact:delete': [
    {
      entry: 'v2',
      name: 'DELETE a manifest by digest',
      async run(ctx, send) {
        const repo = `${REG}/artdel${ctx.u}`;
        const { digest } = await ctx.admin.pushImage(repo, '1.0', ctx.u);
        await send({ method: 'DELETE', path: `/v2/${repo}/manifests/${digest}`, scope: `repository:${repo}:delete` });
      },
    },
    {
      entry: 'api',
      name: 'delete an artifact',
      async run(ctx, send) {
        const { digest } = await ctx.admin.pushImage(`${REG}/artdel${ctx.u}`, '1.0', ctx.u);
        await send({ method: 'DELETE', path: `/api/v1/registries/${REG}/images/artdel${ctx.u}/artifacts/${digest}` });
      },
    },
  ],
  'tag:view': [
    { entry: 'v2', name: 'GET tags/list', run: (_ctx, send) => send({ method: 'GET', path: `/v2/${REG}/pull/tags/list`, scope: `repository:${REG}/pull:pull` }).then(() => undefined) },
    { entry: 'api', name: 'list tags', run: (_ctx, send) => send({ method: 'GET', path: `/api/v1/registries/${REG}/images/pull/tags` }).then(() => undefined) },
  ],
  'tag:create': [
    {
      entry: 'api',
      name: 'create a tag',
      run: (ctx, send) => send({ method: 'POST', path: `/api/v1/registries/${REG}/images/pull/tags`, ...json({ name: `t${ctx.u}`, digest: ctx.pulled.digest }) }).then(() => undefined),
    },
  ],
  'tag:delete': [
    {
      entry: 'v2',
      name: 'DELETE a manifest by tag',
      async run(ctx, send) {
        await adminApi(ctx, 'POST', `/api/v1/registries/${REG}/images/pull/tags`, { name: `x${ctx.u}`, digest: ctx.pulled.digest });
        await send({ method: 'DELETE', path: `/v2/${REG}/pull/manifests/x${ctx.u}`, scope: `repository:${REG}/pull:delete` });
      },
    },
    {
      entry: 'api',
      name: 'delete a tag',
      async run(ctx, send) {
        await adminApi(ctx, 'POST', `/api/v1/registries/${REG}/images/pull/tags`, { name: `x${ctx.u}`, digest: ctx.pulled.digest });
        await send({ method: 'DELETE', path: `/api/v1/registries/${REG}/images/pull/tags/x${ctx.u}` });
      },
    },
  ],
  'cleanup:view': [
    {
      entry: 'api',
      name: 'list cleanup policies, the schedule and the history',
      async run(_ctx, send) {
        await send({ method: 'GET', path: `/api/v1/registries/${REG}/cleanup-policies` });
        await send({ method: 'GET', path: `/api/v1/registries/${REG}/cleanup/schedule` });
        await send({ method: 'GET', path: `/api/v1/registries/${REG}/cleanup/executions` });
      },
    },
  ],
  'cleanup:change': [
    {
      entry: 'api',
      name: 'add, disable and delete a cleanup policy; set and remove the schedule',
      async run(ctx, send) {
        const res = await send({ method: 'POST', path: `/api/v1/registries/${REG}/cleanup-policies`, ...json({ tagFilter: { pattern: `c${ctx.u}` }, rule: { keep: 'latestPushed', n: 3 } }) });
        const id = res.ok ? ((await res.json()) as { id: string }).id : ((await adminApi(ctx, 'POST', `/api/v1/registries/${REG}/cleanup-policies`, { tagFilter: { pattern: `c${ctx.u}` }, rule: { keep: 'latestPushed', n: 3 } })) as { id: string }).id;
        await send({ method: 'PATCH', path: `/api/v1/registries/${REG}/cleanup-policies/${id}`, ...json({ enabled: false }) });
        await send({ method: 'DELETE', path: `/api/v1/registries/${REG}/cleanup-policies/${id}` });
        await ctx.s.api('DELETE', `/api/v1/registries/${REG}/cleanup-policies/${id}`);
        await send({ method: 'PUT', path: `/api/v1/registries/${REG}/cleanup/schedule`, ...json({ cron: '0 3 * * *' }) });
        await send({ method: 'PUT', path: `/api/v1/registries/${REG}/cleanup/schedule`, ...json({ cron: null }) });
      },
    },
  ],
  'cleanup:run': [
    {
      entry: 'api',
      name: 'test-run cleanup',
      run: (_ctx, send) => send({ method: 'POST', path: `/api/v1/registries/${REG}/cleanup/test-run` }).then(() => undefined),
    },
  ],
  'protection:view': [{ entry: 'api', name: 'list protection policies', run: (_ctx, send) => send({ method: 'GET', path: `/api/v1/registries/${REG}/protection-policies` }).then(() => undefined) }],
  'protection:change': [
    {
      entry: 'api',
      name: 'add, disable and delete a protection policy',
      async run(ctx, send) {
        const res = await send({ method: 'POST', path: `/api/v1/registries/${REG}/protection-policies`, ...json({ tagFilter: { pattern: `p${ctx.u}` } }) });
        const id = res.ok ? ((await res.json()) as { id: string }).id : ((await adminApi(ctx, 'POST', `/api/v1/registries/${REG}/protection-policies`, { tagFilter: { pattern: `p${ctx.u}` } })) as { id: string }).id;
        await send({ method: 'PATCH', path: `/api/v1/registries/${REG}/protection-policies/${id}`, ...json({ enabled: false }) });
        await send({ method: 'DELETE', path: `/api/v1/registries/${REG}/protection-policies/${id}` });
        await ctx.s.api('DELETE', `/api/v1/registries/${REG}/protection-policies/${id}`);
      },
    },
  ],
  'trust:view': [
    {
      entry: 'api',
      name: "list the registry's keys and read its pull policy",
      async run(_ctx, send) {
        await send({ method: 'GET', path: `/api/v1/registries/${REG}/trust/keys` });
        await send({ method: 'GET', path: `/api/v1/registries/${REG}/trust/policy` });
        await send({ method: 'GET', path: '/api/v1/trust/keys' });
      },
    },
  ],
  'trust:change': [
    {
      entry: 'api',
      name: 'add and delete a registry key; set the pull policy',
      async run(ctx, send) {
        const res = await send({ method: 'POST', path: `/api/v1/registries/${REG}/trust/keys`, ...json({ name: `k${ctx.u}`, pem: TEST_PEM }) });
        const id = res.ok ? ((await res.json()) as { id: string }).id : ((await adminApi(ctx, 'POST', `/api/v1/registries/${REG}/trust/keys`, { name: `k${ctx.u}`, pem: TEST_PEM })) as { id: string }).id;
        await send({ method: 'DELETE', path: `/api/v1/registries/${REG}/trust/keys/${id}` });
        await ctx.s.api('DELETE', `/api/v1/registries/${REG}/trust/keys/${id}`);
        await send({ method: 'PUT', path: `/api/v1/registries/${REG}/trust/policy`, ...json({ requireVerified: false }) });
      },
    },
  ],
  'trust:global': [
    {
      entry: 'api',
      name: 'add and delete a global key',
      async run(ctx, send) {
        const res = await send({ method: 'POST', path: '/api/v1/trust/keys', ...json({ name: `g${ctx.u}`, pem: TEST_PEM }) });
        const id = res.ok ? ((await res.json()) as { id: string }).id : ((await adminApi(ctx, 'POST', '/api/v1/trust/keys', { name: `g${ctx.u}`, pem: TEST_PEM })) as { id: string }).id;
        await send({ method: 'DELETE', path: `/api/v1/trust/keys/${id}` });
        await ctx.s.api('DELETE', `/api/v1/trust/keys/${id}`);
      },
    },
  ],
  'scan:view': [
    {
      entry: 'api',
      name: "read an artifact's scan status, the registry's scan settings, the common allow list, the schedule and the vulnerability data",
      async run(ctx, send) {
        await send({ method: 'GET', path: `/api/v1/registries/${REG}/images/pull/artifacts/${ctx.pulled.digest}/scan` });
        await send({ method: 'GET', path: `/api/v1/registries/${REG}/images/pull/scans?digest=${ctx.pulled.digest}` });
        await send({ method: 'GET', path: `/api/v1/registries/${REG}/scan/settings` });
        await send({ method: 'GET', path: '/api/v1/scan/allowlist' });
        await send({ method: 'GET', path: '/api/v1/scan/schedule' });
        await send({ method: 'GET', path: '/api/v1/vulndb' });
      },
    },
  ],
  'scan:run': [
    {
      entry: 'api',
      name: 'scan an artifact',
      async run(ctx, send) {
        await send({ method: 'POST', path: `/api/v1/registries/${REG}/images/pull/artifacts/${ctx.pulled.digest}/scan` });
        // the next walk may scan again only once this scan is over (its layer is no tar: it fails fast)
        for (let i = 0; i < 100 && (await ctx.s.api('GET', `/api/v1/registries/${REG}/images/pull/artifacts/${ctx.pulled.digest}/scan`)).body.status === 'Scanning'; i++) await new Promise((r) => setTimeout(r, 50));
      },
    },
  ],
  'scan:change': [
    {
      entry: 'api',
      name: "change the registry's scan settings and allow list",
      run: (_ctx, send) => send({ method: 'PUT', path: `/api/v1/registries/${REG}/scan/settings`, ...json({ autoScan: false, allowlist: 'CVE-2021-44228' }) }).then(() => undefined),
    },
  ],
  'scan:global': [
    {
      entry: 'api',
      name: 'set the scan schedule and the common allow list; import vulnerability data',
      async run(_ctx, send) {
        await send({ method: 'PUT', path: '/api/v1/scan/schedule', ...json({ cycle: 'None' }) });
        await send({ method: 'PUT', path: '/api/v1/scan/allowlist', ...json({ allowlist: '' }) });
        await send({ method: 'POST', path: '/api/v1/vulndb/import?name=one.json', ...json({ id: 'GHSA-xvch-5gv4-984h', affected: [{ package: { ecosystem: 'npm', name: 'minimist' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '1.0.0' }, { fixed: '1.2.6' }] }] }] }) });
      },
    },
  ],
  'catalog:list': [{ entry: 'v2', name: 'GET /v2/_catalog', run: (_ctx, send) => send({ method: 'GET', path: '/v2/_catalog', scope: 'registry:catalog:*' }).then(() => undefined) }],
  'user:manage': [
    {
      entry: 'api',
      name: "list, add, change, remove users and another user's keys",
      async run(ctx, send) {
        const other = `other${ctx.u}`;
        await adminApi(ctx, 'POST', '/api/v1/users', { username: other, role: 'viewer' });
        await send({ method: 'GET', path: '/api/v1/users' });
        await send({ method: 'POST', path: '/api/v1/users', ...json({ username: `added${ctx.u}`, role: 'viewer' }) });
        await send({ method: 'GET', path: `/api/v1/users/${other}` });
        await send({ method: 'PATCH', path: `/api/v1/users/${other}`, ...json({ role: 'member' }) });
        const key = await send({ method: 'POST', path: `/api/v1/users/${other}/access-keys` });
        await send({ method: 'GET', path: `/api/v1/users/${other}/access-keys` });
        const accessKey = key.ok ? ((await key.json()) as { accessKey: string }).accessKey : 'none';
        await send({ method: 'DELETE', path: `/api/v1/users/${other}/access-keys/${accessKey}` });
        await send({ method: 'DELETE', path: `/api/v1/users/${other}` });
      },
    },
  ],
  'key:manage-own': [
    {
      entry: 'api',
      name: 'create, list, regenerate and delete your own key; change your own password',
      async run(ctx, send) {
        const key = await send({ method: 'POST', path: '/api/v1/users/me/access-keys' });
        const { accessKey } = (await key.json()) as { accessKey: string };
        await send({ method: 'GET', path: '/api/v1/users/me/access-keys' });
        await send({ method: 'POST', path: `/api/v1/users/me/access-keys/${accessKey}/regenerate` });
        await send({ method: 'DELETE', path: `/api/v1/users/me/access-keys/${accessKey}` });
        await send({ method: 'GET', path: '/api/v1/users/me' });
        await send({ method: 'PATCH', path: '/api/v1/users/me', ...json({ password: ctx.password }) });
      },
    },
  ],
  'audit:view': [{ entry: 'api', name: 'read the audit log', run: (_ctx, send) => send({ method: 'GET', path: '/api/v1/audit' }).then(() => undefined) }],
  'execution:view': [
    {
      entry: 'api',
      name: 'list executions, get one and its tasks',
      async run(ctx, send) {
        // a run of a kind no worker takes: it stays queued, which is all viewing needs
        const e = await ctx.s.app.executions.start({ kind: 'probe', jobKind: 'probe-unworked', trigger: 'manual', subject: REG, actor: { userId: null, username: 'admin' } });
        await send({ method: 'GET', path: `/api/v1/executions?subject=${REG}` });
        await send({ method: 'GET', path: `/api/v1/executions/${e.id}` });
        await send({ method: 'GET', path: `/api/v1/executions/${e.id}/tasks` });
      },
    },
  ],
  'execution:stop': [
    {
      entry: 'api',
      name: 'stop an execution',
      async run(ctx, send) {
        const e = await ctx.s.app.executions.start({ kind: 'probe', jobKind: 'probe-unworked', trigger: 'manual', subject: REG, actor: { userId: null, username: 'admin' } });
        await send({ method: 'POST', path: `/api/v1/executions/${e.id}/stop` });
      },
    },
  ],
  'webhook:view': [
    {
      entry: 'api',
      name: "list webhooks, get one, its deliveries and one delivery; the event types",
      async run(ctx, send) {
        const w = await adminApi(ctx, 'POST', `/api/v1/registries/${REG}/webhooks`, { name: `view${ctx.u}`, address: 'http://127.0.0.1:9/hook', eventTypes: ['PUSH_ARTIFACT'] });
        const tested = await adminApi(ctx, 'POST', `/api/v1/registries/${REG}/webhooks/${w.id}/test`);
        await send({ method: 'GET', path: '/api/v1/webhook-event-types' });
        await send({ method: 'GET', path: `/api/v1/registries/${REG}/webhooks` });
        await send({ method: 'GET', path: `/api/v1/registries/${REG}/webhooks/${w.id}` });
        await send({ method: 'GET', path: `/api/v1/registries/${REG}/webhooks/${w.id}/deliveries` });
        await send({ method: 'GET', path: `/api/v1/registries/${REG}/webhooks/${w.id}/deliveries/${tested.id}` });
      },
    },
  ],
  'webhook:change': [
    {
      entry: 'api',
      name: 'create, change, disable, enable, test, redeliver and delete a webhook',
      async run(ctx, send) {
        // a loopback address: Test is refused by the SSRF guard at once (no network), which makes a failed delivery
        const created = await send({ method: 'POST', path: `/api/v1/registries/${REG}/webhooks`, ...json({ name: `chg${ctx.u}`, address: 'http://127.0.0.1:9/hook', eventTypes: ['PUSH_ARTIFACT'] }) });
        const w = created.ok ? ((await created.json()) as { id: string }) : await adminApi(ctx, 'POST', `/api/v1/registries/${REG}/webhooks`, { name: `chg${ctx.u}`, address: 'http://127.0.0.1:9/hook', eventTypes: ['PUSH_ARTIFACT'] });
        await send({ method: 'PATCH', path: `/api/v1/registries/${REG}/webhooks/${w.id}`, ...json({ description: 'changed' }) });
        await send({ method: 'POST', path: `/api/v1/registries/${REG}/webhooks/${w.id}/disable` });
        await send({ method: 'POST', path: `/api/v1/registries/${REG}/webhooks/${w.id}/enable` });
        await send({ method: 'POST', path: `/api/v1/registries/${REG}/webhooks/${w.id}/test` });
        const failed = await adminApi(ctx, 'POST', `/api/v1/registries/${REG}/webhooks/${w.id}/test`);
        await send({ method: 'POST', path: `/api/v1/registries/${REG}/webhooks/${w.id}/deliveries/${failed.id}/redeliver` });
        await send({ method: 'DELETE', path: `/api/v1/registries/${REG}/webhooks/${w.id}` });
      },
    },
  ],
  'replication:view': [
    {
      entry: 'api',
      name: 'list replications, get one, its history and a run\'s artifacts',
      async run(ctx, send) {
        const r = await adminApi(ctx, 'POST', `/api/v1/registries/${REG}/replications`, { name: `view${ctx.u}`, endpoint: await selfEndpoint(ctx, `rv${ctx.u}`), targetRegistry: REG });
        await adminApi(ctx, 'POST', `/api/v1/registries/${REG}/replications/${r.id}/check`);
        const run = await adminApi(ctx, 'POST', `/api/v1/registries/${REG}/replications/${r.id}/run`);
        await send({ method: 'GET', path: `/api/v1/registries/${REG}/replications` });
        await send({ method: 'GET', path: `/api/v1/registries/${REG}/replications/${r.id}` });
        await send({ method: 'GET', path: `/api/v1/registries/${REG}/replications/${r.id}/executions` });
        await send({ method: 'GET', path: `/api/v1/registries/${REG}/replications/${r.id}/executions/${run.id}/tasks` });
        await adminApi(ctx, 'POST', `/api/v1/registries/${REG}/replications/${r.id}/executions/${run.id}/stop`);
        await adminApi(ctx, 'DELETE', `/api/v1/registries/${REG}/replications/${r.id}`);
      },
    },
  ],
  'replication:change': [
    {
      entry: 'api',
      name: 'create, change, refresh, run, stop and delete a replication',
      async run(ctx, send) {
        const body = { name: `chg${ctx.u}`, endpoint: await selfEndpoint(ctx, `rc${ctx.u}`), targetRegistry: REG };
        const created = await send({ method: 'POST', path: `/api/v1/registries/${REG}/replications`, ...json(body) });
        const r = created.ok ? ((await created.json()) as { id: string }) : await adminApi(ctx, 'POST', `/api/v1/registries/${REG}/replications`, body);
        await send({ method: 'PATCH', path: `/api/v1/registries/${REG}/replications/${r.id}`, ...json({ description: 'changed' }) });
        await send({ method: 'POST', path: `/api/v1/registries/${REG}/replications/${r.id}/check` });
        await adminApi(ctx, 'POST', `/api/v1/registries/${REG}/replications/${r.id}/check`);
        const started = await send({ method: 'POST', path: `/api/v1/registries/${REG}/replications/${r.id}/run` });
        const run = started.ok ? ((await started.json()) as { id: string }) : await adminApi(ctx, 'POST', `/api/v1/registries/${REG}/replications/${r.id}/run`);
        await send({ method: 'POST', path: `/api/v1/registries/${REG}/replications/${r.id}/executions/${run.id}/stop` });
        const deleted = await send({ method: 'DELETE', path: `/api/v1/registries/${REG}/replications/${r.id}` });
        // no rule outlives its probe (it would replicate the other probes' pushes)
        if (!deleted.ok) await adminApi(ctx, 'DELETE', `/api/v1/registries/${REG}/replications/${r.id}`);
      },
    },
  ],
  'endpoint:view': [
    {
      entry: 'api',
      name: 'list endpoints and their providers, get one',
      async run(ctx, send) {
        const e = await adminApi(ctx, 'POST', '/api/v1/endpoints', { name: `view${ctx.u}`, provider: 'harbor', url: 'https://harbor.invalid', accessId: 'robot', secret: 's3cret' });
        await send({ method: 'GET', path: '/api/v1/endpoint-providers' });
        await send({ method: 'GET', path: '/api/v1/endpoints' });
        await send({ method: 'GET', path: `/api/v1/endpoints/${e.id}` });
      },
    },
  ],
  'endpoint:change': [
    {
      entry: 'api',
      name: 'create, change, check and delete an endpoint',
      async run(ctx, send) {
        const body = { name: `chg${ctx.u}`, provider: 'docker-registry', url: 'https://registry.invalid' };
        const created = await send({ method: 'POST', path: '/api/v1/endpoints', ...json(body) });
        const e = created.ok ? ((await created.json()) as { id: string }) : await adminApi(ctx, 'POST', '/api/v1/endpoints', body);
        await send({ method: 'PATCH', path: `/api/v1/endpoints/${e.id}`, ...json({ description: 'changed' }) });
        // a name that cannot resolve: the check fails at once, without the network, and is recorded
        await send({ method: 'POST', path: `/api/v1/endpoints/${e.id}/check` });
        await send({ method: 'DELETE', path: `/api/v1/endpoints/${e.id}` });
      },
    },
  ],
  'quota:change': [
    {
      entry: 'api',
      name: "set and lift a registry's quota",
      async run(_ctx, send) {
        await send({ method: 'PUT', path: `/api/v1/registries/${REG}/quota`, ...json({ quotaBytes: 1 << 40 }) });
        await send({ method: 'PUT', path: `/api/v1/registries/${REG}/quota`, ...json({ quotaBytes: null }) });
      },
    },
  ],
  'gc:view': [
    {
      entry: 'api',
      name: 'list garbage collection runs, get one and its tasks, read the schedule',
      async run(ctx, send) {
        const e = await ctx.s.app.executions.start({ kind: 'gc', jobKind: 'probe-unworked', trigger: 'manual', actor: { userId: null, username: 'admin' } });
        await send({ method: 'GET', path: '/api/v1/gc' });
        await send({ method: 'GET', path: `/api/v1/gc/runs/${e.id}` });
        await send({ method: 'GET', path: `/api/v1/gc/runs/${e.id}/tasks` });
        await send({ method: 'GET', path: '/api/v1/gc/schedule' });
      },
    },
  ],
  'gc:run': [
    {
      entry: 'api',
      name: 'run garbage collection (dry run), stop a run, set the schedule',
      async run(ctx, send) {
        // one run at a time: whatever an earlier walk started is stopped and finished first
        const settle = async () => {
          for (const status of ['queued', 'running'] as const) {
            for (const e of (await ctx.s.app.gc.history({ status, page: 1, perPage: 100 })).items) await ctx.s.app.executions.stop(e.id).catch(() => undefined);
          }
          await ctx.s.app.jobs.runner.runDue();
        };
        await settle();
        await send({ method: 'POST', path: '/api/v1/gc/run', ...json({ dryRun: true }) });
        await settle();
        const e = await ctx.s.app.executions.start({ kind: 'gc', jobKind: 'probe-unworked', trigger: 'manual', actor: { userId: null, username: 'admin' } });
        await send({ method: 'POST', path: `/api/v1/gc/runs/${e.id}/stop` });
        await send({ method: 'PUT', path: '/api/v1/gc/schedule', ...json({ cron: null }) });
      },
    },
  ],
  'jobs:manage': [
    {
      entry: 'api',
      name: 'list jobs and schedules, get and cancel a job',
      async run(ctx, send) {
        const job = await ctx.s.app.jobs.queue.enqueue({ kind: 'probe-unworked', runAt: Date.now() + 3600_000 });
        await send({ method: 'GET', path: '/api/v1/jobs' });
        await send({ method: 'GET', path: '/api/v1/schedules' });
        await send({ method: 'GET', path: `/api/v1/jobs/${job.id}` });
        await send({ method: 'POST', path: `/api/v1/jobs/${job.id}/cancel` });
      },
    },
  ],
};

/** How a walk authenticates: a Bearer token with the step's scope (or, for `v2-noscope`, one for another repository). */
type Mode = 'v2' | 'v2-noscope' | 'api-key' | 'api-session';
const MODES: Record<Entry, Mode[]> = { v2: ['v2', 'v2-noscope'], api: ['api-key', 'api-session'] };

interface Account {
  username: string;
  password: string;
  key: Creds;
  session?: { cookie: string; csrf: string };
}

describe.each(DB_KINDS)('permission matrix (%s)', (db) => {
  let s: TestServer;
  let admin: OciClient;
  let pulled: Ctx['pulled'];
  const accounts = {} as Record<Role, Account>;
  let n = 0;

  beforeAll(async () => {
    // replication probes use the server itself (loopback) as their target
    s = await startServer({ db, config: { endpoints: { allowPrivateNetworks: true } } });
    admin = new OciClient(s.url, s.admin);
    expect((await s.api('POST', '/api/v1/registries', { name: REG })).status).toBe(201);
    const image = await admin.pushImage(`${REG}/pull`, '1.0', 'pulled');
    pulled = { digest: image.digest, layerDigest: image.layerDigest, configDigest: image.configDigest };
    accounts.admin = { username: 'admin', password: s.admin.password, key: s.admin };
    for (const role of ['member', 'viewer'] as const) {
      const username = `${role}-user`;
      const password = `${role}-password-123`;
      expect((await s.api('POST', '/api/v1/users', { username, role, password })).status).toBe(201);
      const k = await s.api('POST', `/api/v1/users/${username}/access-keys`);
      expect(k.status).toBe(201);
      accounts[role] = { username, password, key: { accessKey: k.body.accessKey, secretKey: k.body.secretKey } };
    }
    for (const role of ROLES) {
      const a = accounts[role];
      const res = await fetch(`${s.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: a.username, password: a.password }) });
      expect(res.status).toBe(200);
      a.session = { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0], csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
    }
  });
  afterAll(async () => s?.close());

  it('walks every action in the table, except exactly those with no endpoint yet', () => {
    const unwalked = ACTIONS.filter((a) => !WALK[a]?.length);
    expect(unwalked.sort()).toEqual([...NO_ENDPOINT_YET].sort());
    expect(Object.keys(WALK).filter((a) => !(ACTIONS as string[]).includes(a))).toEqual([]);
  });

  async function token(role: Role, scope: string): Promise<string> {
    const q = scope.split(' ').map((x) => `&scope=${encodeURIComponent(x)}`).join('');
    const res = await fetch(`${s.url}/service/token?service=${s.host}${q}`, { headers: { authorization: basic(accounts[role].key) } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  }

  function sender(role: Role, mode: Mode, allowed: boolean, log: string[]): Send {
    return async (r) => {
      const headers: Record<string, string> = { ...r.headers };
      if (mode === 'v2') headers.authorization = `Bearer ${await token(role, r.scope ?? '')}`;
      if (mode === 'v2-noscope') headers.authorization = `Bearer ${await token(role, 'repository:elsewhere/none:pull')}`;
      if (mode === 'api-key') headers.authorization = basic(accounts[role].key);
      if (mode === 'api-session') Object.assign(headers, { cookie: accounts[role].session!.cookie, 'x-csrf-token': accounts[role].session!.csrf });
      const res = await fetch(s.url + r.path, { method: r.method, headers, body: r.body as RequestInit['body'], redirect: 'manual' });
      const what = `${r.method} ${r.path} as ${role} via ${mode}`;
      log.push(`${what} → ${res.status}`);
      if (allowed && mode !== 'v2-noscope') {
        expect(res.status, `${what}: ${res.status >= 300 ? await res.clone().text() : ''}`).toBeGreaterThanOrEqual(200);
        expect(res.status, `${what}: ${res.status >= 300 ? await res.clone().text() : ''}`).toBeLessThan(300);
      } else if (allowed) {
        // The role may act, but the token was not granted this scope: a challenge to fetch a token that is.
        expect(res.status, what).toBe(401);
        const challenge = res.headers.get('www-authenticate') ?? '';
        expect(challenge, what).toContain('error="insufficient_scope"');
        expect(challenge, what).toContain(`scope="${(r.scope ?? '').split(' ')[0]}"`);
      } else {
        expect(res.status, `${what}: ${await res.clone().text()}`).toBe(403);
        if (r.method !== 'HEAD') {
          const body = (await res.json()) as { errors: { code: string; message: string }[] };
          expect(body.errors[0].code, what).toBe('DENIED');
          expect(body.errors[0].message, what).toContain(accounts[role].username);
          expect(body.errors[0].message, what).toContain(`the ${role} role`);
        }
      }
      return res;
    };
  }

  for (const action of ACTIONS) {
    for (const probe of WALK[action] ?? []) {
      for (const mode of MODES[probe.entry]) {
        for (const role of ROLES) {
          const allowed = roleMay(role, action);
          // A token lacking the scope says nothing new for a role the table refuses (that is a 403 before any scope).
          if (mode === 'v2-noscope' && !allowed) continue;
          const outcome = mode === 'v2-noscope' ? '401 insufficient_scope' : allowed ? 'allowed' : '403 DENIED';
          it(`${action}: ${probe.name} as ${role} via ${mode} → ${outcome}`, async () => {
            const log: string[] = [];
            await probe.run({ s, admin, u: `${++n}${role[0]}`, pulled, password: accounts[role].password }, sender(role, mode, allowed, log));
            expect(log.length).toBeGreaterThan(0);
          });
        }
      }
    }
  }
});
