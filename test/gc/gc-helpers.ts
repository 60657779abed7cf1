/** Pushing and pulling images over HTTP for the garbage collection tests, and running a GC to its end. */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { OciClient, sha256 } from '../helpers/oci-client.js';
import type { TestServer } from '../helpers/server.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

export interface Pushed {
  digest: string;
  body: string;
  blobs: string[];
}

export function desc(mediaType: string, content: string) {
  return { mediaType, digest: sha256(content), size: Buffer.byteLength(content) };
}

/** An image manifest over the given config and layers (contents), with optional extra fields (subject, artifactType). */
export function imageManifest(config: string, layers: string[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: desc(OCI_CONFIG, config), layers: layers.map((l) => desc(OCI_LAYER, l)), ...extra });
}

/** Pushes the blobs (monolithic) and the manifest, by tag or (without one) by digest. */
export async function pushImage(c: OciClient, repo: string, o: { config: string; layers: string[]; tag?: string; extra?: Record<string, unknown> }): Promise<Pushed> {
  for (const b of [o.config, ...o.layers]) await c.pushBlob(repo, b);
  const body = imageManifest(o.config, o.layers, o.extra);
  const res = await c.pushManifest(repo, o.tag ?? sha256(body), body);
  expect(res.status, await res.clone().text()).toBe(201);
  return { digest: sha256(body), body, blobs: [o.config, ...o.layers].map((b) => sha256(b)) };
}

export async function pushIndex(c: OciClient, repo: string, children: Pushed[], tag?: string): Promise<Pushed> {
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: children.map((ch, i) => ({ mediaType: OCI_MANIFEST, digest: ch.digest, size: Buffer.byteLength(ch.body), platform: { architecture: `arch${i}`, os: 'linux' } })),
  });
  const res = await c.pushManifest(repo, tag ?? sha256(body), body, OCI_INDEX);
  expect(res.status, await res.clone().text()).toBe(201);
  return { digest: sha256(body), body, blobs: [] };
}

/** GETs the manifest and every blob it references; returns what failed (empty when the image pulls completely). */
export async function pullProblems(c: OciClient, repo: string, ref: string): Promise<string[]> {
  const res = await c.req('GET', `/v2/${repo}/manifests/${ref}`, { headers: { accept: `${OCI_MANIFEST}, ${OCI_INDEX}` } });
  if (res.status !== 200) return [`${repo}:${ref} manifest ${res.status}`];
  const m = (await res.json()) as { config?: { digest: string }; layers?: { digest: string }[] };
  const problems: string[] = [];
  for (const d of [m.config?.digest, ...(m.layers ?? []).map((l) => l.digest)].filter((x): x is string => Boolean(x))) {
    const b = await c.req('GET', `/v2/${repo}/blobs/${d}`);
    const bytes = new Uint8Array(await b.arrayBuffer());
    if (b.status !== 200) problems.push(`${repo}:${ref} blob ${d} ${b.status}`);
    else if (sha256(bytes) !== d) problems.push(`${repo}:${ref} blob ${d} has digest ${sha256(bytes)}`);
  }
  return problems;
}

/** Where the fs blob store keeps a blob of the server. */
export function blobFile(s: TestServer, digest: string): string {
  const [alg, hex] = digest.split(':') as [string, string];
  return join(s.dataDir, 'storage', 'blobs', alg, hex.slice(0, 2), hex);
}

export async function fileExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

export interface GcRunView {
  id: string;
  status: string;
  counts: Record<string, number>;
  params: Record<string, unknown>;
  message: string | null;
}

/**
 * Works due jobs until the run has ended (the node's own runner loop may have claimed it first, or be in the middle
 * of a tick that began before the run was queued: runDue then returns before the run is done), and returns it.
 */
export async function untilEnded(s: TestServer, id: string): Promise<GcRunView> {
  for (let i = 0; ; i++) {
    await s.app.jobs.runner.runDue();
    const run = await s.api('GET', `/api/v1/gc/runs/${id}`);
    expect(run.status).toBe(200);
    if (run.body.status !== 'queued' && run.body.status !== 'running') return run.body as GcRunView;
    if (i > 3000) throw new Error(`run ${id} has not ended: ${JSON.stringify(run.body)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Starts a run through the API, works it, and returns the finished execution. */
export async function runGc(s: TestServer, body: { dryRun?: boolean; deleteUntagged?: boolean } = {}): Promise<GcRunView> {
  const started = await s.api('POST', '/api/v1/gc/run', body);
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  const run = await untilEnded(s, started.body.id);
  expect(run.status, JSON.stringify(run)).toBe('succeeded');
  return run;
}

export async function storageBytes(s: TestServer, registry: string): Promise<number> {
  const r = await s.api('GET', `/api/v1/registries/${registry}`);
  expect(r.status).toBe(200);
  return r.body.storageBytes as number;
}
