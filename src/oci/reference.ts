import { NcrError } from './errors.js';
import { parseDigest } from './digest.js';

/** Longest repository name accepted, counted with the registry address and '/' when one is given. */
export const MAX_REFERENCE_LENGTH = 255;
/** Longest tag the OCI distribution spec allows. */
export const MAX_TAG_LENGTH = 128;
/** The OCI distribution spec's tag grammar. */
export const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const COMPONENT_RULE =
  'use lowercase letters and digits, joined by a single "." or "_", a double "__", or one or more "-"; no leading or trailing separator';

function show(s: string): string {
  return JSON.stringify(s.length > 300 ? `${s.slice(0, 300)}...` : s);
}

/** Why one path component fails COMPONENT, phrased as what to change. */
function componentProblem(c: string): string {
  if (c === '') return 'it has an empty path component (leading, trailing or double "/")';
  if (/[A-Z]/.test(c)) return `component ${show(c)} contains uppercase letters; names must be lowercase`;
  if (/[^a-z0-9._-]/.test(c)) return `component ${show(c)} contains characters other than [a-z0-9._-]`;
  if (/^[._-]|[._-]$/.test(c)) return `component ${show(c)} starts or ends with a separator`;
  return `component ${show(c)} has an invalid run of separators`;
}

function maxLength(registryAddress?: string): number {
  return registryAddress ? MAX_REFERENCE_LENGTH - (registryAddress.length + 1) : MAX_REFERENCE_LENGTH;
}

function lengthSuffix(registryAddress?: string): string {
  return registryAddress
    ? ` (${MAX_REFERENCE_LENGTH} including the registry address "${registryAddress}/")`
    : '';
}

/**
 * Checks a registry (namespace) name: one path component of lowercase letters and digits joined by . _ __ or -,
 * at most 255 characters minus (address length + 1) when an address is given. Throws NcrError NAME_INVALID.
 */
export function validateRegistryName(name: string, registryAddress?: string): void {
  const max = maxLength(registryAddress);
  if (name.length === 0) {
    throw new NcrError('NAME_INVALID', `registry name is empty: ${COMPONENT_RULE}`);
  }
  if (name.includes('/')) {
    throw new NcrError(
      'NAME_INVALID',
      `registry name ${show(name)} is invalid: it must be a single path component without "/"; ${COMPONENT_RULE}`,
    );
  }
  if (!COMPONENT.test(name)) {
    throw new NcrError('NAME_INVALID', `registry name ${show(name)} is invalid: ${COMPONENT_RULE}`);
  }
  if (name.length > max) {
    throw new NcrError(
      'NAME_INVALID',
      `registry name ${show(name)} is too long: use at most ${max} characters${lengthSuffix(registryAddress)}`,
    );
  }
}

/**
 * Checks a repository name against the OCI grammar and ncr's REGISTRY/IMAGE rule (at least two components),
 * with a total length limit of 255 counting `registryAddress/` when given. Returns the split; throws NAME_INVALID.
 */
export function validateRepositoryName(name: string, registryAddress?: string): { registry: string; image: string } {
  const max = maxLength(registryAddress);
  if (name.length === 0) {
    throw new NcrError('NAME_INVALID', 'repository name is empty: push to REGISTRY/IMAGE[:TAG], e.g. team/app:1.0');
  }
  const components = name.split('/');
  for (const c of components) {
    if (!COMPONENT.test(c)) {
      throw new NcrError(
        'NAME_INVALID',
        `repository name ${show(name)} is invalid: ${componentProblem(c)}; in each "/"-separated component ${COMPONENT_RULE}`,
      );
    }
  }
  if (components.length < 2) {
    throw new NcrError(
      'NAME_INVALID',
      `repository name ${show(name)} has no registry: push to REGISTRY/IMAGE[:TAG], e.g. team/app:1.0`,
    );
  }
  if (name.length > max) {
    throw new NcrError(
      'NAME_INVALID',
      `repository name ${show(name)} is ${name.length} characters long: use at most ${max}${lengthSuffix(registryAddress)}`,
    );
  }
  return { registry: components[0], image: components.slice(1).join('/') };
}

/** True when `tag` matches TAG_PATTERN (at most 128 chars of [A-Za-z0-9_.-], not starting with '.' or '-'). */
export function isValidTag(tag: string): boolean {
  return TAG_PATTERN.test(tag);
}

/** Checks `tag` against TAG_PATTERN; throws NcrError TAG_INVALID explaining the rule. */
export function validateTag(tag: string): void {
  if (!isValidTag(tag)) {
    const why = tag.length > MAX_TAG_LENGTH ? ` (it has ${tag.length})` : '';
    throw new NcrError(
      'TAG_INVALID',
      `tag ${show(tag)} is invalid${why}: use at most ${MAX_TAG_LENGTH} characters from [A-Za-z0-9_.-], starting with a letter, digit or underscore`,
    );
  }
}

/**
 * Classifies the <reference> of a /v2 manifest URL: containing ':' means a digest (checked by parseDigest,
 * throws DIGEST_INVALID), anything else a tag (checked by validateTag, throws TAG_INVALID).
 */
export function parseReference(ref: string): { kind: 'digest'; digest: string } | { kind: 'tag'; tag: string } {
  if (ref.includes(':')) {
    parseDigest(ref);
    return { kind: 'digest', digest: ref };
  }
  validateTag(ref);
  return { kind: 'tag', tag: ref };
}
