import { describe, expect, it } from 'vitest';
import { formatScope, grant, parseScopes, tokenAllows } from './scopes.js';

describe('token scopes', () => {
  it('parses repository and registry scopes, space-separated or repeated', () => {
    expect(parseScopes(['repository:team/app:pull,push registry:catalog:*', 'repository:team/x:pull'])).toEqual([
      { type: 'repository', name: 'team/app', actions: ['pull', 'push'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
      { type: 'repository', name: 'team/x', actions: ['pull'] },
    ]);
  });

  it('keeps a host:port inside the name and drops malformed scopes', () => {
    expect(parseScopes(['repository:localhost:5000/team/app:pull'])).toEqual([{ type: 'repository', name: 'localhost:5000/team/app', actions: ['pull'] }]);
    expect(parseScopes(['nonsense', 'repository:team/app', 'user:bob:pull', ':x:y'])).toEqual([]);
  });

  it('grants a viewer only pull, members and admins pull, push and delete', () => {
    const asked = parseScopes(['repository:team/app:pull,push,delete']);
    expect(grant('viewer', asked)[0].actions).toEqual(['pull']);
    expect(grant('member', asked)[0].actions).toEqual(['pull', 'push', 'delete']);
    expect(grant('admin', parseScopes(['repository:team/app:*']))[0].actions).toEqual(['pull', 'push', 'delete']);
    expect(grant('admin', parseScopes(['repository:team/app:frobnicate']))[0].actions).toEqual([]);
  });

  it('merges repeated scopes for the same repository', () => {
    expect(grant('member', parseScopes(['repository:a/b:pull', 'repository:a/b:push']))).toEqual([{ type: 'repository', name: 'a/b', actions: ['pull', 'push'] }]);
  });

  it('grants the catalog only as registry:catalog:*', () => {
    expect(grant('viewer', parseScopes(['registry:catalog:*']))[0].actions).toEqual(['*']);
    expect(grant('viewer', parseScopes(['registry:other:*']))[0].actions).toEqual([]);
  });

  it('checks a token grant per repository and action', () => {
    const access = grant('member', parseScopes(['repository:team/app:pull,push']));
    expect(tokenAllows(access, 'repository', 'team/app', 'push')).toBe(true);
    expect(tokenAllows(access, 'repository', 'team/app', 'delete')).toBe(false);
    expect(tokenAllows(access, 'repository', 'team/other', 'pull')).toBe(false);
    expect(formatScope('repository', 'team/app', ['pull', 'push'])).toBe('repository:team/app:pull,push');
  });
});
