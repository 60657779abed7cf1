/** Cleanup and protection policies in words, as the policy tables and the history show them. */
import type { CleanupExecution, ExecutionCounts, KeepKind, KeepRule, NameFilter, TagFilter } from '../../api/policies';
import { formatBytes, plural } from '../../lib/format';

export const KEEP_OPTIONS: { value: KeepKind; label: string; unit?: 'artifacts' | 'days' }[] = [
  { value: 'latestPushed', label: 'Keep the N most recently pushed (per image)', unit: 'artifacts' },
  { value: 'latestPulled', label: 'Keep the N most recently pulled (per image)', unit: 'artifacts' },
  { value: 'pushedWithinDays', label: 'Keep those pushed in the last N days', unit: 'days' },
  { value: 'pulledWithinDays', label: 'Keep those pulled in the last N days', unit: 'days' },
  { value: 'nothing', label: 'Keep nothing (delete every selected artifact)' },
];

/** "Keep the 10 most recently pushed", "Keep those pulled in the last 7 days", "Keep nothing". */
export function ruleText(r: KeepRule | null): string {
  if (!r) return '—';
  const n = r.n ?? 0;
  switch (r.keep) {
    case 'latestPushed':
      return n === 1 ? 'Keep the most recently pushed' : `Keep the ${n.toLocaleString()} most recently pushed`;
    case 'latestPulled':
      return n === 1 ? 'Keep the most recently pulled' : `Keep the ${n.toLocaleString()} most recently pulled`;
    case 'pushedWithinDays':
      return `Keep those pushed in the last ${plural(n, 'day')}`;
    case 'pulledWithinDays':
      return `Keep those pulled in the last ${plural(n, 'day')}`;
    case 'nothing':
      return 'Keep nothing';
    default:
      return String(r.keep);
  }
}

/** Every image/tag: the default filter, worth saying in words rather than as `**`. */
export const isEverything = (f: NameFilter) => f.mode === 'matching' && f.syntax === 'glob' && f.pattern === '**';

/** "Every image", "Matching app-*", "Excluding regex ^tmp-.*". */
export function filterText(f: NameFilter, noun: 'image' | 'tag'): string {
  if (isEverything(f)) return noun === 'image' ? 'Every image' : 'Every tag';
  return `${f.mode === 'matching' ? 'Matching' : 'Excluding'} ${f.syntax === 'regex' ? 'regex ' : ''}${f.pattern}`;
}

export function tagFilterText(f: TagFilter): string {
  return filterText(f, 'tag') + (f.untagged ? ', and untagged artifacts' : '');
}

/** What a run did, in one line: "3 artifacts: 1 kept, 1 protected, 1 deleted (12 KB)". */
export function countsText(e: Pick<CleanupExecution, 'dryRun' | 'counts' | 'status'>): string {
  const c: ExecutionCounts = e.counts ?? {};
  if (c.artifacts === undefined) return e.status === 'queued' ? 'Waiting to start' : e.status === 'running' ? 'Judging artifacts…' : '—';
  const parts = [`${c.kept ?? 0} kept`, `${c.protected ?? 0} protected`];
  if (e.dryRun) parts.push(`${c.wouldDelete ?? 0} would be deleted`);
  else parts.push(`${c.deleted ?? 0} deleted`);
  if (c.failed) parts.push(`${c.failed} failed`);
  const bytes = c.deletedBytes ? ` (${formatBytes(c.deletedBytes)})` : '';
  return `${plural(c.artifacts, 'artifact')}: ${parts.join(', ')}${bytes}`;
}

const quoted = (f: NameFilter) => `${f.syntax === 'regex' ? 'regex ' : ''}"${f.pattern}"`;

/**
 * The whole policy in one sentence, as the Add dialogs show it before it is added: "In every image, this policy
 * selects the artifacts with a tag matching "ci-*"; it keeps the 10 most recently pushed (per image) and deletes the rest."
 */
export function policySentence(image: NameFilter, tag: TagFilter, rule: KeepRule | null): string {
  const images = isEverything(image) ? 'every image' : `images ${image.mode === 'matching' ? 'matching' : 'not matching'} ${quoted(image)}`;
  const tagged = isEverything(tag) ? 'every tagged artifact' : `the artifacts with a tag ${tag.mode === 'matching' ? 'matching' : 'not matching'} ${quoted(tag)}`;
  const artifacts = tag.untagged ? `${tagged}, and every untagged artifact` : tagged;
  if (!rule) return `In ${images}, this policy protects ${artifacts} from deletion.`;
  const perImage = rule.keep === 'latestPushed' || rule.keep === 'latestPulled' ? ' (per image)' : '';
  const keeps = rule.keep === 'nothing' ? 'it keeps none of them: it deletes them all.' : `it ${ruleText(rule).replace(/^Keep/, 'keeps')}${perImage} and deletes the rest.`;
  return `In ${images}, this policy selects ${artifacts}; ${keeps}`;
}
