import { describe, expect, it } from 'vitest';
import { evaluateCleanup, type ArtifactFacts, type ImageFacts } from './cleanup.evaluate.js';
import { validatePolicy, type Policy, type PolicyInput } from './model.js';
import { protectionOf } from './protection.js';

const DAY = 86_400_000;
const NOW = 1_000 * DAY;
let seq = 0;
function policy(kind: 'cleanup' | 'protection', input: PolicyInput, enabled = true): Policy {
  return { id: `p${++seq}`, registryId: 'r', kind, enabled, createdAt: 0, createdBy: null, ...validatePolicy(kind, input) };
}
function art(digest: string, tags: string[], pushedDaysAgo: number, pulledDaysAgo: number | null = null, extra: Partial<ArtifactFacts> = {}): ArtifactFacts {
  return { digest, tags, pushedAt: NOW - pushedDaysAgo * DAY, pulledAt: pulledDaysAgo === null ? null : NOW - pulledDaysAgo * DAY, size: 10, subjectDigest: null, children: [], ...extra };
}
function verdicts(policies: Policy[], images: ImageFacts[], protect: Policy[] = []) {
  return Object.fromEntries(evaluateCleanup(policies, protectionOf(protect), images, NOW).map((j) => [`${j.image}@${j.digest}`, j.verdict]));
}

describe('cleanup evaluation', () => {
  const app: ImageFacts = { name: 'app', artifacts: [art('a1', ['v1'], 30), art('a2', ['v2'], 20), art('a3', ['v3', 'latest'], 10), art('a4', [], 5)] };

  it('keep the N most recently pushed, per image; untagged only when the tag filter says so', () => {
    expect(verdicts([policy('cleanup', { rule: { keep: 'latestPushed', n: 2 } })], [app])).toEqual({ 'app@a1': 'DELETE', 'app@a2': 'KEEP', 'app@a3': 'KEEP', 'app@a4': 'KEEP' });
    expect(verdicts([policy('cleanup', { tagFilter: { untagged: true }, rule: { keep: 'latestPushed', n: 2 } })], [app])).toEqual({ 'app@a1': 'DELETE', 'app@a2': 'DELETE', 'app@a3': 'KEEP', 'app@a4': 'KEEP' });
  });

  it('images no policy matches are not touched (not even listed)', () => {
    const other: ImageFacts = { name: 'base/debian', artifacts: [art('b1', ['12'], 400)] };
    const v = verdicts([policy('cleanup', { imageFilter: { pattern: 'app' }, rule: { keep: 'nothing' } })], [app, other]);
    expect(Object.keys(v).some((k) => k.startsWith('base/'))).toBe(false);
    expect(v['app@a1']).toBe('DELETE');
    expect(v['app@a4']).toBe('KEEP');
  });

  it('pulled within N days: never pulled counts as pulled at push time, not at epoch', () => {
    const img: ImageFacts = { name: 'app', artifacts: [art('old-pulled-now', ['a'], 100, 1), art('new-never-pulled', ['b'], 2), art('old-never-pulled', ['c'], 100), art('old-pulled-old', ['d'], 100, 50)] };
    expect(verdicts([policy('cleanup', { rule: { keep: 'pulledWithinDays', n: 7 } })], [img])).toEqual({
      'app@old-pulled-now': 'KEEP',
      'app@new-never-pulled': 'KEEP',
      'app@old-never-pulled': 'DELETE',
      'app@old-pulled-old': 'DELETE',
    });
  });

  it('keep the N most recently pulled and pushed within N days', () => {
    const img: ImageFacts = { name: 'app', artifacts: [art('x', ['x'], 50, 1), art('y', ['y'], 3), art('z', ['z'], 40, 30)] };
    expect(verdicts([policy('cleanup', { rule: { keep: 'latestPulled', n: 2 } })], [img])).toEqual({ 'app@x': 'KEEP', 'app@y': 'KEEP', 'app@z': 'DELETE' });
    expect(verdicts([policy('cleanup', { rule: { keep: 'pushedWithinDays', n: 7 } })], [img])).toEqual({ 'app@x': 'DELETE', 'app@y': 'KEEP', 'app@z': 'DELETE' });
  });

  it('deleted only when a policy selects it and no policy keeps it', () => {
    const deleteCi = policy('cleanup', { tagFilter: { pattern: 'ci-*' }, rule: { keep: 'nothing' } });
    const keepRecent = policy('cleanup', { rule: { keep: 'pushedWithinDays', n: 15 } });
    const img: ImageFacts = { name: 'app', artifacts: [art('old-ci', ['ci-1'], 30), art('new-ci', ['ci-2'], 3), art('rel', ['v1'], 90)] };
    expect(verdicts([deleteCi, keepRecent], [img])).toEqual({ 'app@old-ci': 'DELETE', 'app@new-ci': 'KEEP', 'app@rel': 'DELETE' });
  });

  it('the guide\'s "delete everything except": excluding tag filter with keep nothing', () => {
    const p = policy('cleanup', { tagFilter: { pattern: 'release-*', mode: 'excluding', untagged: true }, rule: { keep: 'nothing' } });
    const img: ImageFacts = { name: 'app', artifacts: [art('r', ['release-1'], 30), art('c', ['ci-1'], 30), art('u', [], 30)] };
    expect(verdicts([p], [img])).toEqual({ 'app@r': 'KEEP', 'app@c': 'DELETE', 'app@u': 'DELETE' });
  });

  it('protection beats cleanup and is reported PROTECTED with the protecting policy', () => {
    const protect = policy('protection', { tagFilter: { pattern: 'v1' } });
    const j = evaluateCleanup([policy('cleanup', { rule: { keep: 'nothing' } })], protectionOf([protect]), [app], NOW);
    expect(j.find((x) => x.digest === 'a1')).toMatchObject({ verdict: 'PROTECTED', policyId: protect.id });
    expect(j.find((x) => x.digest === 'a2')?.verdict).toBe('DELETE');
  });

  it('disabled policies do nothing; referrers and index children are not judged alone', () => {
    expect(verdicts([policy('cleanup', { rule: { keep: 'nothing' } }, false)], [app])).toEqual({});
    const img: ImageFacts = {
      name: 'app',
      artifacts: [art('idx', ['v1'], 30, null, { children: ['amd', 'arm'] }), art('amd', [], 30), art('arm', [], 30), art('sig', [], 29, null, { subjectDigest: 'idx' }), art('orphan-sig', [], 29, null, { subjectDigest: 'gone' })],
    };
    expect(verdicts([policy('cleanup', { tagFilter: { untagged: true }, rule: { keep: 'nothing' } })], [img])).toEqual({ 'app@idx': 'DELETE', 'app@orphan-sig': 'DELETE' });
    // cosign's tag-addressed signature of an image present goes with it; one whose image is gone is judged
    const hex = 'b'.repeat(64);
    const cosign: ImageFacts = { name: 'app', artifacts: [art(`sha256:${hex}`, ['v1'], 30), art('legacy-sig', [`sha256-${hex}.sig`], 29), art('stale-sig', [`sha256-${'c'.repeat(64)}.sig`], 29)] };
    expect(verdicts([policy('cleanup', { rule: { keep: 'nothing' } })], [cosign])).toEqual({ [`app@sha256:${hex}`]: 'DELETE', 'app@stale-sig': 'DELETE' });
  });
});

describe('policy validation', () => {
  it('says what to fix', () => {
    expect(() => validatePolicy('cleanup', {})).toThrow(/rule\.keep must be one of/);
    expect(() => validatePolicy('cleanup', { rule: { keep: 'latestPushed' } })).toThrow(/rule\.n: give a whole number/);
    expect(() => validatePolicy('cleanup', { rule: { keep: 'latestPushed', n: 0 } })).toThrow(/rule\.n/);
    expect(() => validatePolicy('protection', { rule: { keep: 'nothing' } })).toThrow(/has no rule/);
    expect(() => validatePolicy('protection', { tagFilter: { pattern: '[', syntax: 'regex' } })).toThrow(/tagFilter\.pattern/);
  });
});
