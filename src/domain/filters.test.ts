import { describe, expect, it } from 'vitest';
import { describeFilter, imageMatcher, tagMatcher } from './filters.js';

describe('image filters', () => {
  it('glob: * stays in a segment, ** crosses segments, braces alternate', () => {
    const one = imageMatcher({ pattern: 'team/*', syntax: 'glob', mode: 'matching' });
    expect(one('team/app')).toBe(true);
    expect(one('team/app/worker')).toBe(false);
    expect(one('other/app')).toBe(false);
    const all = imageMatcher({ pattern: '**', syntax: 'glob', mode: 'matching' });
    expect(['a', 'a/b', 'a/b/c', '.hidden/x'].every(all)).toBe(true);
    const alt = imageMatcher({ pattern: '{web,api}/**', syntax: 'glob', mode: 'matching' });
    expect(alt('web/x/y')).toBe(true);
    expect(alt('api/x')).toBe(true);
    expect(alt('db/x')).toBe(false);
  });
  it('excluding inverts the match', () => {
    const m = imageMatcher({ pattern: 'base/**', syntax: 'glob', mode: 'excluding' });
    expect(m('base/debian')).toBe(false);
    expect(m('app')).toBe(true);
  });
  it('regex is anchored to the whole name', () => {
    const m = imageMatcher({ pattern: 'app-[0-9]+', syntax: 'regex', mode: 'matching' });
    expect(m('app-12')).toBe(true);
    expect(m('x/app-12')).toBe(false);
    expect(m('app-12x')).toBe(false);
  });
  it('bad patterns are refused with a message naming the field', () => {
    expect(() => imageMatcher({ pattern: '(', syntax: 'regex', mode: 'matching' })).toThrow(/imageFilter\.pattern: "\(" is not a valid regular expression/);
    expect(() => imageMatcher({ pattern: '', syntax: 'glob', mode: 'matching' })).toThrow(/give a pattern/);
    expect(() => imageMatcher({ pattern: '(a+)+b', syntax: 'regex', mode: 'matching' })).toThrow(/exponential time/);
    expect(() => imageMatcher({ pattern: 'x', syntax: 'glob', mode: 'some' as never })).toThrow(/mode must be/);
    expect(() => imageMatcher({ pattern: 'x', syntax: 'sql' as never, mode: 'matching' })).toThrow(/syntax must be/);
  });
});

describe('tag filters', () => {
  it('an artifact is selected when any of its tags is; untagged only when asked', () => {
    const m = tagMatcher({ pattern: 'v*', syntax: 'glob', mode: 'matching', untagged: false });
    expect(m(['latest', 'v1.0'])).toBe(true);
    expect(m(['latest'])).toBe(false);
    expect(m([])).toBe(false);
    expect(tagMatcher({ pattern: 'v*', syntax: 'glob', mode: 'matching', untagged: true })([])).toBe(true);
  });
  it('excluding selects artifacts with at least one tag outside the pattern', () => {
    const m = tagMatcher({ pattern: 'release-*', syntax: 'glob', mode: 'excluding', untagged: false });
    expect(m(['release-1'])).toBe(false);
    expect(m(['release-1', 'ci-42'])).toBe(true);
    expect(m(['ci-42'])).toBe(true);
  });
  it('regex tags', () => {
    const m = tagMatcher({ pattern: 'v\\d+\\.\\d+\\.\\d+', syntax: 'regex', mode: 'matching', untagged: false });
    expect(m(['v1.2.3'])).toBe(true);
    expect(m(['v1.2'])).toBe(false);
  });
  it('describes itself for messages', () => {
    expect(describeFilter({ pattern: 'v*', syntax: 'glob', mode: 'matching', untagged: true })).toBe('matching glob "v*" (+ untagged)');
  });
});
