/**
 * Cleanup and protection policies of a registry: image filter + tag filter (+ a rule, for cleanup), all ANDed.
 * Validation turns API input into a policy or a VALIDATION_FAILED that says what to fix.
 */
import { NcrError } from '../../oci/errors.js';
import { describeFilter, imageMatcher, tagMatcher, type NameFilter, type TagFilter } from '../filters.js';

export type PolicyKind = 'cleanup' | 'protection';

/**
 * What a cleanup policy keeps of the artifacts its filters select; the rest of them it deletes.
 * - latestPushed N: the N most recently pushed (per image)
 * - latestPulled N: the N most recently pulled (per image; never pulled counts as pulled when pushed)
 * - pushedWithinDays N: those pushed in the last N days
 * - pulledWithinDays N: those pulled in the last N days (never pulled counts as pulled when pushed)
 * - nothing: none (every selected artifact is deleted)
 */
export type KeepRule = { keep: 'latestPushed' | 'latestPulled' | 'pushedWithinDays' | 'pulledWithinDays'; n: number } | { keep: 'nothing' };
export const KEEP_KINDS = ['latestPushed', 'latestPulled', 'pushedWithinDays', 'pulledWithinDays', 'nothing'] as const;

export interface Policy {
  id: string;
  registryId: string;
  kind: PolicyKind;
  imageFilter: NameFilter;
  tagFilter: TagFilter;
  /** cleanup only */
  rule: KeepRule | null;
  enabled: boolean;
  createdAt: number;
  createdBy: string | null;
}

export interface PolicyInput {
  imageFilter?: Partial<NameFilter>;
  tagFilter?: Partial<TagFilter>;
  rule?: Partial<{ keep: string; n: number }>;
}

/** At most this many policies of each kind per registry (the guide's limit). */
export const MAX_POLICIES = 15;
const MAX_N = 100_000;

/** Fills defaults (every image, every tag) and checks everything; throws VALIDATION_FAILED naming the field. */
export function validatePolicy(kind: PolicyKind, input: PolicyInput): Pick<Policy, 'imageFilter' | 'tagFilter' | 'rule'> {
  const imageFilter: NameFilter = { pattern: input.imageFilter?.pattern ?? '**', syntax: input.imageFilter?.syntax ?? 'glob', mode: input.imageFilter?.mode ?? 'matching' };
  const tagFilter: TagFilter = {
    pattern: input.tagFilter?.pattern ?? '**',
    syntax: input.tagFilter?.syntax ?? 'glob',
    mode: input.tagFilter?.mode ?? 'matching',
    untagged: input.tagFilter?.untagged ?? false,
  };
  if (typeof tagFilter.untagged !== 'boolean') throw new NcrError('VALIDATION_FAILED', 'tagFilter.untagged must be true or false');
  imageMatcher(imageFilter);
  tagMatcher(tagFilter);
  if (kind === 'protection') {
    if (input.rule !== undefined) throw new NcrError('VALIDATION_FAILED', 'a protection policy has no rule: give only imageFilter and tagFilter');
    return { imageFilter, tagFilter, rule: null };
  }
  const keep = input.rule?.keep;
  if (!keep || !(KEEP_KINDS as readonly string[]).includes(keep)) {
    throw new NcrError('VALIDATION_FAILED', `rule.keep must be one of ${KEEP_KINDS.join(', ')} (what the policy keeps of the artifacts it selects; it deletes the rest)`);
  }
  if (keep === 'nothing') {
    if (input.rule?.n !== undefined) throw new NcrError('VALIDATION_FAILED', 'rule.n: the rule "nothing" takes no number');
    return { imageFilter, tagFilter, rule: { keep: 'nothing' } };
  }
  const n = input.rule?.n;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_N) throw new NcrError('VALIDATION_FAILED', `rule.n: give a whole number from 1 to ${MAX_N} (how many artifacts, or days, to keep)`);
  return { imageFilter, tagFilter, rule: { keep: keep as Exclude<KeepRule['keep'], 'nothing'>, n } };
}

/** Two policies of a registry with the same fingerprint are duplicates (same kind, image, tag and rule). */
export function fingerprintOf(p: Pick<Policy, 'kind' | 'imageFilter' | 'tagFilter' | 'rule'>): string {
  const f = p.imageFilter;
  const t = p.tagFilter;
  return JSON.stringify([p.kind, f.syntax, f.mode, f.pattern, t.syntax, t.mode, t.pattern, t.untagged, p.rule ? [p.rule.keep, 'n' in p.rule ? p.rule.n : null] : null]);
}

export function describeRule(r: KeepRule): string {
  switch (r.keep) {
    case 'latestPushed':
      return `keep the ${r.n} most recently pushed`;
    case 'latestPulled':
      return `keep the ${r.n} most recently pulled`;
    case 'pushedWithinDays':
      return `keep those pushed in the last ${r.n} day(s)`;
    case 'pulledWithinDays':
      return `keep those pulled in the last ${r.n} day(s)`;
    case 'nothing':
      return 'keep nothing';
  }
}

/** "policy 3f2a… (images matching glob "**", tags matching glob "v*")": how messages and history name a policy. */
export function describePolicy(p: Pick<Policy, 'id' | 'kind' | 'imageFilter' | 'tagFilter' | 'rule'>): string {
  const what = `images ${describeFilter(p.imageFilter)}, tags ${describeFilter(p.tagFilter)}${p.rule ? `, ${describeRule(p.rule)}` : ''}`;
  return `${p.kind} policy ${p.id.slice(0, 8)} (${what})`;
}
