/**
 * `ncr generate-key-pair`, `ncr sign`, `ncr verify`: cosign-compatible signing without cosign (same key files, same
 * `sha256-<hex>.sig` layout, same payload; with --new-bundle-format the Sigstore bundle referrer cosign v3 writes), and
 * `ncr trust ...`: a registry's keys and pull policy over /api/v1.
 * The key password comes from COSIGN_PASSWORD, as with cosign.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { bundleReferrer, checkBundle, cosignSignBundle, isSignatureBundle, parseBundle, SIGSTORE_BUNDLE_V03 } from '../domain/trust/bundle.js';
import { generateCosignKeyPair, openCosignKey, parsePublicKey } from '../domain/trust/cosign-key.js';
import { checkSimpleSignature, SIGNATURE_ANNOTATION, signPayload, simpleSignatures, simpleSigningPayload, SIMPLESIGNING } from '../domain/trust/signatures.js';
import { call, conn, out, type Conn } from './client.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const ACCEPT = [OCI_MANIFEST, 'application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json'].join(', ');
const enc = encodeURIComponent;
const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** `registry/image:tag` or `registry/image@sha256:...` */
export function parseImageRef(ref: string): { repo: string; tag?: string; digest?: string } {
  const at = ref.indexOf('@');
  if (at > 0) return { repo: ref.slice(0, at), digest: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: 'latest' };
}

/** /v2 over Basic auth (ncr takes an access key there). */
async function v2(c: Conn, method: string, path: string, init: { body?: Uint8Array | string; headers?: Record<string, string> } = {}): Promise<Response> {
  return fetch(`${c.url}/v2/${path}`, {
    method,
    headers: { authorization: 'Basic ' + Buffer.from(`${c.accessKey}:${c.secretKey}`).toString('base64'), ...(init.headers ?? {}) },
    body: init.body as RequestInit['body'],
  });
}

async function must(res: Response, what: string): Promise<Response> {
  if (res.ok) return res;
  const text = await res.text();
  let msg = text;
  try {
    const e = (JSON.parse(text) as { errors?: { code: string; message: string }[] }).errors?.[0];
    if (e) msg = `${e.code}: ${e.message}`;
  } catch {
    // not JSON: the text as it is
  }
  throw new Error(`${what}: HTTP ${res.status} ${msg}`);
}

export async function resolveDigest(c: Conn, ref: { repo: string; tag?: string; digest?: string }): Promise<string> {
  if (ref.digest) return ref.digest;
  const res = await must(await v2(c, 'HEAD', `${ref.repo}/manifests/${ref.tag}`, { headers: { accept: ACCEPT } }), `resolving ${ref.repo}:${ref.tag}`);
  const d = res.headers.get('docker-content-digest');
  if (!d) throw new Error(`the registry did not say the digest of ${ref.repo}:${ref.tag}`);
  return d;
}

async function pushBlob(c: Conn, repo: string, bytes: Uint8Array): Promise<string> {
  const digest = sha256(bytes);
  if ((await v2(c, 'HEAD', `${repo}/blobs/${digest}`)).ok) return digest;
  await must(await v2(c, 'POST', `${repo}/blobs/uploads/?digest=${digest}`, { body: bytes, headers: { 'content-type': 'application/octet-stream' } }), `uploading ${digest}`);
  return digest;
}

const sigTag = (digest: string) => `${digest.replace(':', '-')}.sig`;

function password(): string {
  const p = process.env.COSIGN_PASSWORD;
  if (p === undefined) throw new Error('set COSIGN_PASSWORD to the private key password (as for cosign)');
  return p;
}

export function trustCommands(program: Command) {
  program
    .command('generate-key-pair')
    .description('write cosign.key (encrypted with COSIGN_PASSWORD) and cosign.pub, as cosign generate-key-pair does')
    .option('--output-key-prefix <prefix>', 'file name prefix', 'cosign')
    .action(async (o: { outputKeyPrefix: string }) => {
      const { privateKeyPem, publicKeyPem } = generateCosignKeyPair(password());
      await writeFile(`${o.outputKeyPrefix}.key`, privateKeyPem, { mode: 0o600, flag: 'wx' });
      await writeFile(`${o.outputKeyPrefix}.pub`, publicKeyPem, { flag: 'wx' });
      process.stdout.write(`Private key written to ${o.outputKeyPrefix}.key\nPublic key written to ${o.outputKeyPrefix}.pub\n`);
    });

  program
    .command('sign <image>')
    .description('sign REGISTRY/IMAGE:TAG (or @DIGEST) with a cosign key; the signature is pushed as cosign does (tag sha256-<hex>.sig)')
    .requiredOption('--key <file>', 'cosign.key')
    .option('--new-bundle-format', 'push a Sigstore bundle as an OCI 1.1 referrer instead, as cosign v3 does by default')
    .action(async (image: string, o: { key: string; newBundleFormat?: boolean }, cmd: Command) => {
      const c = conn(cmd);
      const ref = parseImageRef(image);
      const key = openCosignKey(await readFile(o.key, 'utf8'), password());
      const digest = await resolveDigest(c, ref);
      if (o.newBundleFormat) {
        const subject = await must(await v2(c, 'GET', `${ref.repo}/manifests/${digest}`, { headers: { accept: ACCEPT } }), `reading ${ref.repo}@${digest}`);
        const subjectSize = (await subject.arrayBuffer()).byteLength;
        const bundle = cosignSignBundle(digest, key);
        const bundleDigest = await pushBlob(c, ref.repo, bundle);
        const empty = await pushBlob(c, ref.repo, new TextEncoder().encode('{}'));
        const manifest = bundleReferrer({ mediaType: subject.headers.get('content-type') ?? OCI_MANIFEST, digest, size: subjectSize }, { digest: bundleDigest, size: bundle.byteLength }, empty, new Date());
        const at = sha256(new TextEncoder().encode(manifest));
        await must(await v2(c, 'PUT', `${ref.repo}/manifests/${at}`, { body: manifest, headers: { 'content-type': OCI_MANIFEST } }), 'pushing the signature');
        process.stdout.write(`Pushing signature to: ${new URL(c.url).host}/${ref.repo}@${at}\n`);
        return;
      }
      const payload = simpleSigningPayload(`${new URL(c.url).host}/${ref.repo}`, digest);
      const signature = signPayload(payload, key);
      const payloadDigest = await pushBlob(c, ref.repo, payload);
      // several signatures are several layers of the one signature manifest, as cosign appends them
      const existing = await v2(c, 'GET', `${ref.repo}/manifests/${sigTag(digest)}`, { headers: { accept: OCI_MANIFEST } });
      const layers: { mediaType: string; digest: string; size: number; annotations: Record<string, string> }[] = existing.ok ? ((await existing.json()) as { layers: never[] }).layers : [];
      layers.push({ mediaType: SIMPLESIGNING, digest: payloadDigest, size: payload.byteLength, annotations: { [SIGNATURE_ANNOTATION]: signature } });
      const config = new TextEncoder().encode(
        JSON.stringify({ architecture: '', created: '0001-01-01T00:00:00Z', history: [{ created: '0001-01-01T00:00:00Z' }], os: '', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) }, config: {} }),
      );
      const configDigest = await pushBlob(c, ref.repo, config);
      const manifest = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, size: config.byteLength, digest: configDigest }, layers });
      await must(await v2(c, 'PUT', `${ref.repo}/manifests/${sigTag(digest)}`, { body: manifest, headers: { 'content-type': OCI_MANIFEST } }), 'pushing the signature');
      process.stdout.write(`Pushing signature to: ${new URL(c.url).host}/${ref.repo}:${sigTag(digest)}\n`);
    });

  program
    .command('verify <image>')
    .description("verify REGISTRY/IMAGE:TAG's cosign signatures (sha256-<hex>.sig and Sigstore bundle referrers) with a public key (cosign.pub); exits 1 when none verifies")
    .requiredOption('--key <file>', 'cosign.pub')
    .action(async (image: string, o: { key: string }, cmd: Command) => {
      const c = conn(cmd);
      const ref = parseImageRef(image);
      const { key } = parsePublicKey(await readFile(o.key, 'utf8'));
      const digest = await resolveDigest(c, ref);
      const verified: unknown[] = [];
      const failures: string[] = [];
      // Sigstore bundles (cosign v3): referrers of the image
      const referrers = await v2(c, 'GET', `${ref.repo}/referrers/${digest}?artifactType=${enc(SIGSTORE_BUNDLE_V03)}`);
      const bundles = referrers.ok ? ((await referrers.json()) as { manifests?: { digest: string }[] }).manifests ?? [] : [];
      for (const b of bundles) {
        const m = (await (await must(await v2(c, 'GET', `${ref.repo}/manifests/${b.digest}`, { headers: { accept: OCI_MANIFEST } }), 'reading a bundle manifest')).json()) as { layers?: { mediaType: string; digest: string }[] };
        const layer = (m.layers ?? []).find((l) => l.mediaType === SIGSTORE_BUNDLE_V03);
        if (!layer) continue;
        const parsed = parseBundle(new Uint8Array(await (await must(await v2(c, 'GET', `${ref.repo}/blobs/${layer.digest}`), 'reading a bundle')).arrayBuffer()));
        if (!isSignatureBundle(parsed)) continue;
        const subjectBytes = parsed.content === 'message' ? new Uint8Array(await (await must(await v2(c, 'GET', `${ref.repo}/manifests/${digest}`, { headers: { accept: ACCEPT } }), 'reading the image')).arrayBuffer()) : undefined;
        const check = checkBundle(parsed, digest, subjectBytes, [{ id: o.key, key }]);
        if (check.status !== 'verified') failures.push(check.reason);
        else verified.push(parsed.content === 'dsse' && parsed.bundle.content.$case === 'dsseEnvelope' ? JSON.parse(Buffer.from(parsed.bundle.content.dsseEnvelope.payload).toString('utf8')) : { messageDigest: digest });
      }
      const res = await v2(c, 'GET', `${ref.repo}/manifests/${sigTag(digest)}`, { headers: { accept: OCI_MANIFEST } });
      if (res.status === 404 && bundles.length === 0) throw new Error(`no signatures found for ${ref.repo}@${digest}`);
      const sigs = res.status === 404 ? [] : simpleSignatures((await (await must(res, 'reading the signatures')).json()) as never);
      for (const sig of sigs) {
        const payload = new Uint8Array(await (await must(await v2(c, 'GET', `${ref.repo}/blobs/${sig.payloadDigest}`), 'reading a payload')).arrayBuffer());
        const check = checkSimpleSignature(sig, payload, digest, [{ id: o.key, key }]);
        if (check.status === 'verified') verified.push(JSON.parse(new TextDecoder().decode(payload)));
        else failures.push(check.reason);
      }
      if (verified.length === 0) throw new Error(`no matching signatures for ${ref.repo}@${digest}: ${failures.join('; ') || 'none found'}`);
      process.stderr.write(`\nVerification for ${new URL(c.url).host}/${image} --\nThe following checks were performed on each of these signatures:\n  - The cosign claims were validated\n  - The signatures were verified against the specified public key\n\n`);
      process.stdout.write(JSON.stringify(verified) + '\n');
    });

  const trust = program.command('trust').description("a registry's signing keys (or the global ones) and its pull policy");
  const keysPath = (registry: string | undefined) => (registry ? `/registries/${enc(registry)}/trust/keys` : '/trust/keys');
  trust
    .command('keys [registry]')
    .description('list the keys of a registry (without one: the global keys)')
    .action(async (registry: string | undefined, _o, cmd: Command) => {
      const c = conn(cmd);
      out(c, await call(c, 'GET', keysPath(registry)), ['id', 'name', 'algorithm', 'fingerprint', 'createdAt']);
    });
  trust
    .command('add-key <name> <pemFile> [registry]')
    .description('trust a public key (cosign.pub) in a registry (without one: in every registry, admins)')
    .action(async (name: string, pemFile: string, registry: string | undefined, _o, cmd: Command) => {
      const c = conn(cmd);
      out(c, await call(c, 'POST', keysPath(registry), { name, pem: await readFile(pemFile, 'utf8') }), ['id', 'name', 'algorithm', 'fingerprint']);
    });
  trust.command('delete-key <id> [registry]').action(async (id: string, registry: string | undefined, _o, cmd: Command) => {
    const c = conn(cmd);
    await call(c, 'DELETE', `${keysPath(registry)}/${enc(id)}`);
    process.stdout.write(`deleted key ${id}\n`);
  });
  trust
    .command('policy <registry> [setting]')
    .description('show, or set to "verified-only" or "any", what the registry lets be pulled')
    .action(async (registry: string, setting: string | undefined, _o, cmd: Command) => {
      const c = conn(cmd);
      const path = `/registries/${enc(registry)}/trust/policy`;
      if (setting !== undefined && setting !== 'verified-only' && setting !== 'any') throw new Error('the setting is "verified-only" or "any"');
      out(c, setting === undefined ? await call(c, 'GET', path) : await call(c, 'PUT', path, { requireVerified: setting === 'verified-only' }), ['requireVerified']);
    });
}
