import { describe, expect, it } from 'vitest';
import { parseChallenge } from './oci-exchange.js';

describe('parseChallenge', () => {
  it('reads a Docker token challenge, quoted or not, escapes included', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
    });
    expect(parseChallenge('Basic realm=test')).toEqual({ scheme: 'basic', params: { realm: 'test' } });
    expect(parseChallenge('Bearer realm="a\\"b", error="invalid_token"')).toEqual({ scheme: 'bearer', params: { realm: 'a"b', error: 'invalid_token' } });
    expect(parseChallenge('')).toBeUndefined();
  });
});
