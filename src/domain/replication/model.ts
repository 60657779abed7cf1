/**
 * A replication rule: copy what is pushed to a registry (one of ours) to a remote registry (an endpoint), under a
 * path prefix there (the target registry name), optionally only images and tags matching filters.
 */
import { NcrError } from '../../oci/errors.js';
import { describeFilter, imageMatcher, tagMatcher, type NameFilter, type TagFilter } from '../filters.js';

export interface ReplicationRule {
  id: string;
  registryId: string;
  /** the source registry's name */
  registry: string;
  name: string;
  description: string;
  endpointId: string;
  /** the path prefix at the target: an image `REG/app` is copied to `TARGET/app` */
  targetRegistry: string;
  imageFilter: NameFilter | null;
  tagFilter: TagFilter | null;
  /** turned on by its owner (auto replication and runs happen only when it is also checked) */
  enabled: boolean;
  createdAt: number;
  createdBy: string | null;
  updatedAt: number;
  /** the last check of the target (reachable and writable); null until checked, or since a change */
  checkedAt: number | null;
  checkError: string | null;
}

export type RuleStatus = 'enabled' | 'disabled';

/** The guide's status: Enabled once turned on and the target was checked reachable and writable, else Disabled. */
export function statusOf(r: ReplicationRule): { status: RuleStatus; statusReason: string | null } {
  if (!r.enabled) return { status: 'disabled', statusReason: 'turned off' };
  if (r.checkedAt === null) return { status: 'disabled', statusReason: 'the target is being checked (reachable and writable): click Refresh if this lasts' };
  if (r.checkError !== null) return { status: 'disabled', statusReason: `the target failed its check: ${r.checkError}` };
  return { status: 'enabled', statusReason: null };
}

export interface RuleInput {
  name?: string;
  description?: string;
  targetRegistry?: string;
  imageFilter?: NameFilter | null;
  tagFilter?: TagFilter | null;
  enabled?: boolean;
}

const NAME = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;
const PATH = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** Checks the fields given (all required ones when `creating`); throws VALIDATION_FAILED naming the field. */
export function validateRule(input: RuleInput, creating: boolean): RuleInput {
  const v: RuleInput = {};
  if (input.name !== undefined || creating) {
    if (typeof input.name !== 'string' || !NAME.test(input.name)) throw new NcrError('VALIDATION_FAILED', 'name: 1 to 64 lowercase letters, digits, ".", "_" or "-", starting and ending with a letter or digit');
    v.name = input.name;
  }
  if (input.description !== undefined) {
    if (typeof input.description !== 'string' || input.description.length > 500) throw new NcrError('VALIDATION_FAILED', 'description: at most 500 characters');
    v.description = input.description;
  }
  if (input.targetRegistry !== undefined) {
    if (typeof input.targetRegistry !== 'string' || input.targetRegistry.length > 200 || !PATH.test(input.targetRegistry)) {
      throw new NcrError('VALIDATION_FAILED', `targetRegistry: the path prefix at the target (e.g. "team" or "mirror/team"): lowercase letters and digits with ".", "_", "__" or "-" between them, components separated by "/"`);
    }
    v.targetRegistry = input.targetRegistry;
  }
  if (input.imageFilter !== undefined) {
    const f = input.imageFilter;
    v.imageFilter = f === null ? null : { pattern: f.pattern, syntax: f.syntax ?? 'glob', mode: f.mode ?? 'matching' };
    if (v.imageFilter) imageMatcher(v.imageFilter);
  }
  if (input.tagFilter !== undefined) {
    const f = input.tagFilter;
    v.tagFilter = f === null ? null : { pattern: f.pattern, syntax: f.syntax ?? 'glob', mode: f.mode ?? 'matching', untagged: f.untagged === true };
    if (v.tagFilter) tagMatcher(v.tagFilter);
  }
  if (input.enabled !== undefined) {
    if (typeof input.enabled !== 'boolean') throw new NcrError('VALIDATION_FAILED', 'enabled: true or false');
    v.enabled = input.enabled;
  }
  return v;
}

/** What a rule selects: an image (its path inside the registry) and an artifact by its tags (none: untagged). */
export interface Selector {
  image(image: string): boolean;
  tags(tags: readonly string[]): boolean;
}

/**
 * The rule's filters as tests. Without an image filter every image is selected; without a tag filter every tagged
 * artifact (untagged ones travel with what refers to them: index children, signatures).
 */
export function selectorOf(r: Pick<ReplicationRule, 'imageFilter' | 'tagFilter'>): Selector {
  const image = r.imageFilter ? imageMatcher(r.imageFilter) : () => true;
  const tags = r.tagFilter ? tagMatcher(r.tagFilter) : (t: readonly string[]) => t.length > 0;
  return { image, tags };
}

/** "every image, tags matching glob "v*"", for messages and the history. */
export function describeRule(r: Pick<ReplicationRule, 'imageFilter' | 'tagFilter'>): string {
  return `${r.imageFilter ? `images ${describeFilter(r.imageFilter)}` : 'every image'}, ${r.tagFilter ? `tags ${describeFilter(r.tagFilter)}` : 'every tag'}`;
}
