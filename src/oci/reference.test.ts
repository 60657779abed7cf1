import { describe, it, expect } from 'vitest';
import {
  MAX_REFERENCE_LENGTH,
  MAX_TAG_LENGTH,
  TAG_PATTERN,
  isValidTag,
  parseReference,
  validateRegistryName,
  validateRepositoryName,
  validateTag,
} from './reference.js';
import { NcrError } from './errors.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof NcrError ? err.code : `not NcrError: ${String(err)}`;
  }
  return undefined;
}

const ADDRESS = 'registry.example.com:5000'; // 25 chars

describe('constants', () => {
  it('match the spec', () => {
    expect(MAX_REFERENCE_LENGTH).toBe(255);
    expect(MAX_TAG_LENGTH).toBe(128);
    expect(TAG_PATTERN.test('a'.repeat(128))).toBe(true);
    expect(TAG_PATTERN.test('a'.repeat(129))).toBe(false);
  });
});

describe('validateRegistryName', () => {
  it.each(['team', 'a', '0', 'my-team', 'my--team', 'my.team', 'my_team', 'my__team', 'a1-b2.c3_d4'])('accepts %s', (n) => {
    expect(() => validateRegistryName(n)).not.toThrow();
  });

  it.each(['', 'Team', 'team/app', '-team', 'team-', '.team', 'team.', '_team', 'my..team', 'my___team', 'my._team', 'te am', 'tëam'])(
    'rejects %j with NAME_INVALID',
    (n) => {
      expect(codeOf(() => validateRegistryName(n))).toBe('NAME_INVALID');
    },
  );

  it('explains the rule', () => {
    expect(() => validateRegistryName('Team')).toThrow(/lowercase letters and digits/);
    expect(() => validateRegistryName('a/b')).toThrow(/single path component/);
  });

  it('limits length to 255 without an address', () => {
    expect(() => validateRegistryName('a'.repeat(255))).not.toThrow();
    expect(codeOf(() => validateRegistryName('a'.repeat(256)))).toBe('NAME_INVALID');
  });

  it('limits length to 255 - (address + 1) with an address', () => {
    const max = 255 - (ADDRESS.length + 1);
    expect(() => validateRegistryName('a'.repeat(max), ADDRESS)).not.toThrow();
    expect(() => validateRegistryName('a'.repeat(max + 1), ADDRESS)).toThrow(/at most 229 characters/);
  });
});

describe('validateRepositoryName', () => {
  it('splits registry and image', () => {
    expect(validateRepositoryName('team/app')).toEqual({ registry: 'team', image: 'app' });
    expect(validateRepositoryName('team/app/web')).toEqual({ registry: 'team', image: 'app/web' });
    expect(validateRepositoryName('my-team.x/a__b/c--d/e.f')).toEqual({ registry: 'my-team.x', image: 'a__b/c--d/e.f' });
  });

  it('requires REGISTRY/IMAGE', () => {
    expect(codeOf(() => validateRepositoryName('app'))).toBe('NAME_INVALID');
    expect(() => validateRepositoryName('app')).toThrow('push to REGISTRY/IMAGE[:TAG], e.g. team/app:1.0');
    expect(() => validateRepositoryName('')).toThrow(/REGISTRY\/IMAGE/);
  });

  it.each(['team/', '/app', 'team//app', 'Team/app', 'team/App', 'team/app-', 'team/.app', 'team/a..b', 'team/a___b', 'team/a:b', 'team/app/'])(
    'rejects %j with NAME_INVALID',
    (n) => {
      expect(codeOf(() => validateRepositoryName(n))).toBe('NAME_INVALID');
    },
  );

  it('says what is wrong with a component', () => {
    expect(() => validateRepositoryName('team/App')).toThrow(/"App" contains uppercase/);
    expect(() => validateRepositoryName('team//app')).toThrow(/empty path component/);
    expect(() => validateRepositoryName('team/app-')).toThrow(/starts or ends with a separator/);
  });

  it('accepts exactly 255 characters including the address and rejects 256', () => {
    const ok = `team/${'a'.repeat(255 - ADDRESS.length - 1 - 5)}`;
    expect(`${ADDRESS}/${ok}`.length).toBe(255);
    expect(() => validateRepositoryName(ok, ADDRESS)).not.toThrow();
    const bad = `${ok}b`;
    expect(`${ADDRESS}/${bad}`.length).toBe(256);
    expect(codeOf(() => validateRepositoryName(bad, ADDRESS))).toBe('NAME_INVALID');
    expect(() => validateRepositoryName(bad, ADDRESS)).toThrow(/at most 229/);
  });

  it('limits the bare name to 255 without an address', () => {
    const ok = `team/${'a'.repeat(250)}`;
    expect(() => validateRepositoryName(ok)).not.toThrow();
    expect(codeOf(() => validateRepositoryName(`${ok}a`))).toBe('NAME_INVALID');
  });
});

describe('validateTag / isValidTag', () => {
  it.each(['latest', '1.0', 'v1.2.3-rc.1', '_internal', 'A', '0', 'a'.repeat(128), 'Foo_Bar-1.x'])('accepts %s', (t) => {
    expect(isValidTag(t)).toBe(true);
    expect(() => validateTag(t)).not.toThrow();
  });

  it.each(['', 'a'.repeat(129), '.hidden', '-dash', 'Foo!', 'a/b', 'a:b', 'a b', 'tág'])('rejects %j with TAG_INVALID', (t) => {
    expect(isValidTag(t)).toBe(false);
    expect(codeOf(() => validateTag(t))).toBe('TAG_INVALID');
  });

  it('explains the rule', () => {
    expect(() => validateTag('Foo!')).toThrow(
      'tag "Foo!" is invalid: use at most 128 characters from [A-Za-z0-9_.-], starting with a letter, digit or underscore',
    );
    expect(() => validateTag('a'.repeat(129))).toThrow(/it has 129/);
  });
});

describe('parseReference', () => {
  const digest = `sha256:${'b'.repeat(64)}`;

  it('recognises digests and tags', () => {
    expect(parseReference(digest)).toEqual({ kind: 'digest', digest });
    expect(parseReference('1.0')).toEqual({ kind: 'tag', tag: '1.0' });
  });

  it('validates digests with DIGEST_INVALID', () => {
    expect(codeOf(() => parseReference('sha256:abc'))).toBe('DIGEST_INVALID');
    expect(codeOf(() => parseReference(`md5:${'a'.repeat(32)}`))).toBe('DIGEST_INVALID');
    expect(codeOf(() => parseReference(`sha256:${'B'.repeat(64)}`))).toBe('DIGEST_INVALID');
  });

  it('validates tags with TAG_INVALID', () => {
    expect(codeOf(() => parseReference('-bad'))).toBe('TAG_INVALID');
    expect(codeOf(() => parseReference(''))).toBe('TAG_INVALID');
    expect(codeOf(() => parseReference('a'.repeat(129)))).toBe('TAG_INVALID');
  });
});
