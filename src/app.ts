/** Composition root: buildApp(config) wires storage, domain services and HTTP. Nothing else imports everything. */
import { readFileSync } from 'node:fs';
import fastifyCookie from '@fastify/cookie';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { subscribeAudit } from './domain/audit/audit.js';
import { IdentityService } from './domain/auth/identity.service.js';
import { LoginLimiter } from './domain/auth/login-limiter.js';
import { newAccessKeyId, newSecretKey } from './domain/auth/secrets.js';
import { SessionService } from './domain/auth/session.service.js';
import { TokenService } from './domain/auth/token.service.js';
import { EventBus } from './domain/events.js';
import { BlobService } from './domain/registry/blob.service.js';
import { ManifestService } from './domain/registry/manifest.service.js';
import type { RegistryCoreStores } from './domain/registry/ports.js';
import { PullRecorder } from './domain/registry/pull-recorder.js';
import { RegistryService } from './domain/registry/registry.service.js';
import { RepositoryResolver } from './domain/registry/repository-resolver.js';
import { UploadService } from './domain/registry/upload.service.js';
import type { Config } from './config/index.js';
import { apiRoutes } from './http/api/index.js';
import { sessionRoutes } from './http/api/session.routes.js';
import { Authenticator } from './http/auth.js';
import { sendError } from './http/errors.js';
import { opsRoutes } from './http/ops.routes.js';
import { ociRoutes } from './http/oci/router.js';
import { tokenRoutes } from './http/token.routes.js';
import { staticRoutes } from './http/web/static.routes.js';
import { Scheduler } from './jobs/scheduler.js';
import { uploadPurgeJob } from './jobs/upload-purge.job.js';
import { FsBlobStore } from './storage/blob/fs/fs-blob-store.js';
import { join } from 'node:path';
import { loadSigningKey } from './storage/keys/signing-key.js';
import { KyselyArtifactStore, KyselyBlobMetaStore, KyselyTagStore } from './storage/meta/kysely/artifact.repo.js';
import { KyselyAuditStore } from './storage/meta/kysely/audit.repo.js';
import { KyselyAccessKeyStore, KyselyUserStore } from './storage/meta/kysely/auth.repo.js';
import { openMetaDb, pingDb } from './storage/meta/kysely/connect.js';
import { KyselyRegistryStore, KyselyRepositoryStore } from './storage/meta/kysely/registry.repo.js';
import { KyselySessionStore } from './storage/meta/kysely/session.repo.js';

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export interface Bootstrap {
  username: string;
  password: string;
  accessKey: string;
  secretKey: string;
  /** which values were generated here (and so must be shown once); given ones are never printed */
  generated: { password: boolean; key: boolean };
}

export interface App {
  fastify: FastifyInstance;
  config: Config;
  events: EventBus;
  /** set when this start created the first admin */
  bootstrap?: Bootstrap;
  /** Maintenance operations the jobs run on a schedule, callable directly (tests, admin tooling). */
  maintenance: { purgeUploads(maxIdleMs: number): Promise<number> };
  /** Listens on config.host:config.port; resolves with the URL. */
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

export async function buildApp(config: Config): Promise<App> {
  const meta = await openMetaDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const blobStore = new FsBlobStore(join(config.dataDir, 'storage'));
  await blobStore.init();

  const fastify = Fastify({
    logger: { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie'] },
    routerOptions: { maxParamLength: 1024 },
    bodyLimit: 1024 * 1024,
    // Per-request log lines only when debugging: the metrics carry the traffic, and the hot path stays quiet.
    logController: new LogController({ disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace' }),
    // A URL Fastify cannot decode (e.g. a malformed %-escape) gets the error envelope too, not Fastify's own body.
    frameworkErrors: (err: Error, req: FastifyRequest, reply: FastifyReply) => sendError(req, reply, err),
    ...(config.tlsCert && config.tlsKey ? { https: { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } } : {}),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

  const events = new EventBus((err, event) => fastify.log.error({ err, event: event.type }, 'event subscriber failed'));
  const stores: RegistryCoreStores = {
    registries: new KyselyRegistryStore(meta.db),
    repositories: new KyselyRepositoryStore(meta.db),
    blobs: new KyselyBlobMetaStore(meta.db),
    artifacts: new KyselyArtifactStore(meta.db),
    tags: new KyselyTagStore(meta.db),
  };
  const audit = new KyselyAuditStore(meta.db);
  const auditLog = subscribeAudit(events, audit, (err) => fastify.log.error({ err }, 'writing the audit log failed'));

  const identity = new IdentityService(new KyselyUserStore(meta.db), new KyselyAccessKeyStore(meta.db), events);
  const tokens = new TokenService(await loadSigningKey(config.dataDir), {
    issuer: 'ncr',
    accessTtlSeconds: config.tokenTtlSeconds,
    refreshTtlSeconds: Math.min(config.refreshTokenTtlSeconds, 43200),
  });
  const limiter = new LoginLimiter(config.loginFailureLimit, config.loginFailureWindowSeconds * 1000);
  const auth = new Authenticator(identity, tokens, limiter, config.publicUrl);
  const sessions = new SessionService(identity, new KyselySessionStore(meta.db), limiter);
  sessions.subscribe(events);
  const resolver = new RepositoryResolver(stores);
  const pulls = new PullRecorder(stores.artifacts, (err) => fastify.log.error({ err }, 'recording pull times failed'));
  const registries = new RegistryService(stores, events);
  const manifests = new ManifestService(stores, resolver, pulls, events);
  const blobs = new BlobService(stores, blobStore, resolver, events);
  const uploads = new UploadService(stores, blobStore, resolver, events);

  const bootstrap = await bootstrapAdmin(identity, config);

  fastify.setErrorHandler((err, req, reply) => sendError(req, reply, err));
  fastify.setNotFoundHandler((req, reply) => sendError(req, reply, Object.assign(new Error(`no such endpoint: ${req.method} ${req.url.split('?')[0]}`), { statusCode: 404 })));

  opsRoutes(fastify, { checks: { database: () => pingDb(meta.db), storage: () => blobStore.ping() } });
  await fastify.register(async (oci) => ociRoutes(oci, { auth, blobs, uploads, manifests, registries }));
  await fastify.register(async (t) => {
    t.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, parseForm(body as string)));
    tokenRoutes(t, { auth, tokens, identity });
  });
  await fastify.register(fastifyCookie);
  // Reading the log first writes what is queued, so a caller sees its own writes.
  const auditReader = { append: (e: Parameters<typeof audit.append>[0]) => audit.append(e), list: async (q: Parameters<typeof audit.list>[0]) => (await auditLog.flush(), audit.list(q)) };
  await apiRoutes(fastify, { auth, identity, registries, manifests, blobs, audit: auditReader, sessions }, VERSION);
  sessionRoutes(fastify, { auth, identity, registries, manifests, blobs, audit, sessions });
  await staticRoutes(fastify);

  const scheduler = new Scheduler(fastify.log);
  scheduler.start([uploadPurgeJob(uploads)]);

  let closed = false;
  return {
    fastify,
    config,
    events,
    bootstrap,
    maintenance: { purgeUploads: (maxIdleMs) => uploads.purgeStale(maxIdleMs) },
    async listen() {
      return fastify.listen({ host: config.host, port: config.port });
    },
    async close() {
      if (closed) return;
      closed = true;
      scheduler.stop();
      await fastify.close();
      await pulls.flush();
      await auditLog.flush();
      await identity.flush().catch(() => undefined);
      await meta.close();
    },
  };
}

/** On an empty database: the first admin, with a password and one access key (from config, or generated). */
async function bootstrapAdmin(identity: IdentityService, config: Config): Promise<Bootstrap | undefined> {
  if ((await identity.userCount()) > 0) return undefined;
  const system = { userId: null, username: 'system', remoteAddr: null };
  const keyGenerated = !config.adminAccessKey || !config.adminSecretKey;
  const b: Bootstrap = {
    username: 'admin',
    password: config.adminPassword ?? newSecretKey().slice(0, 20),
    accessKey: keyGenerated ? newAccessKeyId() : config.adminAccessKey!,
    secretKey: keyGenerated ? newSecretKey() : config.adminSecretKey!,
    generated: { password: !config.adminPassword, key: keyGenerated },
  };
  await identity.createUser({ username: b.username, role: 'admin', password: b.password }, system);
  await identity.createKey(b.username, system, { accessKey: b.accessKey, secretKey: b.secretKey });
  return b;
}
