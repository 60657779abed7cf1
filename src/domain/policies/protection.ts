/**
 * Image protection: which artifacts the registry's enabled protection policies cover, and the guard the registry
 * core asks before it moves or deletes a tag, deletes an artifact, an image or a registry. Protection always wins:
 * cleanup reports a protected artifact as PROTECTED and leaves it.
 */
import { NcrError } from '../../oci/errors.js';
import type { ChangeGuard } from '../registry/ports.js';
import { imageMatcher, tagMatcher } from '../filters.js';
import { describePolicy, type Policy } from './model.js';
import type { PolicyStore } from './ports.js';

export interface Protection {
  /** The policy covering an artifact of `image` (its path inside the registry) carrying `tags`, if any. */
  protector(image: string, tags: readonly string[]): Policy | undefined;
  readonly empty: boolean;
}

/** The compiled protection of a set of enabled protection policies. */
export function protectionOf(policies: Policy[]): Protection {
  const compiled = policies.map((p) => ({ p, image: imageMatcher(p.imageFilter), tags: tagMatcher(p.tagFilter) }));
  return {
    empty: compiled.length === 0,
    protector: (image, tags) => compiled.find((c) => c.image(image) && c.tags(tags))?.p,
  };
}

export function protectedError(policy: Policy, repository: string, tags: readonly string[], change: string): NcrError {
  const what = tags.length ? `${repository} with tag(s) ${tags.join(', ')}` : `untagged artifact in ${repository}`;
  return new NcrError('PROTECTED', `${change} is refused: ${what} is protected by ${describePolicy(policy)}; disable or delete that policy first`, {
    detail: { policyId: policy.id, repository, tags },
  });
}

/** The core's ChangeGuard over one transaction's view of the policies (read once per registry per transaction). */
export class ProtectionGuard implements ChangeGuard {
  private readonly loaded = new Map<string, Promise<Protection>>();

  constructor(private readonly store: PolicyStore) {}

  private protection(registry: string): Promise<Protection> {
    let p = this.loaded.get(registry);
    if (!p) {
      p = this.store.enabledByRegistryName(registry, 'protection').then(protectionOf);
      this.loaded.set(registry, p);
    }
    return p;
  }

  async active(registry: string): Promise<boolean> {
    return !(await this.protection(registry)).empty;
  }

  async check(repository: string, tags: readonly string[], change: string): Promise<void> {
    const slash = repository.indexOf('/');
    const protection = await this.protection(repository.slice(0, slash));
    const policy = protection.protector(repository.slice(slash + 1), tags);
    if (policy) throw protectedError(policy, repository, tags, change);
  }
}
