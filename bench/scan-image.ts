/**
 * The Debian-sized image the scan benchmarks use: the debootstrap bookworm minbase the scanner's end-to-end test
 * builds and caches (test/helpers/debian-rootfs.ts) when this machine has it, else one made in memory with the same
 * shape (a base layer of ~4,000 files and 57 MB gzip with 400 executables and a dpkg database of 150 packages).
 * Images made from it share that base layer and differ in a small app layer of their own.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { cachedDebianRootfs } from '../test/helpers/debian-rootfs.js';
import { tarBytes, type LayerEntry } from '../test/helpers/scan-layers.js';

export const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function syntheticBase(): LayerEntry[] {
  const entries: LayerEntry[] = [
    { path: 'etc/os-release', link: '../usr/lib/os-release' },
    { path: 'usr/lib/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
  ];
  const status = Array.from({ length: 150 }, (_, i) => `Package: pkg${i}\nStatus: install ok installed\nArchitecture: amd64\nSource: src${i % 60}\nVersion: 1.${i}-1\nDescription: package ${i}\n`).join('\n');
  entries.push({ path: 'var/lib/dpkg/status', content: status });
  // executables that are ELF but not Go (read to their end, as a real /usr/bin is), and plain files
  for (let i = 0; i < 400; i++) entries.push({ path: `usr/bin/tool${i}`, content: Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), randomBytes(60_000)]), mode: 0o755 });
  for (let i = 0; i < 3600; i++) entries.push({ path: `usr/share/doc/p${i % 150}/f${i}.txt`, content: randomBytes(9_000).toString('base64') });
  return entries;
}

export interface BaseLayer {
  /** what it is, for the printed line */
  label: string;
  gz: Buffer;
  digest: string;
  diffId: string;
}

/** The debootstrap root file system's layer when cached on this machine, else the synthetic one. */
export async function debianBaseLayer(): Promise<BaseLayer> {
  const real = await cachedDebianRootfs();
  if (real) {
    const gz = await readFile(real.layerPath);
    return { label: `Debian bookworm minbase from debootstrap (${(gz.length / 1e6).toFixed(0)} MB gzip)`, gz, digest: real.digest, diffId: real.diffId };
  }
  const tar = await tarBytes(syntheticBase());
  const gz = gzipSync(tar, { level: 1 });
  return { label: `synthetic Debian-sized base (${(gz.length / 1e6).toFixed(0)} MB gzip; no debootstrap root file system cached)`, gz, digest: sha256(gz), diffId: sha256(tar) };
}

export interface BenchImage {
  manifest: Buffer;
  digest: string;
  /** digest → bytes of the config and the app layer (the base is not repeated) */
  blobs: Map<string, Buffer>;
}

/** An image of the base and an app layer of its own (one npm package named after `seed`). */
export async function imageOn(base: BaseLayer, seed: string): Promise<BenchImage> {
  const tar = await tarBytes([{ path: `app/node_modules/lib-${seed}/package.json`, content: JSON.stringify({ name: `lib-${seed}`, version: '1.0.0' }) }]);
  const app = gzipSync(tar);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [base.diffId, sha256(tar)] } }));
  const layers = [
    { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: base.digest, size: base.gz.length },
    { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(app), size: app.length },
  ];
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length }, layers }));
  return { manifest, digest: sha256(manifest), blobs: new Map([[sha256(config), config], [sha256(app), app]]) };
}
