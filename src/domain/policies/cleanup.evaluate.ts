/**
 * The cleanup verdict of every artifact, as a pure function of the policies, the images and the time.
 *
 * - Only images some enabled cleanup policy's image filter matches are looked at; artifacts elsewhere are untouched.
 * - Each policy selects, in each image it matches, the artifacts its tag filter selects, and splits them by its rule
 *   into those it keeps and those it would delete.
 * - An artifact is DELETE when at least one policy would delete it and no policy keeps it; PROTECTED when it would be
 *   deleted but a protection policy covers it (protection always wins); otherwise KEEP.
 * - Referrers (signatures, SBOMs; also cosign's `sha256-<hex>.sig` style tags) and the platform manifests of an index
 *   are not judged on their own: they go with (and are kept with) the artifact they belong to.
 * - Never pulled counts as pulled at push time; a pull by digest counts as a pull (the artifact's pulledAt).
 */
import { accessoryTagSubject } from '../../oci/accessories.js';
import { imageMatcher, tagMatcher } from '../filters.js';
import type { KeepRule, Policy } from './model.js';
import type { Protection } from './protection.js';

export interface ArtifactFacts {
  digest: string;
  tags: string[];
  pushedAt: number;
  pulledAt: number | null;
  size: number;
  subjectDigest: string | null;
  /** digests of the manifests this index references */
  children: string[];
}
export interface ImageFacts {
  /** path inside the registry */
  name: string;
  artifacts: ArtifactFacts[];
}

export type Verdict = 'KEEP' | 'DELETE' | 'PROTECTED';
export interface Judgement {
  image: string;
  digest: string;
  tags: string[];
  size: number;
  pushedAt: number;
  pulledAt: number;
  verdict: Verdict;
  /** the policy that decided (keeping, deleting or protecting), when one did */
  policyId: string | null;
  reason: string;
}

const DAY_MS = 86_400_000;

export function evaluateCleanup(policies: Policy[], protection: Protection, images: ImageFacts[], now: number): Judgement[] {
  const compiled = policies
    .filter((p) => p.enabled && p.kind === 'cleanup' && p.rule)
    .map((p) => ({ p, rule: p.rule!, image: imageMatcher(p.imageFilter), tags: tagMatcher(p.tagFilter) }));
  const out: Judgement[] = [];
  for (const img of images) {
    const applying = compiled.filter((c) => c.image(img.name));
    if (applying.length === 0) continue;
    const present = new Set(img.artifacts.map((a) => a.digest));
    const childOfSomething = new Set(img.artifacts.flatMap((a) => a.children));
    const belongsToAnother = (a: ArtifactFacts) =>
      childOfSomething.has(a.digest) ||
      (a.subjectDigest !== null && present.has(a.subjectDigest)) ||
      a.tags.some((t) => {
        const subject = accessoryTagSubject(t)?.subject;
        return subject !== undefined && present.has(subject);
      });
    const judged = img.artifacts.filter((a) => !belongsToAnother(a));
    const keptBy = new Map<string, Policy>();
    const deletedBy = new Map<string, Policy>();
    for (const c of applying) {
      const selected = judged.filter((a) => c.tags(a.tags));
      const keep = kept(c.rule, selected, now);
      for (const a of selected) {
        if (keep.has(a.digest)) {
          if (!keptBy.has(a.digest)) keptBy.set(a.digest, c.p);
        } else if (!deletedBy.has(a.digest)) deletedBy.set(a.digest, c.p);
      }
    }
    for (const a of judged) {
      const base = { image: img.name, digest: a.digest, tags: a.tags, size: a.size, pushedAt: a.pushedAt, pulledAt: a.pulledAt ?? a.pushedAt };
      const keeper = keptBy.get(a.digest);
      const deleter = deletedBy.get(a.digest);
      if (keeper) out.push({ ...base, verdict: 'KEEP', policyId: keeper.id, reason: 'kept by a policy' });
      else if (!deleter) out.push({ ...base, verdict: 'KEEP', policyId: null, reason: "no policy's tag filter selects it" });
      else {
        const guard = protection.protector(img.name, a.tags);
        out.push(guard ? { ...base, verdict: 'PROTECTED', policyId: guard.id, reason: 'a protection policy covers it' } : { ...base, verdict: 'DELETE', policyId: deleter.id, reason: 'selected, and no policy keeps it' });
      }
    }
  }
  return out;
}

/** The digests the rule keeps among the artifacts its policy selected in one image. */
function kept(rule: KeepRule, selected: ArtifactFacts[], now: number): Set<string> {
  const pulled = (a: ArtifactFacts) => a.pulledAt ?? a.pushedAt;
  const newest = (key: (a: ArtifactFacts) => number) => [...selected].sort((x, y) => key(y) - key(x) || (x.digest < y.digest ? -1 : 1));
  switch (rule.keep) {
    case 'latestPushed':
      return new Set(newest((a) => a.pushedAt).slice(0, rule.n).map((a) => a.digest));
    case 'latestPulled':
      return new Set(newest(pulled).slice(0, rule.n).map((a) => a.digest));
    case 'pushedWithinDays':
      return new Set(selected.filter((a) => a.pushedAt >= now - rule.n * DAY_MS).map((a) => a.digest));
    case 'pulledWithinDays':
      return new Set(selected.filter((a) => pulled(a) >= now - rule.n * DAY_MS).map((a) => a.digest));
    case 'nothing':
      return new Set();
  }
}
