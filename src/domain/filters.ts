/**
 * Image and tag filters shared by capabilities (cleanup, protection, replication): a glob (`**`, `*`, `?`, `{a,b}`, `[a-z]`) or a regular
 * expression, each "matching" or "excluding". A pattern always matches the whole name (a regex is anchored).
 *
 * Image names are the image's path inside its registry (`team/app`, not `reg/team/app`): `*` stays within one path
 * segment, `**` crosses them. A tag filter selects an artifact when at least one of its tags is selected ("matching":
 * the tag matches; "excluding": the tag does not match); an untagged artifact is selected only when the filter says
 * `untagged: true`.
 */
import picomatch from 'picomatch';
import safeRegex from 'safe-regex2';
import { NcrError } from '../oci/errors.js';

export type PatternSyntax = 'glob' | 'regex';
export type FilterMode = 'matching' | 'excluding';

export interface NameFilter {
  pattern: string;
  syntax: PatternSyntax;
  mode: FilterMode;
}
export interface TagFilter extends NameFilter {
  /** whether artifacts without any tag are selected */
  untagged: boolean;
}

const MAX_PATTERN = 256;

/** A compiled name test: true when the whole name matches the pattern. Throws VALIDATION_FAILED naming `field`. */
export function compilePattern(f: Pick<NameFilter, 'pattern' | 'syntax'>, field: string): (name: string) => boolean {
  if (typeof f.pattern !== 'string' || f.pattern.length === 0) throw new NcrError('VALIDATION_FAILED', `${field}: give a pattern, e.g. "**" for every name`);
  if (f.pattern.length > MAX_PATTERN) throw new NcrError('VALIDATION_FAILED', `${field}: a pattern may have at most ${MAX_PATTERN} characters`);
  if (f.syntax === 'regex') {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${f.pattern})$`, 'u');
    } catch (err) {
      throw new NcrError('VALIDATION_FAILED', `${field}: "${f.pattern}" is not a valid regular expression: ${(err as Error).message}`);
    }
    // patterns run on the server against every name: refuse those that can backtrack exponentially (ReDoS)
    if (!safeRegex(re)) throw new NcrError('VALIDATION_FAILED', `${field}: "${f.pattern}" could take exponential time to match (nested repetition such as (a+)+): simplify it`);
    return (name) => re.test(name);
  }
  if (f.syntax !== 'glob') throw new NcrError('VALIDATION_FAILED', `${field}: syntax must be "glob" or "regex"`);
  const test = picomatch(f.pattern, { dot: true, strictSlashes: true });
  return (name) => test(name);
}

function checkMode(mode: unknown, field: string): void {
  if (mode !== 'matching' && mode !== 'excluding') throw new NcrError('VALIDATION_FAILED', `${field}: mode must be "matching" or "excluding"`);
}

/** The image test of a filter: true when the policy applies to the image. */
export function imageMatcher(f: NameFilter): (image: string) => boolean {
  checkMode(f.mode, 'imageFilter.mode');
  const test = compilePattern(f, 'imageFilter.pattern');
  return f.mode === 'matching' ? test : (image) => !test(image);
}

/** The tag test of a filter: true when an artifact carrying `tags` (none: untagged) is selected. */
export function tagMatcher(f: TagFilter): (tags: readonly string[]) => boolean {
  checkMode(f.mode, 'tagFilter.mode');
  const test = compilePattern(f, 'tagFilter.pattern');
  const selected = f.mode === 'matching' ? test : (tag: string) => !test(tag);
  const untagged = f.untagged === true;
  return (tags) => (tags.length === 0 ? untagged : tags.some(selected));
}

/** A short human form of a filter, for messages and history: `matching glob "v*" (+ untagged)`. */
export function describeFilter(f: NameFilter & { untagged?: boolean }): string {
  return `${f.mode} ${f.syntax} "${f.pattern}"${f.untagged ? ' (+ untagged)' : ''}`;
}
