import { describe, expect, it } from 'vitest';
import { credentialsOf, ecrRegistryOf } from './credentials.js';
import { apiUrlOf, checkCredentials, remoteRepository, validateInput } from './model.js';

describe('endpoint model', () => {
  it("Docker Hub: its web address maps to its registry, and one-level names are official images under library/", () => {
    expect(apiUrlOf({ provider: 'docker-hub', url: 'https://hub.docker.com' })).toBe('https://registry-1.docker.io');
    expect(apiUrlOf({ provider: 'docker-hub', url: 'https://docker.io' })).toBe('https://registry-1.docker.io');
    expect(apiUrlOf({ provider: 'docker-hub', url: 'https://mirror.example.com' })).toBe('https://mirror.example.com');
    expect(apiUrlOf({ provider: 'harbor', url: 'https://hub.docker.com' })).toBe('https://hub.docker.com');
    expect(remoteRepository({ provider: 'docker-hub' }, 'nginx')).toBe('library/nginx');
    expect(remoteRepository({ provider: 'docker-hub' }, 'library/nginx')).toBe('library/nginx');
    expect(remoteRepository({ provider: 'docker-hub' }, 'bitnami/redis')).toBe('bitnami/redis');
    expect(remoteRepository({ provider: 'quay' }, 'nginx')).toBe('nginx');
  });

  it('keeps only scheme and host of the URL; the port rule is lifted only when allowed', () => {
    expect(validateInput({ name: 'a', provider: 'acr', url: 'https://myreg.azurecr.io/' }, true, false).url).toBe('https://myreg.azurecr.io');
    expect(validateInput({ name: 'a', provider: 'acr', url: 'https://myreg.azurecr.io:443' }, true, false).url).toBe('https://myreg.azurecr.io');
    expect(() => validateInput({ name: 'a', provider: 'acr', url: 'http://127.0.0.1:5000' }, true, false)).toThrow('port 80 or 443');
    expect(validateInput({ name: 'a', provider: 'acr', url: 'http://127.0.0.1:5000' }, true, true).url).toBe('http://127.0.0.1:5000');
    expect(() => validateInput({ name: 'Bad Name', provider: 'acr', url: 'https://x.io' }, true, false)).toThrow('is not valid');
  });

  it('fills in the fixed access ids (GCR _json_key, Quay json_file) and refuses others', () => {
    const key = JSON.stringify({ client_email: 'a@b', private_key: 'k' });
    expect(checkCredentials('gcr', null, key)).toBe('_json_key');
    expect(() => checkCredentials('gcr', 'me', key)).toThrow('_json_key');
    expect(checkCredentials('harbor', 'robot', 'pw')).toBe('robot');
    expect(checkCredentials('harbor', 'robot', null)).toBe('robot');
  });

  it('signs in each kind as its registry expects', async () => {
    const noEcr = async () => {
      throw new Error('not asked');
    };
    const e = { name: 'e', url: 'https://x.io', accessId: 'u' };
    expect((await credentialsOf({ ...e, provider: 'harbor' }, 'pw', noEcr)).credentials).toEqual({ kind: 'basic', username: 'u', password: 'pw' });
    expect((await credentialsOf({ ...e, provider: 'harbor' }, null, noEcr)).credentials).toEqual({ kind: 'none' });
    expect((await credentialsOf({ ...e, provider: 'gcr', accessId: '_json_key' }, '{"k":1}', noEcr)).credentials).toEqual({ kind: 'basic', username: '_json_key', password: '{"k":1}' });
    const quay = JSON.stringify({ account_name: 'org+bot', docker_cli_password: 'cli' });
    expect((await credentialsOf({ ...e, provider: 'quay', accessId: 'json_file' }, quay, noEcr)).credentials).toEqual({ kind: 'basic', username: 'org+bot', password: 'cli' });
    const ecrUrl = 'https://123456789012.dkr.ecr.ap-northeast-2.amazonaws.com';
    expect(ecrRegistryOf(ecrUrl)).toEqual({ registryId: '123456789012', region: 'ap-northeast-2' });
    expect((await credentialsOf({ ...e, url: ecrUrl, provider: 'ecr', accessId: 'AWS' }, 'tok', noEcr)).credentials).toEqual({ kind: 'basic', username: 'AWS', password: 'tok' });
    const asked: unknown[] = [];
    const got = await credentialsOf({ ...e, url: ecrUrl, provider: 'ecr', accessId: 'AKIAEXAMPLE' }, 'sk', async (req) => {
      asked.push(req);
      return { username: 'AWS', password: 'exchanged', expiresAt: 42 };
    });
    expect(asked).toEqual([{ region: 'ap-northeast-2', registryId: '123456789012', accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'sk' }]);
    expect(got).toEqual({ credentials: { kind: 'basic', username: 'AWS', password: 'exchanged' }, expiresAt: 42 });
    await expect(credentialsOf({ ...e, provider: 'ecr', accessId: 'AKIA' }, 'sk', noEcr)).rejects.toThrow('not an ECR address');
  });
});
