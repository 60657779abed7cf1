/**
 * The name rules of the product guide, checked as the user types (the server checks them again and its message
 * is shown when it refuses). Each function returns a message for a person, or null when the value is fine.
 */
const COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const USERNAME = /^[a-z0-9][a-z0-9._-]{1,62}$/;
export const MAX_REFERENCE_LENGTH = 255;

export const REGISTRY_NAME_RULE = 'Lowercase letters and digits, joined by a single ".", "_", "__" or one or more "-".';

/** A registry name; `host` is the registry address the name will follow (its length counts toward 255). */
export function registryNameProblem(name: string, host?: string): string | null {
  if (name === '') return 'Enter a name.';
  if (name.includes('/')) return 'A registry name is a single path component: no "/".';
  if (/[A-Z]/.test(name)) return 'Use lowercase letters only.';
  if (/[^a-z0-9._-]/.test(name)) return 'Only lowercase letters, digits, ".", "_" and "-" are allowed.';
  if (/^[._-]/.test(name)) return 'Start with a letter or digit.';
  if (/[._-]$/.test(name)) return 'End with a letter or digit.';
  if (!COMPONENT.test(name)) return 'Separators may be a single "." or "_", a double "__", or a run of "-".';
  const max = host ? MAX_REFERENCE_LENGTH - (host.length + 1) : MAX_REFERENCE_LENGTH;
  if (name.length > max) return `Use at most ${max} characters (255 including "${host}/").`;
  return null;
}

export function tagProblem(tag: string): string | null {
  if (tag === '') return 'Enter a tag.';
  if (tag.length > 128) return `At most 128 characters (this has ${tag.length}).`;
  if (!TAG.test(tag)) return 'Letters, digits, "_", "." and "-" only, starting with a letter, digit or "_".';
  return null;
}

export function usernameProblem(u: string): string | null {
  if (u === '') return 'Enter a username.';
  if (!USERNAME.test(u)) return '2–63 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit.';
  return null;
}

export function passwordProblem(p: string): string | null {
  if (p.length < 8) return 'At least 8 characters.';
  if (p.length > 256) return 'At most 256 characters.';
  return null;
}
