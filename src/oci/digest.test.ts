import { describe, it, expect } from 'vitest';
import { parseDigest, isDigest, digestOf } from './digest.js';
import { NcrError } from './errors.js';

const H64 = 'a'.repeat(64);
const H128 = '0123456789abcdef'.repeat(8);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof NcrError ? err.code : `not NcrError: ${String(err)}`;
  }
  return undefined;
}

describe('parseDigest', () => {
  it('accepts sha256 with 64 lowercase hex', () => {
    expect(parseDigest(`sha256:${H64}`)).toEqual({ algorithm: 'sha256', hex: H64 });
  });

  it('accepts sha512 with 128 lowercase hex', () => {
    expect(parseDigest(`sha512:${H128}`)).toEqual({ algorithm: 'sha512', hex: H128 });
  });

  it.each([
    ['empty', ''],
    ['no colon', H64],
    ['empty hex', 'sha256:'],
    ['63 hex', `sha256:${'a'.repeat(63)}`],
    ['65 hex', `sha256:${'a'.repeat(65)}`],
    ['sha512 with 64 hex', `sha512:${H64}`],
    ['sha256 with 128 hex', `sha256:${H128}`],
    ['uppercase hex', `sha256:${'A'.repeat(64)}`],
    ['non-hex', `sha256:${'g'.repeat(64)}`],
    ['uppercase algorithm', `SHA256:${H64}`],
    ['whitespace', ` sha256:${H64}`],
    ['second colon', `sha256:${H64.slice(1)}:`],
  ])('rejects %s with DIGEST_INVALID', (_label, s) => {
    expect(codeOf(() => parseDigest(s))).toBe('DIGEST_INVALID');
  });

  it('names the supported algorithms for an unsupported one', () => {
    expect(() => parseDigest(`md5:${'a'.repeat(32)}`)).toThrow(/unsupported algorithm "md5".*sha256, sha512/);
  });

  it('explains uppercase hex', () => {
    expect(() => parseDigest(`sha256:${'A'.repeat(64)}`)).toThrow(/uppercase/);
  });

  it('gives the expected length', () => {
    expect(() => parseDigest(`sha256:${'a'.repeat(10)}`)).toThrow(/exactly 64 lowercase hex/);
  });
});

describe('isDigest', () => {
  it('mirrors parseDigest without throwing', () => {
    expect(isDigest(`sha256:${H64}`)).toBe(true);
    expect(isDigest(`sha512:${H128}`)).toBe(true);
    expect(isDigest('latest')).toBe(false);
    expect(isDigest(`sha256:${H64.toUpperCase()}`)).toBe(false);
    expect(isDigest(`sha1:${'a'.repeat(40)}`)).toBe(false);
  });
});

describe('digestOf', () => {
  it('hashes strings and bytes with sha256 by default', () => {
    const empty = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    expect(digestOf('')).toBe(empty);
    expect(digestOf(new Uint8Array())).toBe(empty);
    expect(digestOf('{}')).toBe('sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });

  it('supports sha512 and yields parseable digests', () => {
    const d = digestOf('abc', 'sha512');
    expect(d).toBe(
      'sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    );
    expect(parseDigest(d).algorithm).toBe('sha512');
  });

  it('treats strings as UTF-8', () => {
    expect(digestOf('é')).toBe(digestOf(new Uint8Array([0xc3, 0xa9])));
  });
});
