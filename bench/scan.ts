/**
 * `npm run bench:scan`: how long the built-in scanner takes, in this process, on a Debian-sized image (bench/scan-image.ts:
 * the cached debootstrap bookworm minbase, else a synthetic one of the same shape) plus an app layer, cold, and again
 * for a second image sharing the base (its layer read from the cache). Prints one line per measurement.
 * `npm run bench` measures the same through a running ncr (scenario cap-scan).
 */
import { Scanner } from '../src/domain/scanning/scanner.js';
import type { ScanStore } from '../src/domain/scanning/ports.js';
import { debianBaseLayer, imageOn } from './scan-image.js';

async function main() {
  const t0 = performance.now();
  const base = await debianBaseLayer();
  const one = await imageOn(base, 'a');
  const two = await imageOn(base, 'b');
  const blobs = new Map([[base.digest, base.gz], ...one.blobs, ...two.blobs]);
  const manifests = new Map([one, two].map((x) => [x.digest, x.manifest]));
  process.stdout.write(`image: ${base.label}, ready in ${(performance.now() - t0).toFixed(0)} ms\n`);
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
