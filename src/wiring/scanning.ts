/**
 * The composition of vulnerability scanning (app.ts calls it): the built-in scanner reading layers through the core,
 * or an external one through Harbor's Pluggable Scanner API, the scan service with its stores, its outbox subscriber,
 * and its jobs (scans, the schedule's cycles).
 */
import type { Config } from '../config/index.js';
import type { TokenService } from '../domain/auth/token.service.js';
import type { Clock } from '../domain/clock.js';
import type { OutboxDispatcher } from '../domain/outbox/dispatcher.js';
import type { JobQueue } from '../domain/queue/queue.js';
import type { BlobService } from '../domain/registry/blob.service.js';
import type { RegistryCoreStores } from '../domain/registry/ports.js';
import type { RegistryService } from '../domain/registry/registry.service.js';
import { SCANNER_SUBJECT } from '../domain/scanning/ports.js';
import { Scanner } from '../domain/scanning/scanner.js';
import { ScanService, type ScanStores } from '../domain/scanning/service.js';
import type { JobRunner } from '../jobs/runner.js';
import { scanJobs } from '../jobs/scan.job.js';
import { HarborScanner } from '../outbound/harbor-scanner.js';
import type { MetaDb } from '../storage/meta/kysely/connect.js';
import { KyselyJobStore, KyselyScheduleStore } from '../storage/meta/kysely/jobs.repo.js';
import { KyselyScanStore } from '../storage/meta/kysely/scanning.repo.js';
import type { KyselyUnitOfWork } from '../storage/meta/kysely/uow.js';
import type { Db } from '../storage/meta/kysely/util.js';
import { readRpmDbSqlite } from '../storage/rpm/rpmdb-sqlite.js';

export interface ScanningWiring {
  config: Config;
  meta: MetaDb;
  uowOf: <S extends object>(bind: (db: Db) => S) => KyselyUnitOfWork<S>;
  stores: RegistryCoreStores;
  blobs: BlobService;
  registries: RegistryService;
  tokens: TokenService;
  queue: JobQueue;
  runner: JobRunner;
  outbox: OutboxDispatcher;
  clock: Clock;
  /** the host clients reach the registry at, once it listens */
  registryHost: () => string;
}

export function wireScanning(w: ScanningWiring): ScanService {
  const { config, meta, uowOf, stores, blobs, registries, tokens, queue, runner, outbox, clock, registryHost } = w;
  const scanStores = (db: Db): ScanStores => ({ scan: new KyselyScanStore(db), jobs: new KyselyJobStore(db, meta.dialect), schedules: new KyselyScheduleStore(db) });
  const scanStore = scanStores(meta.db).scan;
  const manifestOf = async (repoName: string, digest: string) => {
    const repo = await stores.repositories.getByName(repoName);
    return repo ? stores.artifacts.content(repo.id, digest) : undefined;
  };
  const scanner = new Scanner(
    {
      manifest: manifestOf,
      // chunks may be lent from the blob store's pool: copied, then given back
      blob: (repoName, digest) => ({
        async *[Symbol.asyncIterator]() {
          const body = await blobs.open(repoName, digest);
          try {
            for await (const chunk of body.stream as AsyncIterable<Buffer>) {
              const copy = Buffer.from(chunk);
              body.release(chunk);
              yield copy;
            }
          } finally {
            body.stream.destroy();
          }
        },
      }),
    },
    scanStore,
    readRpmDbSqlite,
  );
  // an external scanner (Harbor's Pluggable Scanner API) when configured: it pulls with a short-lived token for that
  // one repository, from the public address (or the one ncr listens on)
  const adapter = config.scanning.adapter;
  const external = adapter.url
    ? new HarborScanner({
        url: adapter.url,
        authorization: adapter.authorization,
        timeoutMs: adapter.timeoutSeconds * 1000,
        registryUrl: () => adapter.registryUrl ?? config.server.publicUrl ?? `${config.server.tls.cert ? 'https' : 'http'}://${registryHost()}`,
        pullAuthorization: async (repository) => `Bearer ${(await tokens.issueAccess('ncr', { userId: SCANNER_SUBJECT, access: [{ type: 'repository', name: repository, actions: ['pull'] }] })).token}`,
      })
    : undefined;
  const scans = new ScanService(scanStore, uowOf(scanStores), queue, scanner, (name) => registries.find(name), async (r, d) => (await manifestOf(r, d)) !== undefined, clock, external);
  outbox.subscribe('scanning', (e) => scans.onEvent(e.event), { types: ['ArtifactPushed', 'ArtifactDeleted', 'ImageDeleted', 'RegistryDeleted'], maxAttempts: 10, backoffMs: 1000 });
  outbox.on(() => scans.forgetSettings(), ['ScanSettingsChanged', 'CveAllowlistChanged', 'RegistryDeleted']);
  async function* everyArtifact(): AsyncGenerator<{ repository: string; digest: string }> {
    for (let rp = 1; ; rp++) {
      const regs = await stores.registries.list({ page: rp, perPage: 100 });
      for (const reg of regs.items) {
        for (let ip = 1; ; ip++) {
          const repos = await stores.repositories.list({ registryId: reg.id, page: ip, perPage: 100 });
          for (const repo of repos.items) {
            for (let ap = 1; ; ap++) {
              const arts = await stores.artifacts.list({ repositoryId: repo.id, withoutAccessories: true, page: ap, perPage: 100 });
              for (const a of arts.items) if (!/index|manifest\.list/.test(a.mediaType)) yield { repository: repo.name, digest: a.digest };
              if (ap * 100 >= arts.total) break;
            }
          }
          if (ip * 100 >= repos.total) break;
        }
      }
      if (rp * 100 >= regs.total) break;
    }
  }
  for (const h of scanJobs({ scans, artifacts: everyArtifact, concurrency: 2 })) runner.register(h);
  return scans;
}
