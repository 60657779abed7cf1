/**
 * The OCI distribution operations the scenarios are made of, spoken the same way to both registries: uploads as
 * POST then PUT (the spec's monolithic form; distribution ignores a body on POST) or POST, PATCHes, PUT; pulls
 * checked against their digest; manifests pushed by tag.
 */
import { randomBytes } from 'node:crypto';
import { expectStatus, sha256, type Body, type RegistryClient } from './client.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const ACCEPT = [OCI_MANIFEST, 'application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json'].join(', ');

export const pullScope = (repo: string) => `repository:${repo}:pull`;
export const pushScope = (repo: string) => `repository:${repo}:pull,push`;
export const CATALOG_SCOPE = 'registry:catalog:*';

const OCTETS = { 'content-type': 'application/octet-stream' };

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

function location(res: { headers: Record<string, string | string[] | undefined> }, what: string): string {
  const loc = res.headers.location;
  const v = Array.isArray(loc) ? loc[0] : loc;
  if (!v) throw new Error(`${what}: no Location header`);
  return v;
}

export async function startUpload(c: RegistryClient, repo: string): Promise<string> {
  const res = await c.send({ method: 'POST', path: `/v2/${repo}/blobs/uploads/`, scope: pushScope(repo), sink: 'text' });
  return location(expectStatus(res, `start upload in ${repo}`, 202), 'start upload');
}

/** POST, then PUT ?digest= with the whole body. */
export async function pushBlob(c: RegistryClient, repo: string, body: Body, digest: string): Promise<void> {
  const loc = await startUpload(c, repo);
  const res = await c.send({ method: 'PUT', path: withDigest(loc, digest), headers: OCTETS, body, scope: pushScope(repo), sink: 'text' });
  expectStatus(res, `push blob ${digest} to ${repo}`, 201);
}

/** POST, one PATCH per chunk with its Content-Range, then PUT ?digest= without a body. */
export async function pushChunked(c: RegistryClient, repo: string, chunks: Buffer[][], digest: string): Promise<void> {
  let loc = await startUpload(c, repo);
  let offset = 0;
  for (const chunk of chunks) {
    const len = chunk.reduce((n, b) => n + b.length, 0);
    const res = await c.send({
      method: 'PATCH',
      path: loc,
      headers: { ...OCTETS, 'content-range': `${offset}-${offset + len - 1}` },
      body: chunk,
      scope: pushScope(repo),
      sink: 'text',
    });
    loc = location(expectStatus(res, `PATCH ${offset}-${offset + len - 1} in ${repo}`, 202), 'PATCH');
    offset += len;
  }
  const res = await c.send({ method: 'PUT', path: withDigest(loc, digest), scope: pushScope(repo), sink: 'text' });
  expectStatus(res, `close upload of ${digest} in ${repo}`, 201);
}

/** GET a blob, hashing it; throws unless the bytes have the digest. Resolves with the size. */
export async function pullBlob(c: RegistryClient, repo: string, digest: string): Promise<number> {
  const res = await c.send({ method: 'GET', path: `/v2/${repo}/blobs/${digest}`, scope: pullScope(repo), sink: 'sha256' });
  expectStatus(res, `pull blob ${digest} from ${repo}`, 200);
  if (res.digest !== digest) throw new Error(`pull blob ${digest} from ${repo}: the bytes have digest ${res.digest}`);
  return res.bytes;
}

export async function mountBlob(c: RegistryClient, repo: string, digest: string, from: string): Promise<void> {
  const res = await c.send({ method: 'POST', path: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, scope: `${pushScope(repo)} ${pullScope(from)}`, sink: 'text' });
  expectStatus(res, `mount ${digest} from ${from} into ${repo}`, 201);
}

export async function putManifest(c: RegistryClient, repo: string, ref: string, body: Buffer, mediaType = OCI_MANIFEST): Promise<string> {
  const res = await c.send({ method: 'PUT', path: `/v2/${repo}/manifests/${ref}`, headers: { 'content-type': mediaType }, body, scope: pushScope(repo), sink: 'text' });
  expectStatus(res, `push manifest ${repo}:${ref}`, 201);
  return String(res.headers['docker-content-digest'] ?? '');
}

export interface Image {
  config: { body: Buffer; digest: string };
  layer: { body: Buffer; digest: string };
  manifest(annotations?: Record<string, string>): Buffer;
}

/** A small image: a config, one 1 KiB layer, and its manifest (optionally annotated, to make distinct manifests). */
export function smallImage(seed = randomBytes(8).toString('hex')): Image {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Labels: { seed } } }));
  const layer = randomBytes(1024);
  const img: Image = {
    config: { body: config, digest: sha256(config) },
    layer: { body: layer, digest: sha256(layer) },
    manifest(annotations) {
      return Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: img.config.digest, size: config.length },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: img.layer.digest, size: layer.length }],
          ...(annotations ? { annotations } : {}),
        }),
      );
    },
  };
  return img;
}

/** A manifest with a config and no layers: one mount and one PUT make a repository both registries list. */
export function configOnlyManifest(config: { body: Buffer; digest: string }): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.body.length },
      layers: [],
    }),
  );
}

export async function pushImageBlobs(c: RegistryClient, repo: string, img: Image): Promise<void> {
  await pushBlob(c, repo, img.config.body, img.config.digest);
  await pushBlob(c, repo, img.layer.body, img.layer.digest);
}
