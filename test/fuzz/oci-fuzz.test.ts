/**
 * Property-based fuzzing (fast-check) of the real server and of the pure OCI parsers.
 *
 * Against a real server (per database kind), with valid credentials mostly and garbage sometimes: random repository
 * names, references, digests, Range / Content-Range, manifests (random JSON, valid-ish manifests with wrong types,
 * huge numbers, nulls, deep nesting) and headers go to /v2 and /api/v1. Every answer must be a 2xx, or a clean 4xx
 * whose body is the error envelope `{errors:[{code,message,detail}]}` with a code from ERROR_CATALOGUE: never a 5xx,
 * never a dropped connection. Requests go out through node:http so paths and headers reach the server as written.
 *
 * The parsers (reference, digest, manifest) either return or throw NcrError, never anything else.
 *
 * Counterexamples the fuzzer found are kept as fixed examples (`examples` in each property) so they stay fixed.
 *
 * The server is one of its own, not the run's shared one (test/helpers/shared.ts): the fuzzer writes at random to what
 * every file on a shared server depends on (it may create a second admin and then demote or delete "admin", fill the
 * admin's access keys, change roles) and fails logins by the hundred.
 */
import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDigest } from '../../src/oci/digest.js';
import { ERROR_CATALOGUE, isNcrError } from '../../src/oci/errors.js';
import { parseManifest } from '../../src/oci/manifest.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_SCHEMA1, OCI_INDEX, OCI_MANIFEST } from '../../src/oci/media-types.js';
import { parseReference, validateRegistryName, validateRepositoryName, validateTag } from '../../src/oci/reference.js';
import { basic, OciClient, sha256 } from '../helpers/oci-client.js';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';

/**
 * Runs per property against a server (some properties take a multiple); with both databases the file stays well under
 * a minute on two cores. NCR_FUZZ_RUNS=2000 for a longer hunt; NCR_FUZZ_SEED=<seed> replays a reported failure.
 */
const RUNS = Number(process.env.NCR_FUZZ_RUNS ?? 200);
const PARSER_RUNS = Number(process.env.NCR_FUZZ_PARSER_RUNS ?? 2000);
if (process.env.NCR_FUZZ_SEED) fc.configureGlobal({ seed: Number(process.env.NCR_FUZZ_SEED) });

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries

const MEDIA_TYPES = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_SCHEMA1, 'application/json', 'application/octet-stream', 'text/plain', 'application/vnd.oci.image.config.v1+json', '*/*', ''];

/** Printable ASCII plus a little Latin-1: what node:http lets into a header value. */
const headerChar = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constantFrom('\t', '\xe9', '\xff', '\x80') },
);
const headerValue = fc.string({ unit: headerChar, maxLength: 120 });

/** A piece of a URL: characters and escapes that stress decoding (%00, malformed %, encoded '/', unicode). */
const urlUnit = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...'abcxyz019._-'.split('')) },
  { weight: 2, arbitrary: fc.constantFrom(...'A/:@+=&;,~!$\'()*'.split('')) },
  { weight: 1, arbitrary: fc.constantFrom('%2F', '%00', '%', '%Z', '%E0%A4%A', '%C3%A9', '%FF', '%25', '..', '//', '?', '#', '%20', '%0A') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 2 }).map(encodeURIComponent) },
);
const urlGarbage = fc.string({ unit: urlUnit, maxLength: 24 });

const component = fc.stringMatching(/^[a-z0-9]{1,6}(?:[._-][a-z0-9]{1,4})?$/);
const hexOf = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), minLength: n, maxLength: n });

interface Known {
  /** a repository holding one image (fz/app:1.0) */
  repo: string;
  manifest: string;
  layer: string;
  config: string;
}

function arbs(known: Known) {
  const digest = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(known.manifest, known.layer, known.config) },
    { weight: 2, arbitrary: hexOf(64).map((h) => `sha256:${h}`) },
    { weight: 1, arbitrary: hexOf(128).map((h) => `sha512:${h}`) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('sha256', 'sha512', 'md5', 'SHA256', '', 'sha256+b64'), fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFg:'.split('')), maxLength: 140 })).map(([a, h]) => `${a}:${h}`) },
    { weight: 1, arbitrary: urlGarbage },
  );
  const tag = fc.stringMatching(/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,20}$/);
  const reference = fc.oneof({ weight: 2, arbitrary: fc.constantFrom('1.0', 'latest') }, { weight: 2, arbitrary: tag }, { weight: 2, arbitrary: digest }, { weight: 2, arbitrary: urlGarbage }, { weight: 1, arbitrary: fc.constant('a'.repeat(129)) });
  const repoName = fc.oneof(
    { weight: 4, arbitrary: fc.constant(known.repo) },
    { weight: 3, arbitrary: component.map((c) => `fz/${c}`) },
    { weight: 2, arbitrary: fc.array(component, { minLength: 1, maxLength: 4 }).map((a) => a.join('/')) },
    { weight: 3, arbitrary: urlGarbage },
    { weight: 1, arbitrary: fc.constant(`fz/${'a'.repeat(300)}`) },
  );
  const bigNumber = fc.oneof(fc.nat(), fc.constantFrom('99999999999999999999', '9007199254740993', '-1', '1e3', ''), fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String));
  const range = fc.oneof(
    fc.tuple(bigNumber, bigNumber).map(([a, b]) => `bytes=${a}-${b}`),
    bigNumber.map((n) => `bytes=-${n}`),
    bigNumber.map((n) => `bytes=${n}-`),
    fc.constantFrom('bytes=0-1,3-4', 'bytes=', 'bytes=-', 'items=0-1', 'bytes 0-1', 'bytes=1-0'),
    headerValue,
  );
  const contentRange = fc.oneof(
    fc.tuple(bigNumber, bigNumber).map(([a, b]) => `${a}-${b}`),
    fc.tuple(bigNumber, bigNumber, fc.oneof(bigNumber, fc.constant('*'))).map(([a, b, t]) => `bytes ${a}-${b}/${t}`),
    headerValue,
  );
  const authorization = fc.oneof(
    { weight: 8, arbitrary: fc.constant('VALID') },
    { weight: 1, arbitrary: headerValue.map((v) => `Basic ${v}`) },
    { weight: 1, arbitrary: fc.tuple(headerValue, headerValue).map(([u, p]) => basic({ accessKey: u, secretKey: p })) },
    { weight: 1, arbitrary: headerValue.map((v) => `Bearer ${v}`) },
    { weight: 1, arbitrary: fc.oneof(headerValue, fc.constantFrom('Basic', 'Bearer', 'Bearer a.b.c', 'Negotiate abc')) },
    { weight: 1, arbitrary: fc.constant('NONE') },
  );
  const mediaTypeHeader = fc.oneof(fc.constantFrom(...MEDIA_TYPES), fc.array(fc.constantFrom(...MEDIA_TYPES), { maxLength: 4 }).map((a) => a.join(', ')), headerValue, fc.constantFrom(`${OCI_MANIFEST}; q=0`, `${OCI_MANIFEST};q=abc`, `${OCI_MANIFEST}; charset=utf-8`));

  /** A value of the wrong type for any field. */
  const wrong = fc.oneof(fc.constant(null), fc.boolean(), fc.double(), fc.string({ maxLength: 10 }), fc.array(fc.nat(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }));
  const maybeWrong = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 5, arbitrary: a }, { weight: 1, arbitrary: wrong });
  const size = fc.oneof(fc.nat(), fc.constantFrom(-1, 2 ** 53, Number.MAX_SAFE_INTEGER, 1.5, 1e300));
  const descriptor = fc.record(
    {
      mediaType: maybeWrong(fc.constantFrom(...MEDIA_TYPES, 'application/vnd.oci.image.layer.v1.tar+gzip')),
      digest: maybeWrong(digest),
      size: maybeWrong(size),
      artifactType: maybeWrong(fc.string({ maxLength: 20 })),
      annotations: maybeWrong(fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 3 })),
      platform: maybeWrong(fc.record({ os: maybeWrong(fc.constantFrom('linux', 'windows')), architecture: maybeWrong(fc.constantFrom('amd64', 'arm64')), variant: maybeWrong(fc.constant('v8')) }, { requiredKeys: [] })),
      urls: maybeWrong(fc.array(fc.webUrl(), { maxLength: 2 })),
    },
    { requiredKeys: [] },
  );
  const manifestObject = fc.record(
    {
      schemaVersion: fc.oneof(fc.constant(2), fc.constant(2), wrong, fc.constant(1)),
      mediaType: maybeWrong(fc.constantFrom(...MEDIA_TYPES)),
      config: maybeWrong(descriptor),
      layers: maybeWrong(fc.array(descriptor, { maxLength: 4 })),
      manifests: maybeWrong(fc.array(descriptor, { maxLength: 4 })),
      subject: maybeWrong(descriptor),
      artifactType: maybeWrong(fc.string({ maxLength: 20 })),
      annotations: maybeWrong(fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 3 })),
      extra: fc.jsonValue({ maxDepth: 3 }),
    },
    { requiredKeys: [] },
  );
  /** A manifest that refers to the blobs the server has, with random extras: exercises the 201 path too. */
  const validManifest = fc.record({ annotations: fc.option(fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 3 }), { nil: undefined }), extra: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }) }).map(({ annotations, extra }) =>
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: known.config, size: CONFIG.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: known.layer, size: LAYER.length }],
      ...(annotations ? { annotations } : {}),
      ...(extra !== undefined ? { extra } : {}),
    }),
  );
  /** Numbers JSON.stringify cannot write: huge, negative zero, too precise; spliced into the text. */
  const rawNumbers = fc.tuple(manifestObject, fc.constantFrom('1e400', '-1e400', '-0', '99999999999999999999999', '1.0000000000000002', '0.1e-400')).map(([m, n]) => JSON.stringify({ ...m, schemaVersion: 2 }).replace(/^\{/, `{"size":${n},"schemaVersion":${n},`));
  const manifestBody = fc.oneof(
    { weight: 4, arbitrary: manifestObject.map((m) => JSON.stringify(m)) },
    { weight: 2, arbitrary: validManifest },
    { weight: 1, arbitrary: rawNumbers },
    { weight: 1, arbitrary: fc.json({ maxDepth: 4 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((d) => deepManifest(known, d)) },
  );
  return { digest, tag, reference, repoName, range, contentRange, authorization, mediaTypeHeader, manifestBody, bigNumber };
}

const CONFIG = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, seed: 'fuzz' });
const LAYER = `layer-fuzz-${'z'.repeat(100)}`;

/** A valid manifest whose extra field nests `depth` arrays deep. */
function deepManifest(known: Known, depth: number): string {
  const valid = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: known.config, size: CONFIG.length }, layers: [] };
  return JSON.stringify(valid).replace(/\}$/, `,"deep":${'['.repeat(depth)}${']'.repeat(depth)}}`);
}

// ---------------------------------------------------------------------------------------------------------------
// The raw client and the one assertion

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
afterAll(() => agent.destroy());

function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    // node:http sends a GET, DELETE or OPTIONS body without any length unless told: say it, as a client would.
    if (body !== undefined) headers = { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error('timed out')));
    req.end(body);
  });
}

const CODES = new Set(Object.keys(ERROR_CATALOGUE));

/** 2xx, or a 4xx carrying exactly the error envelope with a catalogued code. */
function assertClean(method: string, path: string, res: Raw): void {
  const what = `${method} ${path} → ${res.status} ${res.body.toString('utf8').slice(0, 400)}`;
  if (res.status >= 200 && res.status < 300) return;
  expect(res.status >= 400 && res.status < 500, what).toBe(true);
  if (method === 'HEAD') return;
  expect(String(res.headers['content-type']), what).toMatch(/^application\/json/);
  const body = JSON.parse(res.body.toString('utf8')) as { errors: { code: string; message: string; detail: unknown }[] };
  expect(Object.keys(body), what).toEqual(['errors']);
  expect(body.errors, what).toHaveLength(1);
  const [e] = body.errors;
  expect(Object.keys(e).sort(), what).toEqual(['code', 'detail', 'message']);
  expect(CODES.has(e.code), what).toBe(true);
  expect(typeof e.message === 'string' && e.message.length > 0, what).toBe(true);
}

function withAuth(auth: string, valid: string, headers: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = v;
  if (auth === 'VALID') out.authorization = valid;
  else if (auth !== 'NONE') out.authorization = auth;
  return out;
}

const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const NO_HEADERS = { accept: undefined, 'content-type': undefined, range: undefined, 'content-range': undefined };

// ---------------------------------------------------------------------------------------------------------------
// Against the server

describe.each(DB_KINDS)('fuzzing the server (%s)', (db) => {
  let s: TestServer;
  let port: number;
  let known: Known;
  let A: ReturnType<typeof arbs>;
  let valid: string;

  beforeAll(async () => {
    // Garbage credentials are failed logins: a limit this high keeps the valid ones working all along.
    s = await startServer({ db, config: { auth: { login: { failureLimit: 1_000_000 } } } });
    port = Number(new URL(s.url).port);
    valid = basic(s.admin);
    for (const name of ['fz', 'fza']) expect((await s.api('POST', '/api/v1/registries', { name })).status).toBe(201);
    const c = new OciClient(s.url, s.admin);
    const config = await c.pushBlob('fz/app', CONFIG);
    const layer = await c.pushBlob('fz/app', LAYER);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: CONFIG.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer, size: LAYER.length }],
    });
    expect((await c.pushManifest('fz/app', '1.0', manifest)).status).toBe(201);
    known = { repo: 'fz/app', manifest: sha256(manifest), layer, config };
    // The API fuzzing gets its own registry, so its deletes leave the /v2 fixture alone.
    const c2 = new OciClient(s.url, s.admin);
    for (const repo of ['fza/app', 'fza/nested/img']) {
      await c2.pushBlob(repo, CONFIG);
      await c2.pushBlob(repo, LAYER);
      expect((await c2.pushManifest(repo, '1.0', manifest)).status).toBe(201);
    }
    A = arbs(known);
  });
  afterAll(async () => s?.close());

  it('/v2 endpoints: any method, name, reference and headers', async () => {
    const suffix = fc.oneof(
      A.reference.map((r) => `/manifests/${r}`),
      A.digest.map((d) => `/blobs/${d}`),
      fc.constant('/blobs/uploads/'),
      fc.oneof(urlGarbage, hexOf(64)).map((id) => `/blobs/uploads/${id}`),
      fc.tuple(opt(A.bigNumber), opt(urlGarbage)).map(([n, last]) => `/tags/list?${n !== undefined ? `n=${n}&` : ''}${last !== undefined ? `last=${last}` : ''}`),
      fc.tuple(A.digest, opt(urlGarbage)).map(([d, t]) => `/referrers/${d}${t !== undefined ? `?artifactType=${t}` : ''}`),
      urlGarbage.map((g) => `/${g}`),
    );
    const path = fc.oneof(
      { weight: 8, arbitrary: fc.tuple(A.repoName, suffix).map(([n, sfx]) => `/v2/${n}${sfx}`) },
      { weight: 1, arbitrary: fc.tuple(opt(A.bigNumber), opt(urlGarbage)).map(([n, last]) => `/v2/_catalog?${n !== undefined ? `n=${n}&` : ''}${last !== undefined ? `last=${last}` : ''}`) },
      { weight: 1, arbitrary: urlGarbage.map((g) => `/v2/${g}`) },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS'),
        path,
        A.authorization,
        fc.record({ accept: opt(A.mediaTypeHeader), 'content-type': opt(A.mediaTypeHeader), range: opt(A.range), 'content-range': opt(A.contentRange) }),
        opt(fc.oneof(A.manifestBody, fc.string({ maxLength: 50 }))),
        async (method, p, auth, headers, body) => {
          assertClean(method, p, await send(port, method, p, withAuth(auth, valid, headers), method === 'GET' || method === 'HEAD' ? undefined : body));
        },
      ),
      {
        numRuns: RUNS * 3,
        // Found by this fuzzer on PostgreSQL: text with NUL in a query parameter failed the query (500).
        examples: [
          ['GET', '/v2/_catalog?last=%00', 'VALID', NO_HEADERS, undefined],
          ['GET', `/v2/${known.repo}/tags/list?last=a%00`, 'VALID', NO_HEADERS, undefined],
        ],
      },
    );
  });

  it('PUT manifests: random JSON, valid-ish manifests, wrong types, huge numbers, deep nesting', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 3, arbitrary: fc.constant(known.repo) }, { weight: 1, arbitrary: A.repoName }), A.reference, opt(A.mediaTypeHeader), A.manifestBody, async (repo, ref, contentType, body) => {
        const path = `/v2/${repo}/manifests/${ref}`;
        const res = await send(port, 'PUT', path, withAuth('VALID', valid, { 'content-type': contentType }), body);
        assertClean('PUT', path, res);
        if (res.status === 201) {
          // What was stored can be read back through both APIs.
          const digest = String(res.headers['docker-content-digest']);
          const got = await send(port, 'GET', `/v2/${repo}/manifests/${digest}`, { authorization: valid });
          assertClean('GET', `/v2/${repo}/manifests/${digest}`, got);
          const [registry, ...image] = repo.split('/');
          const apiPath = `/api/v1/registries/${registry}/images/${encodeURIComponent(image.join('/'))}/artifacts/${digest}`;
          assertClean('GET', apiPath, await send(port, 'GET', apiPath, { authorization: valid }));
        }
      }),
      {
        numRuns: RUNS * 2,
        examples: [
          // Found by this fuzzer: Fastify's own body for a URL it cannot decode, not the envelope.
          ['%Z', '', undefined, ''],
          // Found by this fuzzer: a manifest nested thousands deep was stored, then its API detail was a 500.
          [known.repo, '1.0', undefined, deepManifest(known, 5000)],
        ],
      },
    );
  });

  it('GET blobs with any Range', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'HEAD'), fc.oneof(fc.constantFrom(known.layer, known.config), A.digest), opt(A.range), async (method, digest, range) => {
        const path = `/v2/${known.repo}/blobs/${digest}`;
        const res = await send(port, method, path, withAuth('VALID', valid, { range }));
        assertClean(method, path, res);
        if (res.status === 206) expect(String(res.headers['content-range'])).toMatch(/^bytes \d+-\d+\/\d+$/);
      }),
      {
        numRuns: RUNS,
        // Found by this fuzzer: the digest was echoed in Docker-Content-Digest before it was checked, and a NUL there
        // failed the response outside the error handler; a malformed %-escape after '#' was a URIError (500).
        examples: [['GET', '%00', undefined], ['HEAD', '%0A', undefined], ['GET', '#%E0%A4%A', undefined]],
      },
    );
  });

  it('upload sessions: chunks with any Content-Range and body, closed with any digest', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(opt(A.contentRange), fc.uint8Array({ maxLength: 64 })), { maxLength: 3 }),
        opt(fc.uint8Array({ maxLength: 64 })),
        opt(A.contentRange),
        fc.oneof(A.digest, fc.constant('')),
        async (chunks, last, lastRange, digest) => {
          const started = await send(port, 'POST', `/v2/${known.repo}/blobs/uploads/`, { authorization: valid });
          expect(started.status).toBe(202);
          const location = String(started.headers.location);
          for (const [contentRange, bytes] of chunks) {
            const res = await send(port, 'PATCH', location, withAuth('VALID', valid, { 'content-range': contentRange, 'content-type': 'application/octet-stream' }), Buffer.from(bytes));
            assertClean('PATCH', location, res);
          }
          const close = `${location}?digest=${digest}`;
          assertClean('PUT', close, await send(port, 'PUT', close, withAuth('VALID', valid, { 'content-range': lastRange, 'content-type': 'application/octet-stream' }), last ? Buffer.from(last) : undefined));
          assertClean('DELETE', location, await send(port, 'DELETE', location, { authorization: valid }));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('/service/token: any scope, grant and form, then the token on /v2', async () => {
    const scope = fc.oneof(
      fc.tuple(fc.constantFrom('repository', 'registry', 'user', ''), fc.oneof(A.repoName, fc.constant('catalog')), fc.array(fc.constantFrom('pull', 'push', 'delete', '*', '', 'x'), { maxLength: 3 })).map(([t, n, a]) => `${t}:${n}:${a.join(',')}`),
      urlGarbage,
    );
    const query = fc.array(fc.tuple(fc.constantFrom('scope', 'service', 'offline_token', 'account', 'client_id'), fc.oneof(scope, urlGarbage)), { maxLength: 4 }).map((kv) => kv.map(([k, v]) => `${k}=${v}`).join('&'));
    const form = fc.array(fc.tuple(fc.constantFrom('grant_type', 'username', 'password', 'refresh_token', 'scope', 'service'), fc.oneof(fc.constantFrom('password', 'refresh_token', s.admin.accessKey, s.admin.secretKey), urlGarbage)), { maxLength: 5 }).map((kv) => kv.map(([k, v]) => `${k}=${v}`).join('&'));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST'), query, A.authorization, opt(fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain')), form, async (method, q, auth, contentType, body) => {
        const path = `/service/token?${q}`;
        const res = await send(port, method, path, withAuth(auth, valid, { 'content-type': method === 'POST' ? contentType : undefined }), method === 'POST' ? body : undefined);
        assertClean(method, path, res);
        if (res.status === 200) {
          const { token } = JSON.parse(res.body.toString('utf8')) as { token: string };
          const probe = `/v2/${known.repo}/manifests/1.0`;
          assertClean('GET', probe, await send(port, 'GET', probe, { authorization: `Bearer ${token}` }));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('/api/v1 endpoints: any method, path parameters, query and body', async () => {
    const registry = fc.oneof({ weight: 3, arbitrary: fc.constant('fza') }, { weight: 1, arbitrary: component }, { weight: 2, arbitrary: urlGarbage });
    const image = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('app', 'nested%2Fimg', 'nested/img') }, { weight: 2, arbitrary: urlGarbage });
    const user = fc.oneof(fc.constantFrom('me', 'admin', 'nobody'), component, urlGarbage);
    const route = fc.oneof(
      fc.constant('/registries'),
      registry.map((r) => `/registries/${r}`),
      registry.map((r) => `/registries/${r}/images`),
      fc.tuple(registry, image).map(([r, i]) => `/registries/${r}/images/${i}`),
      fc.tuple(registry, image).map(([r, i]) => `/registries/${r}/images/${i}/artifacts`),
      fc.tuple(registry, image, A.digest).map(([r, i, d]) => `/registries/${r}/images/${i}/artifacts/${d}`),
      fc.tuple(registry, image).map(([r, i]) => `/registries/${r}/images/${i}/tags`),
      fc.tuple(registry, image, A.reference).map(([r, i, t]) => `/registries/${r}/images/${i}/tags/${t}`),
      fc.constantFrom('/me', '/users', '/audit', '/session'),
      user.map((u) => `/users/${u}`),
      user.map((u) => `/users/${u}/access-keys`),
      fc.tuple(user, urlGarbage).map(([u, k]) => `/users/${u}/access-keys/${k}`),
      fc.tuple(user, urlGarbage).map(([u, k]) => `/users/${u}/access-keys/${k}/regenerate`),
      urlGarbage.map((g) => `/${g}`),
    );
    const queryValue = fc.oneof(A.bigNumber, urlGarbage, fc.constantFrom('true', 'false', '0', '-1', '1e3', 'NaN', '%00', 'a%00b', '%', '_', "'", '"'));
    const query = fc.array(fc.tuple(fc.constantFrom('page', 'perPage', 'search', 'force', 'digest', 'actor', 'action', 'x'), queryValue), { maxLength: 4 }).map((kv) => (kv.length ? `?${kv.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));
    const body = fc.oneof(
      fc.record({ name: fc.oneof(component, fc.string({ maxLength: 30 }), A.digest), digest: fc.oneof(A.digest, fc.jsonValue()) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
      fc.record({ username: fc.oneof(component, fc.string({ unit: 'binary', maxLength: 30 })), role: fc.oneof(fc.constantFrom('admin', 'member', 'viewer'), fc.jsonValue()), password: fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.jsonValue()) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
      fc.json({ maxDepth: 3 }),
      fc.string({ unit: 'binary', maxLength: 60 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'HEAD', 'POST', 'PATCH', 'PUT', 'DELETE'),
        route,
        query,
        A.authorization,
        opt(fc.oneof({ weight: 4, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: A.mediaTypeHeader })),
        opt(body),
        async (method, r, q, auth, contentType, b) => {
          // Never the fixture admin's own account: removing its keys would lock the fuzzer out.
          if (/^\/users\/(me|admin)\/access-keys\/[^/]+/.test(r) && method === 'DELETE') return;
          const path = `/api/v1${r}${q}`;
          const sendBody = method === 'GET' || method === 'HEAD' ? undefined : b;
          assertClean(method, path, await send(port, method, path, withAuth(auth, valid, { 'content-type': sendBody === undefined ? undefined : contentType }), sendBody));
        },
      ),
      {
        numRuns: RUNS * 3,
        // Found by this fuzzer: a page number whose offset overflows 64 bits was a database error (500).
        examples: [
          ['GET', '/registries', '?page=461168601842738784', 'VALID', undefined, undefined],
          // Found by this fuzzer on PostgreSQL: text with NUL in a query parameter failed the query (500).
          ['POST', '/users/%00/access-keys//regenerate', '', 'VALID', undefined, undefined],
          ['GET', '/registries', '?search=a%00', 'VALID', undefined, undefined],
          ['POST', '/session', '', 'NONE', 'application/json', JSON.stringify({ username: 'a\0', password: 'whatever-password' })],
          ['GET', '/me', '', basic({ accessKey: 'NUL\0', secretKey: 'x' }), undefined, undefined],
        ],
      },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The parsers

/** Calls f; anything thrown must be an NcrError with a catalogued code. */
function returnsOrNcrError(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    if (!isNcrError(err) || !CODES.has(err.code)) throw new Error(`threw a non-NcrError: ${String(err)}`, { cause: err });
  }
}

describe('fuzzing the OCI parsers', () => {
  const anyString = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: fc.constantFrom(...'az09._-/:@AZ'.split('')), maxLength: 300 }), hexOf(64).map((h) => `sha256:${h}`));
  const known: Known = { repo: 'fz/app', manifest: sha256('m'), layer: sha256('l'), config: sha256('c') };

  it('reference and digest parsers return or throw NcrError', () => {
    fc.assert(
      fc.property(anyString, opt(fc.string({ maxLength: 260 })), (s, address) => {
        returnsOrNcrError(() => parseReference(s));
        returnsOrNcrError(() => parseDigest(s));
        returnsOrNcrError(() => validateTag(s));
        returnsOrNcrError(() => validateRegistryName(s, address));
        returnsOrNcrError(() => validateRepositoryName(s, address));
      }),
      { numRuns: PARSER_RUNS },
    );
  });

  it('the manifest parser returns or throws NcrError', () => {
    const A = arbs(known);
    fc.assert(
      fc.property(fc.oneof(A.manifestBody, fc.jsonValue().map((v) => JSON.stringify(v))), opt(fc.oneof(A.mediaTypeHeader, fc.string({ unit: 'binary' }))), (body, contentType) => {
        const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : new Uint8Array(body);
        returnsOrNcrError(() => parseManifest(bytes, contentType));
      }),
      { numRuns: PARSER_RUNS },
    );
  });
});
