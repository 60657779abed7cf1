/**
 * cap-replication (ncr only, printed after the table): two ncr servers, A and B; a set of images pushed to A (20 images
 * of 3 distinct 1 MiB layers, and one image with a 64 MiB layer); each round copies them all A→B twice, into fresh
 * registries on B: once by a manual replication run (the rule created and checked untimed; timed from POST .../run to
 * the run's execution ending) and once by `skopeo copy` of each image in turn (one process per image, as a script
 * would do it). Prints MB/s of layer and config bytes for both and their ratio.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { sha256 } from './client.js';
import { MiB, type BenchConfig } from './config.js';
import { median } from './load.js';
import { OCI_MANIFEST, pushBlob, putManifest } from './oci.js';
import { ADMIN, REGISTRY, startNcr, type Server } from './servers.js';
import { api } from './capabilities.js';

const run = promisify(execFile);

interface RepImage {
  name: string;
  blobs: { body: Buffer; digest: string }[];
  manifest: Buffer;
  /** config and layers: what a copy moves (manifests are noise next to it) */
  bytes: number;
}

/**
 * An image whose layers are gzip streams (stored, level 0) of random bytes: skopeo sniffs layer compression and would
 * gzip a layer that does not look compressed, changing its digest; a real gzip stream it copies as it is, as ncr does.
 */
function image(name: string, layerSizes: number[]): RepImage {
  const layers = layerSizes.map((n) => gzipSync(randomBytes(n), { level: 0 }));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map(() => `sha256:${'0'.repeat(64)}`) }, config: { Labels: { name } } }));
  const blob = (body: Buffer) => ({ body, digest: sha256(body) });
  const c = blob(config);
  const ls = layers.map(blob);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: c.digest, size: c.body.length },
      layers: ls.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.body.length })),
    }),
  );
  return { name, blobs: [c, ...ls], manifest, bytes: c.body.length + ls.reduce((n, l) => n + l.body.length, 0) };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 600_000, everyMs = 50): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const host = (s: Server) => new URL(s.url).host;

export async function replicationBench(cfg: BenchConfig, log: (m: string) => void): Promise<string> {
  const count = cfg.quick ? 6 : 20;
  const bigSize = (cfg.quick ? 16 : 64) * MiB;
  const rounds = Math.min(cfg.rounds, 3);
  const dirA = join(cfg.tmp, 'cap-repl-a');
  const dirB = join(cfg.tmp, 'cap-repl-b');
  const a = await startNcr(cfg, dirA, { env: { NCR_ENDPOINTS_ALLOW_PRIVATE_NETWORKS: 'true' } });
  const b = await startNcr(cfg, dirB);
  try {
    const images = [...Array.from({ length: count }, (_, i) => image(`rep-${String(i).padStart(2, '0')}`, [MiB, MiB, MiB])), image('rep-big', [bigSize])];
    const total = images.reduce((n, i) => n + i.bytes, 0);
    const c = a.client();
    for (const img of images) {
      const repo = `${REGISTRY}/${img.name}`;
      for (const bl of img.blobs) await pushBlob(c, repo, bl.body, bl.digest);
      await putManifest(c, repo, '1', img.manifest);
    }
    await api(a.url, 'POST', '/endpoints', { name: 'b', provider: 'ncr', url: b.url, accessId: ADMIN.user, secret: ADMIN.pass });

    const repl: number[] = [];
    const skopeo: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      // replication into a fresh registry on B: rule created and checked (untimed), then the run timed to its end
      const target = `repl${round}`;
      await api(b.url, 'POST', '/registries', { name: target });
      const rule = `to-b-${round}`;
      await api(a.url, 'POST', `/registries/${REGISTRY}/replications`, { name: rule, endpoint: 'b', targetRegistry: target });
      await until(`replication ${rule} to be Enabled`, async () => ((await api(a.url, 'POST', `/registries/${REGISTRY}/replications/${rule}/check`)).status === 'enabled' ? true : undefined), 60_000, 500);
      const t0 = performance.now();
      const started = await api(a.url, 'POST', `/registries/${REGISTRY}/replications/${rule}/run`);
      const done = await until(`replication run ${started.id}`, async () => {
        const page = await api(a.url, 'GET', `/registries/${REGISTRY}/replications/${rule}/executions?perPage=100`);
        const e = (page.items as { id: string; status: string; message?: string; counts: Record<string, number>; createdAt: string; startedAt: string | null }[]).find(
          (x) => x.id === started.id,
        );
        return e && e.status !== 'queued' && e.status !== 'running' ? e : undefined;
      });
      const rs = (performance.now() - t0) / 1000;
      if (done.status !== 'succeeded' || done.counts.copied !== images.length) throw new Error(`replication run ended ${done.status} (${done.message ?? ''}), counts ${JSON.stringify(done.counts)}`);
      // where the run's time went: waiting for its job, the big image, the small ones (each task's own duration)
      const tasks = (await api(a.url, 'GET', `/registries/${REGISTRY}/replications/${rule}/executions/${started.id}/tasks?perPage=100`)).items as { subject: string; detail: { durationMs?: number } }[];
      const big = tasks.filter((t) => t.subject.startsWith(`${REGISTRY}/rep-big@`)).reduce((n, t) => n + (t.detail.durationMs ?? 0), 0);
      const small = tasks.filter((t) => !t.subject.startsWith(`${REGISTRY}/rep-big@`)).reduce((n, t) => n + (t.detail.durationMs ?? 0), 0);
      const queued = done.startedAt ? (Date.parse(done.startedAt) - Date.parse(done.createdAt)) / 1000 : NaN;
      const breakdown = `queued ${queued.toFixed(2)} s, ${count} small images ${(small / 1000).toFixed(2)} s, the big one ${(big / 1000).toFixed(2)} s`;
      await api(a.url, 'DELETE', `/registries/${REGISTRY}/replications/${rule}`);
      repl.push(total / 1e6 / rs);

      // skopeo copy of each image in turn into another fresh registry on B
      const skTarget = `skopeo${round}`;
      await api(b.url, 'POST', '/registries', { name: skTarget });
      const creds = `${ADMIN.user}:${ADMIN.pass}`;
      const t1 = performance.now();
      for (const img of images) {
        await run(
          'skopeo',
          ['copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', '--src-creds', creds, '--dest-creds', creds, `docker://${host(a)}/${REGISTRY}/${img.name}:1`, `docker://${host(b)}/${skTarget}/${img.name}:1`],
          { timeout: 300_000 },
        );
      }
      const ss = (performance.now() - t1) / 1000;
      skopeo.push(total / 1e6 / ss);
      log(`cap-replication round ${round}/${rounds}: replication run ${rs.toFixed(2)} s (${repl.at(-1)!.toFixed(0)} MB/s; ${breakdown}), skopeo copy ${ss.toFixed(2)} s (${skopeo.at(-1)!.toFixed(0)} MB/s)`);
    }
    // the copies are whole: the last round's images on B have the same manifest digests as on A
    const cb = b.client();
    for (const img of images) {
      for (const reg of [`repl${rounds}`, `skopeo${rounds}`]) {
        const res = await cb.send({ method: 'HEAD', path: `/v2/${reg}/${img.name}/manifests/1`, headers: { accept: OCI_MANIFEST }, scope: `repository:${reg}/${img.name}:pull` });
        if (res.status !== 200 || res.headers['docker-content-digest'] !== sha256(img.manifest)) throw new Error(`${reg}/${img.name}:1 on B: HTTP ${res.status}, digest ${String(res.headers['docker-content-digest'])}`);
      }
    }
    const r = median(repl);
    const s = median(skopeo);
    return (
      `cap-replication: ${count} images × 3 × 1 MiB + 1 image × ${bigSize / MiB} MiB (${(total / 1e6).toFixed(0)} MB) A→B, median of ${rounds} round(s), fresh target registries each: ` +
      `manual replication run ${r.toFixed(0)} MB/s (POST run to the execution's end), skopeo copy image by image ${s.toFixed(0)} MB/s; ratio ${(r / s).toFixed(2)}×`
    );
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await rm(dirA, { recursive: true, force: true });
    await rm(dirB, { recursive: true, force: true });
  }
}
