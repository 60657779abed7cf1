import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_LEAVES, ConfigError, FLAG_ALIASES, LEGACY_FIELDS, envName, flagName, loadConfig, mergeConfig } from './index.js';

function yaml(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ncr-cfg-')), 'ncr.yaml');
  writeFileSync(file, text);
  return file;
}

function load(opts: Parameters<typeof loadConfig>[0]) {
  const warnings: string[] = [];
  const config = loadConfig({ env: {}, ...opts, onWarning: (m) => warnings.push(m) });
  return { config, warnings };
}

describe('configuration', () => {
  it('has documented defaults, grouped', () => {
    const { config: c, warnings } = load({});
    expect(c).toMatchObject({
      server: { host: '0.0.0.0', port: 5000, logLevel: 'info', tls: {} },
      database: { pool: { max: 10 } },
      storage: { driver: 'fs' },
      auth: {
        tokenTtlSeconds: 300,
        refreshTokenTtlSeconds: 43200,
        session: { idleSeconds: 43200, absoluteSeconds: 604800 },
        keys: { maxPerUser: 5, rotationDays: 90 },
        login: { failureLimit: 10, failureWindowSeconds: 60 },
        signingKey: { rotationDays: 30 },
        admin: {},
      },
      jobs: { pollIntervalMs: 1000, concurrency: 2, executionRetentionDays: 30, eventsPollIntervalMs: 1000 },
      uploads: { maxIdleSeconds: 86400, purgeSchedule: '17 * * * *' },
    });
    expect(c.dataDir).toMatch(/\/data$/);
    expect(c.storage.fs.root).toBe(join(c.dataDir, 'storage'));
    expect(c.database.url).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('layers file < env < overrides, deep-merged, and converts types', () => {
    const file = yaml('server:\n  port: 6000\n  host: 127.0.0.1\n  logLevel: warn\nauth:\n  login:\n    failureLimit: 4\n');
    const { config: c, warnings } = load({
      env: { NCR_CONFIG: file, NCR_SERVER_PORT: '7000', NCR_AUTH_LOGIN_FAILURE_WINDOW_SECONDS: '30', NCR_STORAGE_FS_ROOT: '/srv/blobs' },
      overrides: { server: { logLevel: 'error' } },
    });
    expect(c.server).toMatchObject({ port: 7000, host: '127.0.0.1', logLevel: 'error' });
    expect(c.auth.login).toEqual({ failureLimit: 4, failureWindowSeconds: 30 });
    expect(c.storage.fs.root).toBe('/srv/blobs');
    expect(warnings).toEqual([]);
  });

  it('derives env variables and flags from the path', () => {
    expect(envName('auth.login.failureLimit')).toBe('NCR_AUTH_LOGIN_FAILURE_LIMIT');
    expect(flagName('auth.login.failureLimit')).toBe('--auth-login-failure-limit');
    expect(envName('server.port')).toBe('NCR_SERVER_PORT');
    expect(flagName('server.port')).toBe('--server-port');
    expect(envName('dataDir')).toBe('NCR_DATA_DIR');
    const envs = CONFIG_LEAVES.map((l) => l.env);
    const flags = CONFIG_LEAVES.flatMap((l) => [l.flag, l.alias]).filter(Boolean);
    expect(new Set(envs).size).toBe(envs.length);
    expect(new Set(flags).size).toBe(flags.length);
    for (const leaf of CONFIG_LEAVES) {
      expect(leaf.description, leaf.path).not.toBe('');
      expect(leaf.defaultText, `${leaf.path} has a default or says what unset means`).not.toBe('');
      // secrets are never command-line flags (visible to every local user); everything else is
      expect(leaf.flag === undefined, leaf.path).toBe(leaf.sensitive);
    }
    const paths = new Set(CONFIG_LEAVES.map((l) => l.path));
    for (const path of [...Object.keys(FLAG_ALIASES), ...Object.values(LEGACY_FIELDS)]) expect(paths, path).toContain(path);
  });

  it('accepts the old flat names from env, file and overrides, with one warning each', () => {
    const { config: c, warnings } = load({
      env: { NCR_PORT: '7000', NCR_ADMIN_ACCESS_KEY: 'AKOLD1234', NCR_ADMIN_SECRET_KEY: 'old-secret-0123456789', NCR_LOGIN_FAILURE_LIMIT: '3', NCR_DATABASE_URL: 'sqlite:/tmp/x.db' },
      file: yaml('host: 127.0.0.1\ntlsCert: /c.pem\ntlsKey: /k.pem\n'),
      overrides: { tokenTtlSeconds: 120 },
    });
    expect(c.server).toMatchObject({ port: 7000, host: '127.0.0.1', tls: { cert: '/c.pem', key: '/k.pem' } });
    expect(c.auth.admin).toEqual({ accessKey: 'AKOLD1234', secretKey: 'old-secret-0123456789' });
    expect(c.auth.login.failureLimit).toBe(3);
    expect(c.auth.tokenTtlSeconds).toBe(120);
    expect(c.database.url).toBe('sqlite:/tmp/x.db'); // NCR_DATABASE_URL is also the grouped name: no warning
    expect(warnings).toContain('deprecated: NCR_PORT, use NCR_SERVER_PORT');
    expect(warnings).toContain('deprecated: NCR_ADMIN_ACCESS_KEY, use NCR_AUTH_ADMIN_ACCESS_KEY');
    expect(warnings.some((w) => /^deprecated: "tlsCert" in .*ncr\.yaml, use "server\.tls\.cert"$/.test(w))).toBe(true);
    expect(warnings).toContain('deprecated: config field "tokenTtlSeconds", use "auth.tokenTtlSeconds"');
    expect(warnings).toHaveLength(8);
  });

  it('prefers the grouped name within a source, and a higher source over a lower one whatever its name', () => {
    const { config: c, warnings } = load({ env: { NCR_PORT: '7000', NCR_SERVER_PORT: '7001', NCR_HOST: '10.0.0.1' }, file: yaml('server:\n  host: 127.0.0.1\n') });
    expect(c.server.port).toBe(7001);
    expect(c.server.host).toBe('10.0.0.1');
    expect(warnings).toEqual(['deprecated: NCR_HOST, use NCR_SERVER_HOST', 'deprecated: NCR_PORT (ignored: NCR_SERVER_PORT is also set)']);
  });

  it('names the bad field, with its flag and env variable', () => {
    expect(() => load({ env: { NCR_SERVER_PORT: 'abc' } })).toThrow(ConfigError);
    expect(() => load({ env: { NCR_SERVER_PORT: 'abc' } })).toThrow(/"server\.port" \(flag --server-port or --port; env NCR_SERVER_PORT\)/);
    expect(() => load({ overrides: { auth: { refreshTokenTtlSeconds: 50000 } } })).toThrow(/"auth\.refreshTokenTtlSeconds".*--auth-refresh-token-ttl-seconds.*NCR_AUTH_REFRESH_TOKEN_TTL_SECONDS/);
    expect(() => load({ overrides: { database: { url: 'mysql://u:pw@h/db' } } })).toThrow(/"database\.url".*NCR_DATABASE_URL.*mysql:\/\/…@h\/db/);
    expect(() => load({ overrides: { server: { tls: { cert: '/x.pem' } } } })).toThrow(/server\.tls\.cert and server\.tls\.key/);
    expect(() => load({ overrides: { auth: { admin: { accessKey: 'AKONLY1234' } } } })).toThrow(/accessKey and auth\.admin\.secretKey/);
    expect(() => load({ overrides: { storage: { driver: 'gcs' } } })).toThrow(/"storage\.driver"/);
    expect(() => load({ overrides: { storage: { driver: 's3' } } })).toThrow(/storage\.s3\.bucket/);
    expect(() => load({ overrides: { storage: { driver: 's3', s3: { bucket: 'b-1', accessKeyId: 'AKIA' } } } })).toThrow(/accessKeyId and storage\.s3\.secretAccessKey/);
    // a secret in a bad value is never echoed
    expect(() => load({ overrides: { storage: { s3: { secretAccessKey: '' } } } })).toThrow(/got \(hidden\)/);
    expect(() => load({ file: yaml('nonsense: 1\n') })).toThrow(/unknown configuration field "nonsense"/);
    expect(() => load({ file: yaml('server:\n  prot: 1\n') })).toThrow(/unknown configuration field "server\.prot"/);
  });

  it('keeps secrets out of error messages, and gives them no flag', () => {
    let message = '';
    try {
      load({ env: { NCR_AUTH_ADMIN_PASSWORD: 'short' } });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/"auth\.admin\.password" \(env NCR_AUTH_ADMIN_PASSWORD\).*got \(hidden\)/);
    expect(message).not.toContain('short');
  });

  it('reports deprecations before a validation error', () => {
    const warnings: string[] = [];
    expect(() => loadConfig({ env: { NCR_PORT: 'abc' }, onWarning: (m) => warnings.push(m) })).toThrow(/server\.port/);
    expect(warnings).toEqual(['deprecated: NCR_PORT, use NCR_SERVER_PORT']);
  });

  it('merges deep-partials without changing its inputs', () => {
    const a = { server: { host: 'a', port: 1 }, dataDir: '/d' };
    const merged = mergeConfig(a, { server: { port: 2, host: undefined } });
    expect(merged).toEqual({ server: { host: 'a', port: 2 }, dataDir: '/d' });
    expect(a.server.port).toBe(1);
  });
});
