/**
 * What deleting an artifact takes with it, and the protection check over all of it. Runs inside the deleting
 * transaction, under the repository's lock, so the graph it reads is the graph the delete changes.
 *
 * With accessories (the API, the console, cleanup): the artifact, its referrers (signatures, SBOMs, attestations:
 * manifests whose subject it is, and those under cosign's `sha256-<hex>.sig/.att/.sbom` tags, recursively) and, for an index, the children no surviving manifest references.
 * Without (a /v2 DELETE, as the spec has it): the artifact alone.
 */
import { accessoryTagsOf, accessoryTagSubject } from '../../oci/accessories.js';
import type { Tx } from '../uow.js';
import type { RegistryCoreStores, Repository } from './ports.js';

const MAX_DEPTH = 8;
type CoreTx = Tx<RegistryCoreStores>;

export async function tagsOf(tx: CoreTx, repo: Repository, digest: string): Promise<string[]> {
  const page = await tx.tags.list({ repositoryId: repo.id, digest, page: 1, perPage: 10_000 });
  return page.items.map((t) => t.name);
}

/**
 * The tags that protect an artifact: its own, and those of what it belongs to (the subject it signs or describes, the
 * index it is a platform of), so a signature or platform manifest of a protected image is protected too.
 */
export async function protectingTags(tx: CoreTx, repo: Repository, digest: string, depth = 0): Promise<string[]> {
  const own = await tagsOf(tx, repo, digest);
  if (depth >= MAX_DEPTH) return own;
  const out = new Set(own);
  const artifact = await tx.artifacts.get(repo.id, digest);
  const owners = [...(await tx.artifacts.parents(repo.id, digest))];
  if (artifact?.subjectDigest) owners.push(artifact.subjectDigest);
  for (const t of own) {
    const subject = accessoryTagSubject(t)?.subject;
    if (subject && subject !== digest) owners.push(subject);
  }
  for (const owner of owners) for (const t of await protectingTags(tx, repo, owner, depth + 1)) out.add(t);
  return [...out];
}

/** The tags that protect a tag from being moved or deleted: itself and, for an accessory tag, its subject's. */
export async function protectingTagsOfTag(tx: CoreTx, repo: Repository, tag: string): Promise<string[]> {
  const subject = accessoryTagSubject(tag)?.subject;
  if (!subject || !(await tx.artifacts.get(repo.id, subject))) return [tag];
  return [tag, ...(await protectingTags(tx, repo, subject))];
}

/** The digests a delete with accessories removes, the named artifact first. */
export async function deletionClosure(tx: CoreTx, repo: Repository, digest: string): Promise<string[]> {
  const closure = new Set<string>([digest]);
  const queue = [digest];
  while (queue.length > 0 && closure.size < 10_000) {
    const d = queue.shift()!;
    const accessories = (await tx.artifacts.referrers(repo.id, d)).map((r) => r.digest);
    // cosign's tag-addressed signatures, attestations and SBOMs (sha256-<hex>.sig ...) belong to it as referrers do
    for (const t of accessoryTagsOf(d)) {
      const tagged = await tx.tags.get(repo.id, t);
      if (tagged) accessories.push(tagged.digest);
    }
    for (const a of accessories) {
      if (!closure.has(a)) {
        closure.add(a);
        queue.push(a);
      }
    }
    for (const child of await tx.artifacts.children(repo.id, d)) {
      if (closure.has(child)) continue;
      const parents = await tx.artifacts.parents(repo.id, child);
      // a platform manifest another (surviving) index still references stays; tags keep it too
      if (parents.some((p) => !closure.has(p))) continue;
      if ((await tagsOf(tx, repo, child)).length > 0) continue;
      closure.add(child);
      queue.push(child);
    }
  }
  return [...closure];
}
