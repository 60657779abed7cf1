/**
 * One configuration schema. Sources, lowest priority first: defaults, an optional YAML file, NCR_* environment
 * variables, explicit overrides (CLI flags). Validated at start; an invalid field names itself in the error.
 * Every default is documented in docs/configuration.md.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import YAML from 'yaml';

export const ConfigSchema = Type.Object(
  {
    host: Type.String({ default: '0.0.0.0', description: 'address to listen on' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 5000, description: 'port to listen on (0 = any free port)' }),
    dataDir: Type.String({ minLength: 1, default: './data', description: 'blobs, uploads, the SQLite file and the token signing key live here' }),
    databaseUrl: Type.Optional(Type.String({ description: 'postgres://… for PostgreSQL; empty means SQLite at DATA_DIR/ncr.db' })),
    publicUrl: Type.Optional(Type.String({ pattern: '^https?://', description: 'the URL clients reach ncr at; derived from the Host header when unset' })),
    tlsCert: Type.Optional(Type.String({ description: 'PEM certificate file: serve HTTPS directly' })),
    tlsKey: Type.Optional(Type.String({ description: 'PEM private key file for tlsCert' })),
    tokenTtlSeconds: Type.Integer({ minimum: 30, maximum: 3600, default: 300, description: 'lifetime of registry access tokens' }),
    refreshTokenTtlSeconds: Type.Integer({ minimum: 60, maximum: 43200, default: 43200, description: 'lifetime of refresh/identity tokens (at most 12 hours)' }),
    adminAccessKey: Type.Optional(Type.String({ minLength: 8, maxLength: 64, pattern: '^[A-Za-z0-9]+$' })),
    adminSecretKey: Type.Optional(Type.String({ minLength: 16, maxLength: 128 })),
    adminPassword: Type.Optional(Type.String({ minLength: 8, maxLength: 256 })),
    loginFailureLimit: Type.Integer({ minimum: 1, default: 10, description: 'failed logins allowed per client address and per key in loginFailureWindowSeconds' }),
    loginFailureWindowSeconds: Type.Integer({ minimum: 1, default: 60 }),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

/** Environment variable for each field: camelCase → NCR_SNAKE_CASE. */
export function envName(field: string): string {
  return 'NCR_' + field.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Raw = Record<string, unknown>;

function fromEnv(env: Record<string, string | undefined>): Raw {
  const out: Raw = {};
  for (const field of Object.keys(ConfigSchema.properties)) {
    const v = env[envName(field)];
    if (v !== undefined && v !== '') out[field] = v;
  }
  return out;
}

function fromFile(path: string): Raw {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  const parsed = YAML.parse(text) ?? {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${path} must hold a YAML mapping`);
  return parsed as Raw;
}

/** Builds and validates the configuration; throws ConfigError naming the bad field. */
export function loadConfig(opts: { env?: Record<string, string | undefined>; file?: string; overrides?: Raw } = {}): Config {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env.NCR_CONFIG;
  const merged: Raw = { ...(file ? fromFile(file) : {}), ...fromEnv(env) };
  for (const [k, v] of Object.entries(opts.overrides ?? {})) if (v !== undefined) merged[k] = v;
  const withDefaults = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, merged)) as Raw;
  const errors = [...Value.Errors(ConfigSchema, withDefaults)];
  if (errors.length > 0) {
    const e = errors[0];
    const field = e.path.replace(/^\//, '') || '(root)';
    const hint = field in ConfigSchema.properties ? ` (flag --${field.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} or env ${envName(field)})` : '';
    throw new ConfigError(`invalid configuration field "${field}"${hint}: ${e.message}; got ${JSON.stringify(e.value)}`);
  }
  const config = withDefaults as Config;
  if (Boolean(config.tlsCert) !== Boolean(config.tlsKey)) throw new ConfigError('invalid configuration: tlsCert and tlsKey must be given together');
  if (config.databaseUrl && !/^postgres(ql)?:\/\//.test(config.databaseUrl) && !/^sqlite:/.test(config.databaseUrl)) {
    throw new ConfigError(`invalid configuration field "databaseUrl": use postgres://user@host:port/db or sqlite:/path/file.db; got ${JSON.stringify(config.databaseUrl)}`);
  }
  if (config.publicUrl) config.publicUrl = config.publicUrl.replace(/\/+$/, '');
  config.dataDir = resolve(config.dataDir);
  return config;
}
