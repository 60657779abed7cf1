/**
 * What deleting an artifact takes with it, and the protection check over all of it. Runs inside the deleting
 * transaction, under the repository's lock, so the graph it reads is the graph the delete changes.
 *
 * With accessories (the API, the console, cleanup): the artifact, its referrers (signatures, SBOMs, attestations:
 * manifests whose subject it is, recursively) and, for an index, the children no surviving manifest references.
 * Without (a /v2 DELETE, as the spec has it): the artifact alone.
 */
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
  for (const owner of owners) for (const t of await protectingTags(tx, repo, owner, depth + 1)) out.add(t);
  return [...out];
}

/** The digests a delete with accessories removes, the named artifact first. */
export async function deletionClosure(tx: CoreTx, repo: Repository, digest: string): Promise<string[]> {
  const closure = new Set<string>([digest]);
  const queue = [digest];
  while (queue.length > 0 && closure.size < 10_000) {
    const d = queue.shift()!;
    for (const r of await tx.artifacts.referrers(repo.id, d)) {
      if (!closure.has(r.digest)) {
        closure.add(r.digest);
        queue.push(r.digest);
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
