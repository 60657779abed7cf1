import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ConfigSchema, envName, loadConfig } from './index.js';

describe('configuration', () => {
  it('has documented defaults', () => {
    const c = loadConfig({ env: {} });
    expect(c).toMatchObject({ host: '0.0.0.0', port: 5000, tokenTtlSeconds: 300, refreshTokenTtlSeconds: 43200, logLevel: 'info' });
    expect(c.dataDir).toMatch(/\/data$/);
  });

  it('layers file < env < overrides and converts types', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ncr-cfg-'));
    const file = join(dir, 'ncr.yaml');
    writeFileSync(file, 'port: 6000\nhost: 127.0.0.1\nlogLevel: warn\n');
    const c = loadConfig({ env: { NCR_CONFIG: file, NCR_PORT: '7000' }, overrides: { logLevel: 'error' } });
    expect(c.port).toBe(7000);
    expect(c.host).toBe('127.0.0.1');
    expect(c.logLevel).toBe('error');
  });

  it('names the bad field, with its flag and env variable', () => {
    expect(() => loadConfig({ env: { NCR_PORT: 'abc' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { NCR_PORT: 'abc' } })).toThrow(/"port".*--port.*NCR_PORT/);
    expect(() => loadConfig({ env: {}, overrides: { refreshTokenTtlSeconds: 50000 } })).toThrow(/refreshTokenTtlSeconds/);
    expect(() => loadConfig({ env: {}, overrides: { databaseUrl: 'mysql://x' } })).toThrow(/databaseUrl/);
    expect(() => loadConfig({ env: {}, overrides: { tlsCert: '/x.pem' } })).toThrow(/tlsCert and tlsKey/);
    const dir = mkdtempSync(join(tmpdir(), 'ncr-cfg-'));
    writeFileSync(join(dir, 'bad.yaml'), 'nonsense: 1\n');
    expect(() => loadConfig({ env: {}, file: join(dir, 'bad.yaml') })).toThrow(/nonsense/);
  });

  it('every field is documented in docs/configuration.md with its env variable', () => {
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    for (const field of Object.keys(ConfigSchema.properties)) {
      expect(doc, field).toContain(`\`${field}\``);
      expect(doc, field).toContain(envName(field));
    }
  });
});
