/**
 * One configuration schema, grouped by concern. Sources, lowest priority first: defaults, an optional YAML file,
 * NCR_* environment variables, explicit overrides (CLI flags). Every leaf's environment variable and flag are derived
 * from its path (auth.login.failureLimit → NCR_AUTH_LOGIN_FAILURE_LIMIT, --auth-login-failure-limit), so adding a field
 * adds both. Validated at start; an invalid field names itself, its flag and its variable in the error.
 * Every field, default and variable is documented in docs/configuration.md (a test keeps the two in sync).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Kind, Type, type Static, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import YAML from 'yaml';

// Two annotations beyond JSON Schema on a leaf: `defaultText` says what happens when a field without a fixed default
// is unset (docs, help); `sensitive` keeps the value out of error messages.

const group = <T extends TProperties>(description: string, properties: T) =>
  Type.Object(properties, { additionalProperties: false, default: {}, description });

const seconds = (min: number, max: number | undefined, dflt: number, description: string) =>
  Type.Integer({ minimum: min, ...(max === undefined ? {} : { maximum: max }), default: dflt, description });

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const ConfigSchema = Type.Object(
  {
    dataDir: Type.String({ minLength: 1, default: './data', description: 'where the SQLite file, the fs blob store and the token signing key live by default' }),
    server: group('the HTTP listener', {
      host: Type.String({ default: '0.0.0.0', description: 'address to listen on' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 5000, description: 'port to listen on (0 = any free port)' }),
      publicUrl: Type.Optional(
        Type.String({ pattern: '^https?://', description: 'the URL clients reach ncr at (token realm, addresses in the API and console)', defaultText: 'from the request Host header' }),
      ),
      privateUrl: Type.Optional(
        Type.String({
          pattern: '^https?://',
          description: "a second address of ncr for clients on a private network (the guide's Private URI): requests whose Host is its host get manifests from ncr and layers by redirect from the object store's private address",
          defaultText: 'none',
        }),
      ),
      tls: group('serve HTTPS directly', {
        cert: Type.Optional(Type.String({ minLength: 1, description: 'PEM certificate file; needs server.tls.key', defaultText: 'none (plain HTTP)' })),
        key: Type.Optional(Type.String({ minLength: 1, description: 'PEM private key file for server.tls.cert', defaultText: 'none (plain HTTP)' })),
      }),
      logLevel: Type.Union(
        LOG_LEVELS.map((l) => Type.Literal(l)),
        { default: 'info', description: 'log level; debug adds one line per request' },
      ),
      workers: Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'processes serving requests: above 1, a primary process forks this many workers that share the listening socket (node:cluster) and restarts any that dies' }),
    }),
    database: group('the metadata database', {
      url: Type.Optional(Type.String({ minLength: 1, description: 'postgres://user@host:5432/db for PostgreSQL, or sqlite:/path/file.db', defaultText: 'SQLite at DATA_DIR/ncr.db' })),
      pool: group('the PostgreSQL connection pool', {
        max: Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'most PostgreSQL connections held open per process (SQLite uses one)' }),
      }),
    }),
    storage: group('where blobs are kept', {
      driver: Type.Union([Type.Literal('fs'), Type.Literal('s3')], { default: 'fs', description: 'blob store driver; fs is a local or mounted directory, s3 an S3-compatible bucket' }),
      fs: group('the fs driver', {
        root: Type.Optional(Type.String({ minLength: 1, description: 'directory holding blobs and uploads', defaultText: 'DATA_DIR/storage' })),
      }),
      s3: group('the s3 driver', {
        bucket: Type.Optional(Type.String({ minLength: 3, maxLength: 63, description: 'the bucket holding blobs and uploads; required with driver s3', defaultText: 'none' })),
        prefix: Type.Optional(Type.String({ pattern: '^.*/$', description: 'key prefix inside the bucket, ending in /', defaultText: 'none (keys from the bucket root)' })),
        region: Type.String({ minLength: 1, default: 'us-east-1', description: 'the bucket region (signing region for S3-compatible servers)' }),
        endpoint: Type.Optional(Type.String({ pattern: '^https?://', description: 'endpoint URL of an S3-compatible server', defaultText: "AWS's endpoint for the region" })),
        forcePathStyle: Type.Boolean({ default: false, description: 'address the bucket in the path (most S3-compatible servers) rather than the host name' }),
        accessKeyId: Type.Optional(Type.String({ minLength: 1, description: 'access key id; needs storage.s3.secretAccessKey', defaultText: "the AWS default chain (AWS_* variables, profile, instance role)" })),
        secretAccessKey: Type.Optional(Type.String({ minLength: 1, description: 'secret access key for storage.s3.accessKeyId', defaultText: 'the AWS default chain', sensitive: true })),
        redirect: Type.Boolean({ default: false, description: 'blob GETs answer 307 to a short-lived presigned URL, so layer bytes come from the bucket and not through ncr' }),
        redirectEndpoint: Type.Optional(Type.String({ pattern: '^https?://', description: 'endpoint URL put in presigned redirects, when clients reach the store at another address than ncr does', defaultText: 'storage.s3.endpoint' })),
        privateEndpoint: Type.Optional(
          Type.String({ pattern: '^https?://', description: "the store's private address: blob GETs on ncr's private endpoint (server.privateUrl) answer 307 to a presigned URL there", defaultText: 'storage.s3.endpoint' }),
        ),
      }),
    }),
    auth: group('tokens, sessions, access keys and the first admin', {
      tokenTtlSeconds: seconds(30, 3600, 300, 'lifetime of registry access tokens'),
      refreshTokenTtlSeconds: seconds(60, 43200, 43200, 'lifetime of refresh (identity) tokens; at most 12 hours'),
      session: group('console sessions', {
        idleSeconds: seconds(60, undefined, 43200, 'a console session unused for this long ends'),
        absoluteSeconds: seconds(60, undefined, 604800, 'a console session ends this long after sign-in, used or not'),
      }),
      keys: group('access keys', {
        maxPerUser: Type.Integer({ minimum: 1, maximum: 1000, default: 5, description: 'most access keys one user may hold' }),
        rotationDays: Type.Integer({ minimum: 1, default: 90, description: 'keys older than this are flagged rotationDue' }),
      }),
      login: group('failed-login limits', {
        failureLimit: Type.Integer({ minimum: 1, default: 10, description: 'failed logins allowed per client address and per key within the window; then 429' }),
        failureWindowSeconds: seconds(1, undefined, 60, 'the window for auth.login.failureLimit'),
      }),
      signingKey: group('the token signing key', {
        encryptionKey: Type.Optional(
          Type.String({ minLength: 32, description: 'secret that seals the token signing keys stored in the database; every node must use the same', defaultText: 'generated into DATA_DIR/keys', sensitive: true }),
        ),
        rotationDays: Type.Integer({ minimum: 1, default: 30, description: 'a new signing key is made when the newest is this old; older keys still verify tokens until they expire' }),
      }),
      admin: group('the first admin, created only on an empty database', {
        accessKey: Type.Optional(Type.String({ minLength: 8, maxLength: 64, pattern: '^[A-Za-z0-9]+$', description: "the first admin's access key", defaultText: 'generated' })),
        secretKey: Type.Optional(Type.String({ minLength: 16, maxLength: 128, description: "the first admin's secret key", defaultText: 'generated', sensitive: true })),
        password: Type.Optional(Type.String({ minLength: 8, maxLength: 256, description: "the first admin's console password", defaultText: 'generated', sensitive: true })),
      }),
    }),
    jobs: group('the background job queue', {
      pollIntervalMs: Type.Integer({ minimum: 10, default: 1000, description: 'how often an idle node looks for due jobs and schedules' }),
      concurrency: Type.Integer({ minimum: 1, maximum: 64, default: 2, description: 'jobs of one kind run at once per node, unless the kind says otherwise' }),
      executionRetentionDays: Type.Integer({ minimum: 1, default: 30, description: 'finished executions and jobs are kept this long (delivered outbox events: one hour)' }),
      eventsPollIntervalMs: Type.Integer({ minimum: 10, default: 1000, description: 'how often the outbox is read for events from other nodes (PostgreSQL also wakes nodes at once)' }),
    }),
    gc: group('online garbage collection (docs/gc.md)', {
      safeWindowSeconds: seconds(0, undefined, 7200, 'blobs, blob links and untagged artifacts younger than this are never collected (2 hours)'),
      schedule: Type.Optional(
        Type.String({ maxLength: 100, description: 'when garbage collection runs, until an admin sets a schedule: a 5-field cron, UTC; empty for none', defaultText: 'none (runs only when started)' }),
      ),
      batchSize: Type.Integer({ minimum: 1, maximum: 10000, default: 500, description: 'links, blobs or artifacts deleted per transaction' }),
    }),
    uploads: group('blob uploads', {
      maxIdleSeconds: seconds(60, undefined, 86400, 'an upload with no chunk for this long is discarded with its bytes'),
      purgeSchedule: Type.String({ minLength: 9, default: '17 * * * *', description: 'when abandoned uploads are looked for: a 5-field cron, UTC' }),
    }),
    endpoints: group('remote registries: replication targets and image cache sources', {
      allowPrivateNetworks: Type.Boolean({
        default: false,
        description: 'let replication and image caches reach loopback, link-local and private addresses, on any port (refused by default: SSRF; a remote registry must then be on port 80 or 443)',
      }),
      timeoutMs: Type.Integer({ minimum: 1000, maximum: 600_000, default: 30_000, description: 'one request to a remote registry gets this long for its response headers' }),
      ecrApiUrl: Type.Optional(Type.String({ maxLength: 500, description: 'the ECR API address instead of https://api.ecr.REGION.amazonaws.com (a VPC endpoint)', defaultText: "AWS's regional address" })),
    }),
    cache: group('image cache (pull-through) registries (docs/image-cache.md)', {
      tagRecheckSeconds: seconds(0, 86_400, 60, "a cached tag is checked against its source (one HEAD) at most this often; in between it is served as cached"),
      fillTimeoutSeconds: seconds(1, 3600, 200, 'a blob download from the source that takes longer than this is abandoned and its bytes discarded; the next pull tries again'),
      mirrorRegistry: Type.Optional(
        Type.String({ maxLength: 255, description: 'an image cache registry that answers registry-mirror requests (/v2/library/nginx/...) naming no local registry', defaultText: 'none (no mirror mode)' }),
      ),
    }),
    scanning: group('vulnerability scanning (docs/scanning.md)', {
      adapter: group("an external scanner through Harbor's Pluggable Scanner API v1.1, instead of the built-in one", {
        url: Type.Optional(
          Type.String({ maxLength: 500, description: "the scanner adapter's API base, e.g. http://trivy-adapter:8080/api/v1: scans go to it instead of the built-in scanner", defaultText: 'none (the built-in scanner)' }),
        ),
        authorization: Type.Optional(Type.String({ maxLength: 4096, description: 'the Authorization header value ncr sends to the adapter', defaultText: 'none', sensitive: true })),
        registryUrl: Type.Optional(
          Type.String({ maxLength: 500, description: "the address the adapter pulls images from (ncr's /v2)", defaultText: 'server.publicUrl, else the address ncr listens on' }),
        ),
        timeoutSeconds: seconds(5, 86_400, 600, 'a scan the adapter has not reported on after this long fails'),
      }),
    }),
    webhooks: group('webhook deliveries', {
      allowPrivateNetworks: Type.Boolean({ default: false, description: 'let webhooks reach loopback, link-local and private addresses (refused by default: SSRF)' }),
      timeoutMs: Type.Integer({ minimum: 100, maximum: 60_000, default: 3000, description: 'a delivery attempt gets no longer than this for its whole request and response' }),
      maxAttempts: Type.Integer({ minimum: 1, maximum: 50, default: 5, description: 'attempts per delivery (the first included) before it is marked failed' }),
      retryBackoffMs: Type.Integer({ minimum: 100, default: 10_000, description: 'delay before the second attempt; doubled for each further one' }),
      concurrency: Type.Integer({ minimum: 1, maximum: 256, default: 8, description: 'deliveries sent at once per node' }),
      breaker: group('the circuit breaker per webhook', {
        failureThreshold: Type.Integer({ minimum: 1, default: 5, description: 'failed attempts in a row that open the breaker (no requests to that webhook for the cooldown)' }),
        cooldownMs: Type.Integer({ minimum: 100, default: 60_000, description: 'how long an open breaker holds deliveries back before one trial request' }),
      }),
    }),
  },
  { additionalProperties: false },
);

/** The validated configuration; `storage.fs.root` is always set (to DATA_DIR/storage unless given). */
export type Config = Static<typeof ConfigSchema> & { storage: { fs: { root: string } } };

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** A field of the schema that holds a value (not a group). */
export interface ConfigLeaf {
  /** dotted path, e.g. auth.login.failureLimit */
  path: string;
  env: string;
  /** none for sensitive fields: a secret on the command line is visible to every local user (ps, /proc) */
  flag?: string;
  /** a short flag that means the same (e.g. --port for --server-port) */
  alias?: string;
  schema: TSchema;
  description: string;
  /** the default as shown in help and docs */
  defaultText: string;
  /** the allowed values when the field is an enumeration */
  choices?: string[];
  sensitive: boolean;
}

const snake = (s: string) => s.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

/** Environment variable for a path: server.publicUrl → NCR_SERVER_PUBLIC_URL. */
export function envName(path: string): string {
  return 'NCR_' + path.split('.').map(snake).join('_');
}

/** Command-line flag for a path: server.publicUrl → --server-public-url. */
export function flagName(path: string): string {
  return '--' + path.split('.').map(kebab).join('-');
}

/** The short flags kept from the flat configuration, as aliases of the grouped fields. Not deprecated. */
export const FLAG_ALIASES: Readonly<Record<string, string>> = {
  'server.host': '--host',
  'server.port': '--port',
  'server.publicUrl': '--public-url',
  'server.tls.cert': '--tls-cert',
  'server.tls.key': '--tls-key',
  'server.logLevel': '--log-level',
  'server.workers': '--workers',
};

/**
 * The flat names of the first releases (YAML keys and `overrides` keys; their env variables are envName(key)) and
 * the grouped field each now means. They keep working with a deprecation warning.
 */
export const LEGACY_FIELDS: Readonly<Record<string, string>> = {
  host: 'server.host',
  port: 'server.port',
  publicUrl: 'server.publicUrl',
  tlsCert: 'server.tls.cert',
  tlsKey: 'server.tls.key',
  logLevel: 'server.logLevel',
  databaseUrl: 'database.url',
  tokenTtlSeconds: 'auth.tokenTtlSeconds',
  refreshTokenTtlSeconds: 'auth.refreshTokenTtlSeconds',
  adminAccessKey: 'auth.admin.accessKey',
  adminSecretKey: 'auth.admin.secretKey',
  adminPassword: 'auth.admin.password',
  loginFailureLimit: 'auth.login.failureLimit',
  loginFailureWindowSeconds: 'auth.login.failureWindowSeconds',
};

function walk(schema: TObject, prefix: string, out: ConfigLeaf[]): ConfigLeaf[] {
  for (const [key, child] of Object.entries(schema.properties)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (child[Kind] === 'Object') {
      walk(child as TObject, path, out);
      continue;
    }
    const choices = child[Kind] === 'Union' ? (child.anyOf as TSchema[]).map((s) => String(s.const)) : child[Kind] === 'Literal' ? [String(child.const)] : undefined;
    out.push({
      path,
      env: envName(path),
      flag: child.sensitive === true ? undefined : flagName(path),
      alias: FLAG_ALIASES[path],
      schema: child,
      description: child.description ?? '',
      defaultText: child.default !== undefined ? String(child.default) : (child.defaultText ?? ''),
      choices,
      sensitive: child.sensitive === true,
    });
  }
  return out;
}

/** Every leaf of the schema, in schema order. */
export const CONFIG_LEAVES: readonly ConfigLeaf[] = walk(ConfigSchema, '', []);
const LEAF_BY_PATH = new Map(CONFIG_LEAVES.map((l) => [l.path, l]));

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Raw = Record<string, unknown>;

const isPlainObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

function getPath(raw: Raw, path: string): unknown {
  let cur: unknown = raw;
  for (const k of path.split('.')) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

function setPath(raw: Raw, path: string, value: unknown): void {
  const keys = path.split('.');
  let cur = raw;
  for (const k of keys.slice(0, -1)) {
    if (!isPlainObject(cur[k])) cur[k] = {};
    cur = cur[k] as Raw;
  }
  cur[keys[keys.length - 1]] = value;
}

/** Deep merge of plain objects: `b` wins; undefined values in `b` leave `a` as it is. Neither input is changed. */
export function mergeConfig<T extends object>(a: T, b: object | undefined): T {
  const out: Raw = { ...(a as Raw) };
  for (const [k, v] of Object.entries(b ?? {})) {
    if (v === undefined) continue;
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? mergeConfig(out[k], v) : v;
  }
  return out as T;
}

/** A nested object from dotted paths: { 'server.port': '80' } → { server: { port: '80' } } (for overrides). */
export function configFromPaths(values: Record<string, unknown>): Raw {
  const out: Raw = {};
  for (const [path, v] of Object.entries(values)) if (v !== undefined) setPath(out, path, v);
  return out;
}

/**
 * Moves flat legacy keys of one source to their grouped paths, warning for each. Within a source the grouped name
 * wins when both are given.
 */
function upgradeLegacy(raw: Raw, describe: (legacyKey: string, path: string) => [old: string, replacement: string], warn: (m: string) => void): Raw {
  const out: Raw = { ...raw };
  for (const [legacy, path] of Object.entries(LEGACY_FIELDS)) {
    if (!(legacy in out)) continue;
    const value = out[legacy];
    delete out[legacy];
    const [old, replacement] = describe(legacy, path);
    if (getPath(out, path) !== undefined) {
      warn(`deprecated: ${old} (ignored: ${replacement} is also given)`);
    } else {
      warn(`deprecated: ${old}, use ${replacement}`);
      if (value !== undefined) setPath(out, path, value);
    }
  }
  return out;
}

function fromEnv(env: Record<string, string | undefined>, warn: (m: string) => void): Raw {
  const given = (name: string) => env[name] !== undefined && env[name] !== '';
  const out: Raw = {};
  for (const leaf of CONFIG_LEAVES) if (given(leaf.env)) setPath(out, leaf.path, env[leaf.env]);
  for (const [legacy, path] of Object.entries(LEGACY_FIELDS)) {
    const old = envName(legacy);
    if (old === envName(path) || !given(old)) continue; // NCR_DATABASE_URL is also the grouped name
    if (given(envName(path))) {
      warn(`deprecated: ${old} (ignored: ${envName(path)} is also set)`);
    } else {
      warn(`deprecated: ${old}, use ${envName(path)}`);
      setPath(out, path, env[old]);
    }
  }
  return out;
}

function fromFile(path: string, warn: (m: string) => void): Raw {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  const parsed: unknown = YAML.parse(text) ?? {};
  if (!isPlainObject(parsed)) throw new ConfigError(`config file ${path} must hold a YAML mapping`);
  return upgradeLegacy(parsed, (legacy, field) => [`"${legacy}" in ${path}`, `"${field}"`], warn);
}

/** How to set a field, for error messages: `(flag --server-port or --port; env NCR_SERVER_PORT)`. */
function hint(path: string): string {
  const leaf = LEAF_BY_PATH.get(path);
  if (!leaf) return '';
  return leaf.flag ? ` (flag ${leaf.flag}${leaf.alias ? ` or ${leaf.alias}` : ''}; env ${leaf.env})` : ` (env ${leaf.env})`;
}

export interface LoadConfigOptions {
  /** default process.env */
  env?: Record<string, string | undefined>;
  /** YAML file; default env NCR_CONFIG */
  file?: string;
  /** highest priority (CLI flags, tests): a deep-partial of Config; flat legacy keys are accepted with a warning */
  overrides?: object;
  /** called once per deprecated name in use, before any validation error is thrown */
  onWarning?: (message: string) => void;
}

/** Builds and validates the configuration; throws ConfigError naming the bad field. */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  const seen = new Set<string>();
  const warn = (m: string) => {
    if (seen.has(m)) return;
    seen.add(m);
    opts.onWarning?.(m);
  };
  const file = opts.file ?? env.NCR_CONFIG;
  let merged: Raw = file ? fromFile(file, warn) : {};
  merged = mergeConfig(merged, fromEnv(env, warn));
  merged = mergeConfig(
    merged,
    upgradeLegacy(Object.fromEntries(Object.entries(opts.overrides ?? {}).filter(([, v]) => v !== undefined)), (legacy, field) => [`config field "${legacy}"`, `"${field}"`], warn),
  );

  const withDefaults = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, merged)) as Raw;
  const errors = [...Value.Errors(ConfigSchema, withDefaults)];
  if (errors.length > 0) {
    const e = errors[0];
    const field = e.path.replace(/^\//, '').replace(/\//g, '.') || '(root)';
    if (e.type === ValueErrorType.ObjectAdditionalProperties) {
      throw new ConfigError(`unknown configuration field "${field}": see docs/configuration.md for the fields there are`);
    }
    const shown = LEAF_BY_PATH.get(field)?.sensitive ? '(hidden)' : JSON.stringify(e.value);
    throw new ConfigError(`invalid configuration field "${field}"${hint(field)}: ${e.message}; got ${shown}`);
  }
  const config = withDefaults as Config;
  const tls = config.server.tls;
  if (Boolean(tls.cert) !== Boolean(tls.key)) throw new ConfigError('invalid configuration: server.tls.cert and server.tls.key must be given together');
  const admin = config.auth.admin;
  if (Boolean(admin.accessKey) !== Boolean(admin.secretKey)) throw new ConfigError('invalid configuration: auth.admin.accessKey and auth.admin.secretKey must be given together');
  const url = config.database.url;
  if (url && !/^postgres(ql)?:\/\//.test(url) && !/^sqlite:/.test(url)) {
    throw new ConfigError(`invalid configuration field "database.url"${hint('database.url')}: use postgres://user@host:port/db or sqlite:/path/file.db; got ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//…@'))}`);
  }
  const s3 = config.storage.s3;
  if (config.storage.driver === 's3' && !s3.bucket) throw new ConfigError(`invalid configuration: storage.s3.bucket${hint('storage.s3.bucket')} is required with storage.driver s3`);
  if (Boolean(s3.accessKeyId) !== Boolean(s3.secretAccessKey)) throw new ConfigError('invalid configuration: storage.s3.accessKeyId and storage.s3.secretAccessKey must be given together');
  if (config.server.publicUrl) config.server.publicUrl = config.server.publicUrl.replace(/\/+$/, '');
  config.dataDir = resolve(config.dataDir);
  config.storage.fs.root = resolve(config.storage.fs.root ?? join(config.dataDir, 'storage'));
  return config;
}
