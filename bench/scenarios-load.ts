/**
 * The load patterns beyond a hot working set (issue "Performance: keep the lead on every load pattern"): blobs pulled
 * once each right after they were pushed (100 and 1,000 × 1 MiB, 100 × 8 MiB), pulls spread over 1,000 repositories,
 * manifest GET by digest across 10,000 manifests, pushes and pulls at once, and a burst of small image pushes (each a
 * config, a layer and a manifest: the write path with its transaction, outbox event and audit entry), and a pull of
 * fresh blobs right after the server restarted (cold process caches; cold page cache when the kernel lets us drop it).
 */
import { expectStatus } from './client.js';
import { MiB, type BenchConfig } from './config.js';
import { runCount, runWindow, type Sample } from './load.js';
import { ACCEPT, mountBlob, pullBlob, pullScope, pushBlob, pushImageBlobs, putManifest, smallImage } from './oci.js';
import { uniqueBlob, uniqueBlobs } from './payload.js';
import type { Scenario } from './scenarios.js';
import { REGISTRY, type Kind } from './servers.js';

const repo = (name: string) => `${REGISTRY}/${name}`;
const size = (bytes: number) => (bytes >= MiB ? `${Math.round(bytes / MiB)} MiB` : `${Math.round(bytes / 1024)} KiB`);

export function loadScenarios(cfg: BenchConfig): Scenario[] {
  const conc = cfg.blobConcurrency;
  const list: Scenario[] = [];
  const l = cfg.load;

  // fresh blobs every round, pushed (untimed) just before they are pulled once each: no blob is read twice
  for (const [id, p] of [
    ['pull-distinct-100', { count: l.distinctSmall, size: MiB }],
    ['pull-distinct-1000', { count: l.distinctMany, size: MiB }],
    ['pull-distinct-8m', { count: l.distinctLarge, size: 8 * MiB }],
  ] as const) {
    const r = repo(id);
    list.push({
      id,
      title: `blob pull of ${p.count} distinct ${size(p.size)} blobs, each pulled once right after its push, ${conc} at once`,
      headline: 'MB/s',
      limit: 'read-small',
      async run(t) {
        const blobs = uniqueBlobs(p.count, p.size);
        await runCount(conc, blobs.length, async (i) => (await pushBlob(t.client, r, blobs[i].parts, blobs[i].digest), 0));
        return runCount(conc, blobs.length, (i) => pullBlob(t.client, r, blobs[i].digest));
      },
    });
  }

  {
    // fresh blobs pushed (untimed), then the server restarted and the page cache dropped (when the kernel lets us):
    // the pull meets a process with nothing cached (tokens, links, the peer's blob descriptor cache) and, when the
    // drop worked, blobs read from the disk
    const r = repo('cold');
    const p = { count: l.coldBlobs, size: MiB };
    const title = `blob pull of ${p.count} distinct ${size(p.size)} blobs right after a restart of the server, each pulled once, ${conc} at once`;
    const s: Scenario = {
      id: 'pull-cold-restart',
      title,
      headline: 'MB/s',
      limit: 'read-small',
      async run(t) {
        if (!t.restart) throw new Error('this target cannot be restarted');
        const blobs = uniqueBlobs(p.count, p.size);
        await runCount(conc, blobs.length, async (i) => (await pushBlob(t.client, r, blobs[i].parts, blobs[i].digest), 0));
        s.title = `${title}; page cache: ${await t.restart()}`;
        return runCount(conc, blobs.length, (i) => pullBlob(t.client, r, blobs[i].digest));
      },
    };
    list.push(s);
  }

  {
    const repos = l.spreadRepos;
    const digests = new Map<Kind, string[]>();
    list.push({
      id: 'pull-spread',
      title: `blob pull spread over ${repos} repositories (one of 100 distinct 1 MiB blobs mounted in each), each repository pulled once per round, ${conc} at once`,
      headline: 'MB/s',
      limit: 'read-small',
      async setup(t) {
        const source = repo('spread-source');
        const blobs = uniqueBlobs(Math.min(100, repos), MiB);
        for (const b of blobs) await pushBlob(t.client, source, b.parts, b.digest);
        const cfgBlob = smallImage().config;
        await pushBlob(t.client, source, cfgBlob.body, cfgBlob.digest);
        const d = await runCount(8, repos, async (i) => {
          const name = repo(`spread-${String(i).padStart(4, '0')}`);
          await mountBlob(t.client, name, blobs[i % blobs.length].digest, source);
          return 0;
        }).then(() => Array.from({ length: repos }, (_, i) => blobs[i % blobs.length].digest));
        digests.set(t.kind, d);
      },
      async run(t) {
        const d = digests.get(t.kind)!;
        return runCount(conc, d.length, (i) => pullBlob(t.client, repo(`spread-${String(i).padStart(4, '0')}`), d[i]));
      },
    });
  }

  {
    const r = repo('by-digest');
    const n = l.digestManifests;
    const made = new Map<Kind, { digests: string[]; bytes: number }>();
    list.push({
      id: 'manifest-get-digest',
      title: `manifest GET by digest across ${n.toLocaleString('en')} manifests (random order), 32 at once, ${cfg.windowSeconds} s`,
      headline: 'req/s',
      limit: 'get-1k-32',
      async setup(t) {
        const img = smallImage();
        await pushImageBlobs(t.client, r, img);
        const digests: string[] = [];
        let bytes = 0;
        await runCount(16, n, async (i) => {
          const body = img.manifest({ 'org.example.n': String(i) });
          digests[i] = await putManifest(t.client, r, `m${i}`, body);
          bytes = body.length;
          return 0;
        });
        made.set(t.kind, { digests, bytes });
      },
      async run(t) {
        const { digests } = made.get(t.kind)!;
        return runWindow(32, cfg.windowSeconds, async () => {
          const d = digests[Math.floor(Math.random() * digests.length)];
          const res = await t.client.send({ method: 'GET', path: `/v2/${r}/manifests/${d}`, headers: { accept: ACCEPT }, scope: pullScope(r) });
          return expectStatus(res, 'GET manifest by digest', 200).bytes;
        });
      },
    });
  }

  {
    const r = repo('mixed');
    const hot = new Map<Kind, string[]>();
    list.push({
      id: 'mixed',
      title: `mixed: ${conc / 2} pushing fresh 1 MiB blobs while ${conc / 2} pull from 32 blobs, ${l.mixedOps} operations in all`,
      headline: 'MB/s',
      async setup(t) {
        const blobs = uniqueBlobs(32, MiB);
        for (const b of blobs) await pushBlob(t.client, r, b.parts, b.digest);
        hot.set(t.kind, blobs.map((b) => b.digest));
      },
      async run(t) {
        const d = hot.get(t.kind)!;
        const pushes = Array.from({ length: Math.ceil(l.mixedOps / 2) }, () => uniqueBlob(MiB));
        const half = Math.max(1, conc / 2);
        const [a, b] = await Promise.all([
          runCount(half, pushes.length, async (i) => (await pushBlob(t.client, r, pushes[i].parts, pushes[i].digest), MiB)),
          runCount(half, Math.floor(l.mixedOps / 2), (i) => pullBlob(t.client, r, d[i % d.length])),
        ]);
        return merge(a, b);
      },
    });
  }

  {
    const r = repo('burst');
    list.push({
      id: 'push-burst',
      title: `push burst: ${l.burstImages} small images (config, 1 KiB layer, manifest with a new tag), 16 at once; images/s`,
      headline: 'req/s',
      async run(t, round) {
        const imgs = Array.from({ length: l.burstImages }, () => smallImage());
        return runCount(16, imgs.length, async (i) => {
          const img = imgs[i];
          await pushImageBlobs(t.client, r, img);
          const body = img.manifest();
          await putManifest(t.client, r, `b${round}-${i}`, body);
          return body.length + img.config.body.length + img.layer.body.length;
        });
      },
    });
  }
  return list;
}

/** Two loads run side by side as one: every operation, the bytes of both, the longer duration. */
function merge(a: Sample, b: Sample): Sample {
  return { ops: a.ops + b.ops, bytes: a.bytes + b.bytes, seconds: Math.max(a.seconds, b.seconds), latencies: [...a.latencies, ...b.latencies] };
}

