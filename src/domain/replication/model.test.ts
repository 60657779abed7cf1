import { describe, expect, it } from 'vitest';
import { describeRule, selectorOf, statusOf, validateRule, type ReplicationRule } from './model.js';

const rule = (over: Partial<ReplicationRule> = {}): ReplicationRule => ({
  id: 'r',
  registryId: 'g',
  registry: 'team',
  name: 'to-b',
  description: '',
  endpointId: 'e',
  targetRegistry: 'team',
  imageFilter: null,
  tagFilter: null,
  enabled: true,
  createdAt: 0,
  createdBy: null,
  updatedAt: 0,
  checkedAt: 1,
  checkError: null,
  ...over,
});

describe('replication rules', () => {
  it('are Enabled only when turned on and their target was checked without error', () => {
    expect(statusOf(rule()).status).toBe('enabled');
    expect(statusOf(rule({ enabled: false }))).toEqual({ status: 'disabled', statusReason: 'turned off' });
    expect(statusOf(rule({ checkedAt: null })).statusReason).toContain('being checked');
    expect(statusOf(rule({ checkError: 'DENIED: push refused' })).statusReason).toContain('DENIED: push refused');
  });

  it('select every image and every tagged artifact without filters; filters narrow, untagged on request', () => {
    const all = selectorOf(rule());
    expect(all.image('any/path')).toBe(true);
    expect(all.tags(['x'])).toBe(true);
    expect(all.tags([])).toBe(false);
    const some = selectorOf(rule({ imageFilter: { pattern: 'apps/*', syntax: 'glob', mode: 'matching' }, tagFilter: { pattern: 'v[0-9].*', syntax: 'regex', mode: 'matching', untagged: true } }));
    expect(some.image('apps/web')).toBe(true);
    expect(some.image('apps/web/x')).toBe(false);
    expect(some.tags(['latest', 'v1.2'])).toBe(true);
    expect(some.tags(['latest'])).toBe(false);
    expect(some.tags([])).toBe(true);
    expect(describeRule(rule())).toBe('every image, every tag');
  });

  it('validate names, target paths and filters, filling the filter defaults', () => {
    expect(validateRule({ name: 'to-b', targetRegistry: 'mirror/team', imageFilter: { pattern: '**' } as never }, true)).toEqual({
      name: 'to-b',
      targetRegistry: 'mirror/team',
      imageFilter: { pattern: '**', syntax: 'glob', mode: 'matching' },
    });
    expect(() => validateRule({ name: 'To B' }, true)).toThrow(/name:/);
    expect(() => validateRule({ name: 'x', targetRegistry: 'Team/' }, true)).toThrow(/targetRegistry/);
    expect(() => validateRule({ name: 'x', tagFilter: { pattern: '(a+)+', syntax: 'regex', mode: 'matching', untagged: false } }, true)).toThrow(/exponential/);
    expect(() => validateRule({}, true)).toThrow(/name:/);
    expect(validateRule({}, false)).toEqual({});
  });
});
