/**
 * `npm run bench:scan`: how long the built-in scanner takes on a Debian-sized image built in memory (a base layer of
 * ~4,000 files and 60 MB with 400 executables and a dpkg database of 150 packages, plus an app layer), cold, and
 * again for a second image sharing the base (its layer read from the cache). Prints one line per measurement.
 */
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Scanner } from '../src/domain/scanning/scanner.js';
import type { ScanStore } from '../src/domain/scanning/ports.js';
import { tarBytes, type LayerEntry } from '../test/helpers/scan-layers.js';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function baseLayer(): LayerEntry[] {
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

async function main() {
  const blobs = new Map<string, Uint8Array>();
  const put = (b: Uint8Array) => (blobs.set(sha(b), b), sha(b));
  const t0 = performance.now();
  const base = gzipSync(await tarBytes(baseLayer()), { level: 1 });
  const mk = async (seed: string) => {
    const app = gzipSync(await tarBytes([{ path: `app/node_modules/lib-${seed}/package.json`, content: JSON.stringify({ name: `lib-${seed}`, version: '1.0.0' }) }]));
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', seed }));
    const m = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: put(config), size: config.length }, layers: [base, app].map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: put(l), size: l.length })) }));
    return { digest: put(m), m };
  };
  const one = await mk('a');
  const two = await mk('b');
  const manifests = new Map([one, two].map((x) => [x.digest, x.m]));
  process.stdout.write(`image built: base layer ${(base.length / 1e6).toFixed(1)} MB gzip, ${(performance.now() - t0).toFixed(0)} ms\n`);
  const store = { affected: async () => [], advisories: async () => [] } as unknown as ScanStore;
  const scanner = new Scanner(
    {
      manifest: async (_r, d) => (manifests.has(d) ? { content: manifests.get(d)!, mediaType: 'application/vnd.oci.image.manifest.v1+json' } : undefined),
      blob: (_r, d) => ({
        async *[Symbol.asyncIterator]() {
          const b = blobs.get(d)!;
          for (let i = 0; i < b.length; i += 256 * 1024) yield b.subarray(i, i + 256 * 1024);
        },
      }),
    },
    store,
  );
  for (const [label, img] of [['first image (cold)', one], ['second image sharing the base (layer cache)', two]] as const) {
    const t = performance.now();
    const inv = await scanner.inventory('bench/app', img.digest);
    await scanner.match(inv);
    process.stdout.write(`scan ${label}: ${(performance.now() - t).toFixed(0)} ms, ${inv.packages.length} packages\n`);
  }
}

void main();
