/** Composition root: buildApp(config) wires storage, domain services and HTTP. Nothing else imports everything. */
import { readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { auditEntryOf } from './domain/audit/audit.js';
import { IdentityService, type IdentityStores } from './domain/auth/identity.service.js';
import { KeyRing, Sealer } from './domain/auth/key-ring.js';
import { LoginLimiter } from './domain/auth/login-limiter.js';
import { newAccessKeyId, newSecretKey } from './domain/auth/secrets.js';
import { SessionService } from './domain/auth/session.service.js';
import { TokenService } from './domain/auth/token.service.js';
import { systemClock, type Clock } from './domain/clock.js';
import { ExecutionService } from './domain/executions/service.js';
import { GcService, type GcStores } from './domain/gc/gc.service.js';
import type { JobStore, ScheduleStore } from './domain/queue/ports.js';
import { JobQueue } from './domain/queue/queue.js';
import { OutboxDispatcher } from './domain/outbox/dispatcher.js';
import { CleanupService } from './domain/policies/cleanup.service.js';
import { PolicyService, type PolicyStores } from './domain/policies/policy.service.js';
import { ProtectionGuard } from './domain/policies/protection.js';
import { TrustService } from './domain/trust/trust.service.js';
import { BlobService } from './domain/registry/blob.service.js';
import { ManifestService, PULL_THROUGH_ACTOR } from './domain/registry/manifest.service.js';
import type { CacheStores } from './domain/cache/ports.js';
import { CacheService } from './domain/cache/service.js';
import type { PullGuard, RegistryCoreStores } from './domain/registry/ports.js';
import { PullRecorder } from './domain/registry/pull-recorder.js';
import { RegistryService } from './domain/registry/registry.service.js';
import { RepositoryResolver } from './domain/registry/repository-resolver.js';
import { UploadService } from './domain/registry/upload.service.js';
import type { EndpointStores } from './domain/endpoints/ports.js';
import { EndpointService } from './domain/endpoints/service.js';
import { REPLICATION_SOURCE_EVENTS, ReplicationService } from './domain/replication/replication.service.js';
import { SOURCE_EVENT_TYPES } from './domain/webhooks/event-types.js';
import { WebhookService } from './domain/webhooks/service.js';
import type { Config } from './config/index.js';
import { apiRoutes } from './http/api/index.js';
import { sessionRoutes } from './http/api/session.routes.js';
import { Authenticator } from './http/auth.js';
import { sendError } from './http/errors.js';
import { opsRoutes } from './http/ops.routes.js';
import { ociRoutes } from './http/oci/router.js';
import { tokenRoutes } from './http/token.routes.js';
import { staticRoutes } from './http/web/static.routes.js';
import { cleanupJobs } from './jobs/cleanup.job.js';
import { gcJobs } from './jobs/gc.job.js';
import { maintenanceJobs, maintenanceSchedules } from './jobs/maintenance.job.js';
import { replicationJobs } from './jobs/replication.job.js';
import { JobRunner } from './jobs/runner.js';
import { uploadPurgeJob } from './jobs/upload-purge.job.js';
import { webhookDeliveryJob } from './jobs/webhook-delivery.job.js';
import { WEBHOOK_PURGE_SCHEDULE, webhookPurgeJob } from './jobs/webhook-purge.job.js';
import { GuardedHttpClient } from './outbound/http-client.js';
import { loadSigningSecret } from './storage/keys/signing-key.js';
import { KyselyArtifactStore, KyselyBlobMetaStore, KyselyTagStore } from './storage/meta/kysely/artifact.repo.js';
import { KyselyAuditStore } from './storage/meta/kysely/audit.repo.js';
import { KyselyAccessKeyStore, KyselyLoginFailureStore, KyselySigningKeyStore, KyselyUserStore } from './storage/meta/kysely/auth.repo.js';
import { openMetaDb, pingDb } from './storage/meta/kysely/connect.js';
import { openBlobStore } from './wiring/blob-store.js';
import { KyselyExecutionStore } from './storage/meta/kysely/executions.repo.js';
import { KyselyGcStore } from './storage/meta/kysely/gc.repo.js';
import { KyselyJobStore, KyselyScheduleStore } from './storage/meta/kysely/jobs.repo.js';
import { KyselyOutboxStore } from './storage/meta/kysely/outbox.repo.js';
import { KyselyPolicyStore } from './storage/meta/kysely/policies.repo.js';
import { KyselyTrustStore } from './storage/meta/kysely/trust.repo.js';
import { KyselyRegistryStore, KyselyRepositoryStore } from './storage/meta/kysely/registry.repo.js';
import { KyselySessionStore } from './storage/meta/kysely/session.repo.js';
import { KyselyUnitOfWork, type OutboxHooks } from './storage/meta/kysely/uow.js';
import { ecrTokenSource } from './outbound/ecr-token.js';
import { OciRemoteClient } from './outbound/oci-client.js';
import { QuotaGate } from './domain/registry/quota.js';
import { KyselyEndpointStore } from './storage/meta/kysely/endpoints.repo.js';
import { KyselyReplicationStore } from './storage/meta/kysely/replication.repo.js';
import { KyselyCacheStore } from './storage/meta/kysely/cache.repo.js';
import { FsFillSpools } from './storage/spool/fs-spool.js';
import { KyselyWebhookStore } from './storage/meta/kysely/webhooks.repo.js';
import type { Db } from './storage/meta/kysely/util.js';
import type { ScanService } from './domain/scanning/service.js';
import { wireScanning } from './wiring/scanning.js';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface Bootstrap {
  username: string;
  password: string;
  accessKey: string;
  secretKey: string;
  /** which values were generated here (and so must be shown once); given ones are never printed */
  generated: { password: boolean; key: boolean };
}

/** What a caller may swap in: the clock (tests move it instead of sleeping). */
export interface Adapters {
  clock?: Clock;
}

export interface App {
  fastify: FastifyInstance;
  config: Config;
  clock: Clock;
  /** the outbox dispatcher: `drain()` delivers every pending event now (tests); `subscribe`/`on` for capabilities */
  outbox: OutboxDispatcher;
  /** the job queue (enqueue, cancel, schedules) and this node's runner (`runDue()` runs what is due now) */
  jobs: { queue: JobQueue; runner: JobRunner };
  executions: ExecutionService;
  webhooks: WebhookService;
  /** vulnerability scanning (domain/scanning) */
  scans: ScanService;
  /** online garbage collection (start a run, schedule, history) */
  gc: GcService;
  /** remote registries (replication targets, image cache sources) */
  endpoints: EndpointService;
  replication: ReplicationService;
  /** image cache (pull-through) registries */
  cache: CacheService;
  /** set when this start created the first admin */
  bootstrap?: Bootstrap;
  /** Maintenance operations the jobs run on a schedule, callable directly (tests, admin tooling). */
  maintenance: { purgeUploads(maxIdleMs: number): Promise<number> };
  /** Writes buffered pull records and delivers every pending outbox event now (tests, tools): no waiting on timers. */
  flush(): Promise<void>;
  /** Listens on config.server.host:config.server.port; resolves with the URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

function parseForm(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

export async function buildApp(config: Config, adapters: Adapters = {}): Promise<App> {
  const clock = adapters.clock ?? systemClock;
  const meta = await openMetaDb({ databaseUrl: config.database.url, dataDir: config.dataDir, poolMax: config.database.pool.max, onIdleError: (err) => fastify.log.warn({ err }, 'an idle database connection failed and was discarded') });
  const { store: blobStore, close: closeBlobStore } = await openBlobStore(config, meta);

  const fastify = Fastify({
    logger: { level: config.server.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie'] },
    routerOptions: { maxParamLength: 1024 },
    bodyLimit: 1024 * 1024,
    // Per-request log lines only when debugging: the metrics carry the traffic, and the hot path stays quiet.
    logController: new LogController({ disableRequestLogging: config.server.logLevel !== 'debug' && config.server.logLevel !== 'trace' }),
    // A URL Fastify cannot decode (e.g. a malformed %-escape) gets the error envelope too, not Fastify's own body.
    frameworkErrors: (err: Error, req: FastifyRequest, reply: FastifyReply) => sendError(req, reply, err),
    ...(config.server.tls.cert && config.server.tls.key ? { https: { cert: readFileSync(config.server.tls.cert), key: readFileSync(config.server.tls.key) } } : {}),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

  // --- the foundation: outbox, unit of work per store set, job queue, executions ---------------------------------
  const outboxStore = new KyselyOutboxStore(meta.db, meta.dialect, meta.dialect === 'postgres' ? config.database.url : undefined);
  const outbox = new OutboxDispatcher(outboxStore, clock, { pollIntervalMs: config.jobs.eventsPollIntervalMs, leaseMs: 30_000, batchSize: 200 }, (err, ctx) =>
    fastify.log.error({ err, ...ctx }, 'delivering an outbox event failed'),
  );
  const hooks: OutboxHooks = { auditOf: auditEntryOf, committed: (events) => outbox.committed(events) };
  const uowOf = <S extends object>(bind: (db: Db) => S) => new KyselyUnitOfWork(meta.db, meta.dialect, bind, hooks);

  const coreStores = (db: Db): RegistryCoreStores => ({
    registries: new KyselyRegistryStore(db),
    repositories: new KyselyRepositoryStore(db),
    // link writes coordinate with garbage collection: under the blob's lock, and only while its bytes are there
    blobs: new KyselyBlobMetaStore(db, {
      dialect: meta.dialect,
      exists: async (d) => (await blobStore.stat(d)) !== undefined,
      // half the GC safe window, less the minute a commit may leave modifiedAt behind (0 with a window under 2 minutes)
      freshMs: Math.max(0, (config.gc.safeWindowSeconds * 1000) / 2 - 60_000),
    }),
    artifacts: new KyselyArtifactStore(db),
    tags: new KyselyTagStore(db),
    guard: new ProtectionGuard(new KyselyPolicyStore(db)),
  });
  const stores = coreStores(meta.db);
  const coreUow = uowOf(coreStores);
  const identityStores = (db: Db): IdentityStores => ({ users: new KyselyUserStore(db), keys: new KyselyAccessKeyStore(db), sessions: new KyselySessionStore(db) });
  const jobStores = (db: Db): { jobs: JobStore; schedules: ScheduleStore } => ({ jobs: new KyselyJobStore(db, meta.dialect), schedules: new KyselyScheduleStore(db) });
  const { jobs: jobStore, schedules: scheduleStore } = jobStores(meta.db);
  const queue = new JobQueue(jobStore, scheduleStore, clock);
  const runner = new JobRunner(jobStore, scheduleStore, uowOf(jobStores), clock, { pollIntervalMs: config.jobs.pollIntervalMs, concurrency: config.jobs.concurrency }, fastify.log);
  queue.onEnqueue(() => runner.wake());
  const executionStores = (db: Db) => ({ executions: new KyselyExecutionStore(db, meta.dialect), jobs: new KyselyJobStore(db, meta.dialect) });
  const executions = new ExecutionService(executionStores(meta.db).executions, queue, uowOf(executionStores), clock);

  // --- identity and tokens ------------------------------------------------------------------------------------------
  const identityBase = identityStores(meta.db);
  const identity = new IdentityService(identityBase.users, identityBase.keys, uowOf(identityStores), outbox, clock, {
    maxKeysPerUser: config.auth.keys.maxPerUser,
    keyRotationDays: config.auth.keys.rotationDays,
  });
  const sealingSecret = await loadSigningSecret(config.dataDir, config.auth.signingKey.encryptionKey);
  const keyRing = new KeyRing(new KyselySigningKeyStore(meta.db), new Sealer(sealingSecret), clock, {
    rotationMs: config.auth.signingKey.rotationDays * 86_400_000,
    // a retired key verifies until the longest-lived token it signed has expired (plus an hour of clock skew)
    retainMs: config.auth.refreshTokenTtlSeconds * 1000 + 3600_000,
  });
  const tokens = new TokenService(keyRing, { issuer: 'ncr', accessTtlSeconds: config.auth.tokenTtlSeconds, refreshTtlSeconds: Math.min(config.auth.refreshTokenTtlSeconds, 43200) }, clock);
  const limiter = new LoginLimiter(new KyselyLoginFailureStore(meta.db), config.auth.login.failureLimit, config.auth.login.failureWindowSeconds * 1000, clock);
  const auth = new Authenticator(identity, tokens, limiter, config.server.publicUrl, config.server.privateUrl);
  const sessions = new SessionService(identity, identityBase.sessions, limiter, { idleMs: config.auth.session.idleSeconds * 1000, absoluteMs: config.auth.session.absoluteSeconds * 1000 }, clock);

  // --- the registry core ----------------------------------------------------------------------------------------------
  const resolver = new RepositoryResolver(stores, coreUow, clock);
  const pulls = new PullRecorder(coreUow, (err) => fastify.log.error({ err }, 'recording pulls failed'));
  const registries = new RegistryService(stores, coreUow, clock);
  const pullGuards: PullGuard[] = [];
  const manifests = new ManifestService(stores, resolver, pulls, coreUow, clock, pullGuards);
  const quota = new QuotaGate(stores, coreUow, clock, outbox);
  const blobs = new BlobService(stores, blobStore, resolver, coreUow, outbox, clock, quota);
  const uploads = new UploadService(stores, blobStore, resolver, clock, quota);

  // --- image cleanup and protection ------------------------------------------------------------------------------------
  const policyStores = (db: Db): PolicyStores => ({ policies: new KyselyPolicyStore(db), schedules: new KyselyScheduleStore(db) });
  const policyStore = new KyselyPolicyStore(meta.db);
  const policies = new PolicyService(policyStore, scheduleStore, uowOf(policyStores), (name) => registries.find(name), clock);
  const cleanup = new CleanupService(policyStore, registries, manifests, executions, uowOf(() => ({})), clock);
  for (const h of cleanupJobs({ cleanup, registries, queue })) runner.register(h);

  // --- image trust: signing keys, signature status, the pull policy -------------------------------------------------
  const trustStores = (db: Db) => ({ trust: new KyselyTrustStore(db) });
  const trust = new TrustService(trustStores(meta.db).trust, uowOf(trustStores), (name) => registries.find(name), {
    accessories: (repoName, digest) => manifests.accessories(repoName, digest),
    bytes: (repoName, digest, max) => blobs.bytes(repoName, digest, max),
    parents: async (repoName, digest) => {
      const repo = await stores.repositories.getByName(repoName);
      return repo ? stores.artifacts.parents(repo.id, digest) : [];
    },
    manifest: async (repoName, digest) => {
      const repo = await stores.repositories.getByName(repoName);
      const stored = repo && (await stores.artifacts.content(repo.id, digest));
      if (!repo || !stored) return undefined;
      const tags = await stores.tags.list({ repositoryId: repo.id, digest, page: 1, perPage: 100 });
      return { ...stored, tags: tags.items.map((t) => t.name) };
    },
  }, clock);
  pullGuards.push(trust.pullGuard);
  // every node: a policy or key change reloads the policy set; a new or removed signature drops cached statuses
  outbox.on(() => void trust.refresh().catch(() => undefined), ['TrustPolicyChanged', 'TrustKeyAdded', 'TrustKeyDeleted']);
  outbox.on(() => trust.forget(), ['ArtifactPushed', 'ArtifactDeleted', 'TagCreated', 'TagMoved', 'TagDeleted']);

  // --- vulnerability scanning: scans as jobs, auto scan on push, the schedule, allow lists, prevent pull ------------
  const scans = wireScanning({ config, meta, uowOf, stores, blobs, registries, tokens, queue, runner, outbox, clock, registryHost: () => registryHost() });
  pullGuards.push(scans.pullGuard);

  // --- jobs: the hourly upload purge and the daily housekeeping -----------------------------------------------------
  runner.register(uploadPurgeJob(uploads, config.uploads.maxIdleSeconds * 1000));
  for (const h of maintenanceJobs({ executions, jobs: jobStore, outbox: outboxStore, clock, retentionMs: config.jobs.executionRetentionDays * 86_400_000 })) runner.register(h);
  for (const s of maintenanceSchedules({ uploadPurge: config.uploads.purgeSchedule })) await queue.schedule(s);

  // --- webhooks: outbox → a delivery row and job per webhook → one POST per attempt ----------------------------------
  const webhookStores = (db: Db) => ({ webhooks: new KyselyWebhookStore(db), jobs: new KyselyJobStore(db, meta.dialect) });
  const registryHost = (): string => {
    if (config.server.publicUrl) return new URL(config.server.publicUrl).host;
    const a = fastify.server.address();
    if (!a || typeof a === 'string') return `${hostname()}:${config.server.port}`;
    const host = a.address === '0.0.0.0' || a.address === '::' ? hostname() : a.address.includes(':') ? `[${a.address}]` : a.address;
    return `${host}:${a.port}`;
  };
  const wh = config.webhooks;
  const webhooks = new WebhookService(
    webhookStores(meta.db).webhooks,
    uowOf(webhookStores),
    new GuardedHttpClient({ allowPrivateNetworks: wh.allowPrivateNetworks, userAgent: `ncr/${VERSION}` }),
    // its own key (a different derivation of the same secret) for webhook auth headers and signing secrets
    new Sealer(`webhooks\0${sealingSecret}`),
    {
      registryHost,
      registryExists: async (name) => (await stores.registries.getByName(name)) !== undefined,
      repositoryCreatedAt: async (name) => (await stores.repositories.getByName(name))?.createdAt,
    },
    queue,
    clock,
    { timeoutMs: wh.timeoutMs, maxAttempts: wh.maxAttempts, retryBackoffMs: wh.retryBackoffMs, breaker: wh.breaker },
  );
  outbox.subscribe('webhooks', async (e) => void (await webhooks.fanOut(e)), { types: SOURCE_EVENT_TYPES, maxAttempts: 20, backoffMs: 1000 });
  // the fan-out remembers each registry's webhooks for a few seconds: a change on any node drops that at once
  outbox.on((e) => webhooks.forget('registry' in e.event ? e.event.registry : undefined), ['WebhookCreated', 'WebhookUpdated', 'WebhookDeleted', 'RegistryDeleted']);
  runner.register(webhookDeliveryJob(webhooks, { concurrency: wh.concurrency, timeoutMs: wh.timeoutMs }));
  runner.register(webhookPurgeJob(webhooks, config.jobs.executionRetentionDays * 86_400_000));
  await queue.schedule(WEBHOOK_PURGE_SCHEDULE);
  // --- remote registries: replication targets and image cache sources ----------------------------------------------
  const ep = config.endpoints;
  const endpointStores = (db: Db): EndpointStores => ({ endpoints: new KyselyEndpointStore(db) });
  const endpoints = new EndpointService(
    endpointStores(meta.db).endpoints,
    uowOf(endpointStores),
    // its own key (another derivation of the same secret) for remote registries' credentials
    new Sealer(`endpoints\0${sealingSecret}`),
    (o) => new OciRemoteClient({ ...o, allowPrivateNetworks: ep.allowPrivateNetworks, timeoutMs: ep.timeoutMs, userAgent: `ncr/${VERSION}` }),
    ecrTokenSource({ ...(ep.ecrApiUrl ? { apiUrl: ep.ecrApiUrl } : {}) }),
    clock,
    { allowPrivateNetworks: ep.allowPrivateNetworks },
  );
  // --- replication: a registry's pushes copied to an endpoint (outbox → job per artifact; manual runs) -------------
  const replicationStores = (db: Db) => ({ replication: new KyselyReplicationStore(db) });
  const replication = new ReplicationService({ store: replicationStores(meta.db).replication, uow: uowOf(replicationStores), registries, manifests, blobs, endpoints, executions, queue, clock });
  endpoints.addUsage((id) => replication.usage(id));
  outbox.subscribe('replication', (e) => replication.onEvent(e), { types: [...REPLICATION_SOURCE_EVENTS], maxAttempts: 20, backoffMs: 1000 });
  for (const h of replicationJobs(replication)) runner.register(h);
  // --- image cache registries: pull-through from an endpoint, through the core as the system ------------------------
  const cacheStores = (db: Db): CacheStores => ({ cache: new KyselyCacheStore(db) });
  const cache = new CacheService(
    cacheStores(meta.db).cache,
    uowOf(cacheStores),
    endpoints,
    { create: (name, actor, address, kind) => registries.create(name, actor, address, kind), delete: (name, force, actor) => registries.delete(name, force, actor) },
    {
      tagDigest: async (repository, tag) => (await stores.artifacts.lookup(repository, { tag }))?.artifact?.digest,
      storeManifest: async (repository, reference, bytes, mediaType) => (await manifests.putPulled(repository, reference, bytes, mediaType)).digest,
      deleteTag: async (repository, tag) => manifests.deleteTag(await resolver.forRead(repository), tag, PULL_THROUGH_ACTOR),
      linkStored: (repository, digest) => blobs.linkStored(repository, digest),
      storeBlob: async (repository, digest, body, size) => void (await uploads.fill(repository, digest, body, size)),
    },
    (name, kind, actor) => policies.applyDefaults(name, kind, actor),
    clock,
    { tagRecheckMs: config.cache.tagRecheckSeconds * 1000, fillTimeoutMs: config.cache.fillTimeoutSeconds * 1000 },
    fastify.log,
    outbox,
    async (name) => (await stores.registries.getByName(name)) !== undefined,
    // pulls that join a fill stream it from here as it arrives (unlinked temp files: nothing stays behind)
    new FsFillSpools(join(tmpdir(), 'ncr-cache-fills')),
  );
  endpoints.addUsage((id) => cache.usage(id));
  manifests.setPullThroughSource(cache);
  blobs.setPullThroughSource(cache);
  // --- garbage collection --------------------------------------------------------------------------------------------
  const gcStores = (db: Db): GcStores => ({ gc: new KyselyGcStore(db, meta.dialect) });
  const gc = new GcService({
    store: gcStores(meta.db).gc,
    uow: uowOf(gcStores),
    blobStore,
    executions,
    queue,
    clock,
    opts: { safeWindowMs: config.gc.safeWindowSeconds * 1000, batchSize: config.gc.batchSize },
    // through the core, as the system: its checks (in use, protection) apply under the repository's lock
    removeArtifact: async (repository, digest, pushedBefore) =>
      (await manifests.deleteArtifact(await resolver.forRead(repository), digest, { userId: null, username: 'system', remoteAddr: null }, { unlessInUse: { pushedBefore } })).length > 0,
  });
  for (const h of gcJobs(gc)) runner.register(h);
  await gc.ensureDefaultSchedule(config.gc.schedule ?? '');

  const bootstrap = await bootstrapAdmin(identity, config);

  fastify.setErrorHandler((err, req, reply) => sendError(req, reply, err));
  fastify.setNotFoundHandler((req, reply) => sendError(req, reply, Object.assign(new Error(`no such endpoint: ${req.method} ${req.url.split('?')[0]}`), { statusCode: 404 })));

  opsRoutes(fastify, { checks: { database: () => pingDb(meta.db), storage: () => blobStore.ping() } });
  const mirror = config.cache.mirrorRegistry;
  await fastify.register(async (oci) => ociRoutes(oci, { auth, blobs, uploads, manifests, registries, ...(mirror ? { mirror: (name) => cache.mirrorName(mirror, name) } : {}) }));
  await fastify.register(async (t) => {
    t.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, parseForm(body as string)));
    tokenRoutes(t, { auth, tokens, identity });
  });
  await fastify.register(fastifyCookie);
  const audit = new KyselyAuditStore(meta.db);
  const apiDeps = { auth, identity, registries, manifests, blobs, audit, sessions, executions, jobs: queue, policies, cleanup, trust, scans, webhooks, gc, endpoints, replication, cache };
  await apiRoutes(fastify, apiDeps, VERSION);
  sessionRoutes(fastify, apiDeps);
  await staticRoutes(fastify);

  await outbox.start();
  runner.start();

  let closed = false;
  return {
    fastify,
    config,
    clock,
    outbox,
    jobs: { queue, runner },
    executions,
    webhooks,
    scans,
    gc,
    endpoints,
    replication,
    cache,
    bootstrap,
    maintenance: { purgeUploads: (maxIdleMs) => uploads.purgeStale(maxIdleMs) },
    async flush() {
      await pulls.flush();
      await outbox.drain();
    },
    async listen() {
      return fastify.listen({ host: config.server.host, port: config.server.port });
    },
    async close() {
      if (closed) return;
      closed = true;
      await fastify.close();
      // a blob the image cache is still storing (its client may have all the bytes already) is finished or abandoned
      await cache.drain();
      await runner.stop();
      await pulls.flush();
      await outbox.drain().catch(() => undefined);
      await outbox.stop();
      await identity.flush().catch(() => undefined);
      await meta.close();
      await closeBlobStore();
    },
  };
}

/** On an empty database: the first admin, with a password and one access key (from config, or generated). */
async function bootstrapAdmin(identity: IdentityService, config: Config): Promise<Bootstrap | undefined> {
  if ((await identity.userCount()) > 0) return undefined;
  const system = { userId: null, username: 'system', remoteAddr: null };
  const admin = config.auth.admin;
  const keyGenerated = !admin.accessKey || !admin.secretKey;
  const b: Bootstrap = {
    username: 'admin',
    password: admin.password ?? newSecretKey().slice(0, 20),
    accessKey: keyGenerated ? newAccessKeyId() : admin.accessKey!,
    secretKey: keyGenerated ? newSecretKey() : admin.secretKey!,
    generated: { password: !admin.password, key: keyGenerated },
  };
  await identity.createUser({ username: b.username, role: 'admin', password: b.password }, system);
  await identity.createKey(b.username, system, { accessKey: b.accessKey, secretKey: b.secretKey });
  return b;
}
