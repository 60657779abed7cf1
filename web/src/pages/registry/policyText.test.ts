import { describe, expect, it } from 'vitest';
import { countsText, filterText, policySentence, ruleText, tagFilterText } from './policyText';

const all = { pattern: '**', syntax: 'glob', mode: 'matching' } as const;

describe('policies in words', () => {
  it('says each rule as the table shows it', () => {
    expect(ruleText({ keep: 'latestPushed', n: 10 })).toBe('Keep the 10 most recently pushed');
    expect(ruleText({ keep: 'latestPulled', n: 1 })).toBe('Keep the most recently pulled');
    expect(ruleText({ keep: 'pushedWithinDays', n: 1 })).toBe('Keep those pushed in the last 1 day');
    expect(ruleText({ keep: 'pulledWithinDays', n: 30 })).toBe('Keep those pulled in the last 30 days');
    expect(ruleText({ keep: 'nothing' })).toBe('Keep nothing');
    expect(ruleText(null)).toBe('—');
  });

  it('names filters, the default in words', () => {
    expect(filterText(all, 'image')).toBe('Every image');
    expect(filterText({ pattern: 'team/*', syntax: 'glob', mode: 'excluding' }, 'image')).toBe('Excluding team/*');
    expect(tagFilterText({ pattern: 'v[0-9]+', syntax: 'regex', mode: 'matching', untagged: true })).toBe('Matching regex v[0-9]+, and untagged artifacts');
  });

  it('says the whole policy in one sentence', () => {
    expect(policySentence(all, { ...all, untagged: false }, { keep: 'latestPushed', n: 10 })).toBe(
      'In every image, this policy selects every tagged artifact; it keeps the 10 most recently pushed (per image) and deletes the rest.',
    );
    expect(policySentence({ pattern: 'app', syntax: 'glob', mode: 'matching' }, { pattern: 'release-*', syntax: 'glob', mode: 'excluding', untagged: true }, { keep: 'nothing' })).toBe(
      'In images matching "app", this policy selects the artifacts with a tag not matching "release-*", and every untagged artifact; it keeps none of them: it deletes them all.',
    );
    expect(policySentence(all, { pattern: 'v.*', syntax: 'regex', mode: 'matching', untagged: false }, null)).toBe('In every image, this policy protects the artifacts with a tag matching regex "v.*" from deletion.');
  });

  it('sums up a run', () => {
    const counts = { artifacts: 4, kept: 2, protected: 1, deleted: 0, wouldDelete: 1, failed: 0, deletedBytes: 2048 };
    expect(countsText({ dryRun: true, status: 'succeeded', counts })).toBe('4 artifacts: 2 kept, 1 protected, 1 would be deleted (2.00 KB)');
    expect(countsText({ dryRun: false, status: 'failed', counts: { ...counts, deleted: 1, failed: 1 } })).toBe('4 artifacts: 2 kept, 1 protected, 1 deleted, 1 failed (2.00 KB)');
    expect(countsText({ dryRun: false, status: 'queued', counts: {} })).toBe('Waiting to start');
  });
});
