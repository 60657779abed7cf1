/** Manifests (image, index, artifact) by tag and digest, tags list, referrers and the catalog. */
import { accessoryTagsOf } from '../../oci/accessories.js';
import { digestOf, parseDigest } from '../../oci/digest.js';
import { NcrError } from '../../oci/errors.js';
import { parseManifest, platformsOf, referencedBlobs, type ParsedManifest } from '../../oci/manifest.js';
import { acceptsMediaType, OCI_INDEX } from '../../oci/media-types.js';
import { parseReference, validateTag } from '../../oci/reference.js';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import type { Actor } from '../events.js';
import { requireActor } from '../auth/permissions.js';
import type { Tx, UnitOfWork } from '../uow.js';
import type { Artifact, PullGuard, PullThroughSource, RegistryCoreStores, Repository } from './ports.js';
import { deletionClosure, protectingTags, protectingTagsOfTag, tagsOf } from './deletion.js';
import type { PullRecorder } from './pull-recorder.js';
import { checkReadName, type RepositoryResolver } from './repository-resolver.js';

/** Who the image cache's writes are recorded as: the system (no role), named so the audit log says what it was. */
export const PULL_THROUGH_ACTOR: Actor = { userId: null, username: 'system:image-cache', remoteAddr: null };

export interface StoredManifest {
  digest: string;
  mediaType: string;
  content: Uint8Array;
}

export class ManifestService {
  /** Manifest bytes by digest (immutable), bounded by total size. */
  private readonly contentCache = new LRUCache<string, Uint8Array>({ maxSize: 64 * 1024 * 1024, sizeCalculation: (v) => Math.max(1, v.byteLength) });

  constructor(
    private readonly stores: RegistryCoreStores,
    private readonly resolver: RepositoryResolver,
    private readonly pulls: PullRecorder,
    private readonly uow: UnitOfWork<RegistryCoreStores>,
    private readonly clock: Clock,
    /** capabilities' vetoes over serving a manifest (filled in by app.ts once they exist) */
    private readonly pullGuards: PullGuard[] = [],
    /** the image cache: fills cache registries from their source (set by app.ts) */
    private source?: PullThroughSource,
  ) {}

  /** Sets the capability that fills image cache registries (app.ts, once it exists). */
  setPullThroughSource(source: PullThroughSource): void {
    this.source = source;
  }

  /** Validates and stores a manifest exactly as pushed; tags it when the reference is a tag. */
  async put(repoName: string, reference: string, content: Uint8Array, contentType: string | undefined, actor: Actor): Promise<{ digest: string; subject?: string }> {
    requireActor(actor, 'image:push', { repository: repoName });
    return this.store(repoName, reference, content, contentType, actor, false);
  }

  /**
   * The image cache's write of a manifest it pulled from its source, as the system: also into a cache registry, and
   * without its blobs or index children being there (they are fetched when they are pulled). Publishes the same
   * events as a push.
   */
  async putPulled(repoName: string, reference: string, content: Uint8Array, mediaType: string): Promise<{ digest: string }> {
    return this.store(repoName, reference, content, mediaType, PULL_THROUGH_ACTOR, true);
  }

  private async store(repoName: string, reference: string, content: Uint8Array, contentType: string | undefined, actor: Actor, pulled: boolean): Promise<{ digest: string; subject?: string }> {
    const ref = parseReference(reference);
    const parsed = parseManifest(content, contentType);
    const digest = ref.kind === 'digest' ? digestOf(content, parseDigest(ref.digest).algorithm) : digestOf(content);
    if (ref.kind === 'digest' && digest !== ref.digest) {
      throw new NcrError('DIGEST_INVALID', `the manifest's bytes have digest ${digest}, not ${ref.digest}: push it by tag, or by the digest of exactly the bytes sent`);
    }
    const tag = ref.kind === 'tag' ? ref.tag : undefined;
    const blobs = referencedBlobs(parsed);
    // One transaction, under the repository's lock: the references are checked against what the insert will see, and
    // a concurrent blob unlink or artifact delete in this repository waits until the manifest is in.
    await this.uow.transaction(async (tx) => {
      const repo = await this.resolver.forPushIn(tx, repoName, { pulled });
      await tx.lock(`repo:${repo.id}`);
      if (!pulled) await this.checkReferences(tx, repo, parsed);
      const existing = await tx.artifacts.get(repo.id, digest);
      const previous = tag === undefined ? undefined : await tx.tags.get(repo.id, tag);
      // an idempotent re-push (same bytes, tag already there) changes nothing and records nothing
      if (existing && (tag === undefined || previous?.digest === digest)) return;
      if (tag !== undefined && previous && previous.digest !== digest) await tx.guard.check(repoName, await protectingTagsOfTag(tx, repo, tag), `pushing tag ${tag} to another digest (overwriting ${previous.digest})`);
      const t = this.clock.now();
      const totalSize = parsed.kind === 'index' ? await this.indexSize(tx, repo, parsed) : blobs.reduce((n, b) => n + b.size, 0);
      await tx.artifacts.put(
        {
          repositoryId: repo.id,
          digest,
          mediaType: parsed.mediaType,
          artifactType: parsed.artifactType ?? null,
          size: content.byteLength,
          content,
          subjectDigest: parsed.subject?.digest ?? null,
          configDigest: parsed.config?.digest ?? null,
          platforms: platformsOf(parsed),
          totalSize,
          pushedAt: t,
          pushedBy: actor.username,
          blobDigests: blobs.map((b) => b.digest),
          childDigests: parsed.manifests.map((m) => m.digest),
        },
        tag,
        t,
      );
      tx.publish({ type: 'ArtifactPushed', at: t, actor, repository: repoName, digest, mediaType: parsed.mediaType, size: content.byteLength, tag });
      if (tag !== undefined && !previous) tx.publish({ type: 'TagCreated', at: t, actor, repository: repoName, tag, digest });
      if (tag !== undefined && previous && previous.digest !== digest) tx.publish({ type: 'TagMoved', at: t, actor, repository: repoName, tag, digest, previousDigest: previous.digest });
    });
    return { digest, subject: parsed.subject?.digest };
  }

  /**
   * Resolves a tag or digest to the stored manifest in one metadata lookup. Bytes come from a cache keyed by digest:
   * a digest's content never changes, so the cache cannot go stale, while existence is always asked of the database.
   * Whatever is not there is a 404: NAME_UNKNOWN for the repository, else MANIFEST_UNKNOWN, also for a reference no
   * manifest can have (not a valid tag or digest) and, with `accept`, for a tag whose type the client does not accept.
   */
  async resolve(repoName: string, reference: string, accept?: string | string[]): Promise<StoredManifest & { repositoryId: string; tag?: string }> {
    checkReadName(repoName);
    const ref = readReference(reference);
    if (ref instanceof NcrError) {
      await this.resolver.forRead(repoName);
      throw ref;
    }
    const key = ref.kind === 'tag' ? { tag: ref.tag } : { digest: ref.digest };
    let found = await this.stores.artifacts.lookup(repoName, key);
    // an image cache: a tag is checked against the source (at most every so often), a missing manifest fetched from it;
    // a manifest by digest that is here is served without asking
    if ((ref.kind === 'tag' || !found?.artifact) && this.source && (await this.source.covers(registryOf(repoName)))) {
      await this.source.syncManifest(repoName, key);
      found = await this.stores.artifacts.lookup(repoName, key);
    }
    if (!found) throw new NcrError('NAME_UNKNOWN', `repository ${repoName} does not exist: push an image to it first`);
    if (!found.artifact) {
      throw ref.kind === 'tag'
        ? new NcrError('MANIFEST_UNKNOWN', `tag ${ref.tag} does not exist in ${repoName}`, { detail: { tag: ref.tag } })
        : new NcrError('MANIFEST_UNKNOWN', `manifest ${ref.digest} does not exist in ${repoName}`, { detail: { digest: ref.digest } });
    }
    const { digest, mediaType } = found.artifact;
    if (ref.kind === 'tag' && accept !== undefined && !acceptsMediaType(accept, mediaType)) {
      throw new NcrError('MANIFEST_UNKNOWN', `${repoName}:${ref.tag} is a ${mediaType}, which this client's Accept header does not include`, { detail: { mediaType } });
    }
    let content = this.contentCache.get(digest);
    if (!content) {
      const stored = await this.stores.artifacts.content(found.repositoryId, digest);
      if (!stored) throw new NcrError('MANIFEST_UNKNOWN', `manifest ${digest} does not exist in ${repoName}`, { detail: { digest } });
      content = stored.content;
      this.contentCache.set(digest, content);
    }
    return { repositoryId: found.repositoryId, digest, mediaType, content, tag: ref.kind === 'tag' ? ref.tag : undefined };
  }

  /** GET: resolves and records the pull (batched). */
  async pull(repoName: string, reference: string, accept: string | string[] | undefined, actor: Actor): Promise<StoredManifest> {
    const m = await this.resolve(repoName, reference, accept);
    for (const g of this.pullGuards) await g.check(repoName, m.digest, actor);
    this.pulls.record({ repositoryId: m.repositoryId, repository: repoName, digest: m.digest, tag: m.tag, at: this.clock.now(), actor });
    return m;
  }

  /** DELETE by digest removes the artifact and its tags; by tag removes only that tag. Absent: as in `resolve`. */
  async delete(repoName: string, reference: string, actor: Actor): Promise<void> {
    const repo = await this.resolver.forRead(repoName);
    const ref = readReference(reference);
    if (ref instanceof NcrError) throw ref;
    if (ref.kind === 'tag') {
      await this.deleteTag(repo, ref.tag, actor);
      return;
    }
    await this.deleteArtifact(repo, ref.digest, actor);
  }

  /**
   * Deletes the artifact with its tags, refused (PROTECTED) when a protection policy covers it; returns the digests
   * deleted. With `accessories` (the API, the console, cleanup) also its referrers and the index children nothing else
   * references (deletion.ts). `unlessInUse` (garbage collection of untagged artifacts): only when, under the
   * repository's lock, it is still untagged, listed by no index, not a referrer of a subject that is there, and was
   * pushed before `pushedBefore`; resolves [] (and deletes nothing) otherwise.
   */
  async deleteArtifact(repo: Repository, digest: string, actor: Actor, opts: { accessories?: boolean; unlessInUse?: { pushedBefore: number } } = {}): Promise<string[]> {
    requireActor(actor, 'artifact:delete', { repository: repo.name });
    return this.uow.transaction(async (tx) => {
      await tx.lock(`repo:${repo.id}`);
      const artifact = await tx.artifacts.get(repo.id, digest);
      if (!artifact) throw new NcrError('MANIFEST_UNKNOWN', `manifest ${digest} does not exist in ${repo.name}`);
      if (opts.unlessInUse && (await this.inUse(tx, repo, artifact, opts.unlessInUse.pushedBefore))) return [];
      const doomed = opts.accessories ? await deletionClosure(tx, repo, digest) : [digest];
      if (await tx.guard.active(registryOf(repo.name))) {
        await tx.guard.check(repo.name, await protectingTags(tx, repo, digest), `deleting artifact ${digest}`);
        for (const d of doomed.slice(1)) await tx.guard.check(repo.name, await tagsOf(tx, repo, d), `deleting ${d}, which goes with artifact ${digest}`);
      }
      const t = this.clock.now();
      for (const d of doomed) {
        const tags = await tx.artifacts.delete(repo.id, d);
        for (const tag of tags) tx.publish({ type: 'TagDeleted', at: t, actor, repository: repo.name, tag, digest: d });
        tx.publish({ type: 'ArtifactDeleted', at: t, actor, repository: repo.name, digest: d, tags });
      }
      return doomed;
    });
  }

  private async inUse(tx: Tx<RegistryCoreStores>, repo: Repository, a: Artifact, pushedBefore: number): Promise<boolean> {
    if (a.pushedAt >= pushedBefore) return true;
    if ((await tx.tags.list({ repositoryId: repo.id, digest: a.digest, page: 1, perPage: 1 })).total > 0) return true;
    if ((await tx.artifacts.parents(repo.id, a.digest)).length > 0) return true;
    return a.subjectDigest !== null && (await tx.artifacts.get(repo.id, a.subjectDigest)) !== undefined;
  }

  async deleteTag(repo: Repository, tag: string, actor: Actor): Promise<void> {
    requireActor(actor, 'tag:delete', { repository: repo.name });
    await this.uow.transaction(async (tx) => {
      await tx.lock(`repo:${repo.id}`);
      const existing = await tx.tags.get(repo.id, tag);
      if (!existing) throw new NcrError('MANIFEST_UNKNOWN', `tag ${tag} does not exist in ${repo.name}`);
      await tx.guard.check(repo.name, await protectingTagsOfTag(tx, repo, tag), `deleting tag ${tag}`);
      if (!(await tx.tags.delete(repo.id, tag))) throw new NcrError('MANIFEST_UNKNOWN', `tag ${tag} does not exist in ${repo.name}`);
      tx.publish({ type: 'TagDeleted', at: this.clock.now(), actor, repository: repo.name, tag, digest: existing.digest });
    });
  }

  /** Points a (new or existing) tag at an artifact that is already in the repository. */
  async createTag(repo: Repository, tag: string, digest: string, actor: Actor): Promise<void> {
    requireActor(actor, 'tag:create', { repository: repo.name });
    validateTag(tag);
    parseDigest(digest);
    await this.resolver.refuseCache(registryOf(repo.name));
    await this.uow.transaction(async (tx) => {
      // under the repository's lock an artifact delete cannot slip in between the check and the tag (and the
      // tags -> artifacts foreign key makes a dangling tag impossible anyway)
      await tx.lock(`repo:${repo.id}`);
      if (!(await tx.artifacts.get(repo.id, digest))) throw new NcrError('MANIFEST_UNKNOWN', `artifact ${digest} does not exist in ${repo.name}`);
      const previous = await tx.tags.get(repo.id, tag);
      if (previous?.digest === digest) return;
      if (previous) await tx.guard.check(repo.name, await protectingTagsOfTag(tx, repo, tag), `moving tag ${tag} from ${previous.digest} to ${digest}`);
      const t = this.clock.now();
      await tx.tags.put(repo.id, tag, digest, t);
      tx.publish(
        previous
          ? { type: 'TagMoved', at: t, actor, repository: repo.name, tag, digest, previousDigest: previous.digest }
          : { type: 'TagCreated', at: t, actor, repository: repo.name, tag, digest },
      );
    });
  }

  async tags(repoName: string, q: { n?: number; last?: string }): Promise<string[]> {
    const repo = await this.resolver.forRead(repoName);
    return this.stores.tags.names(repo.id, q);
  }

  /** The referrers of `digest` as an OCI index, filtered by artifactType when given. */
  async referrers(repoName: string, digest: string, artifactType?: string): Promise<{ index: Uint8Array; filtered: boolean }> {
    parseDigest(digest);
    const repo = await this.resolver.forRead(repoName);
    const all = await this.stores.artifacts.referrers(repo.id, digest);
    const manifests = [];
    for (const a of all) {
      const type = a.artifactType ?? (await this.configMediaType(repo, a.digest));
      if (artifactType && type !== artifactType) continue;
      const stored = await this.stores.artifacts.content(repo.id, a.digest);
      const annotations = stored ? (parseManifest(stored.content, stored.mediaType).annotations ?? undefined) : undefined;
      manifests.push({ mediaType: a.mediaType, digest: a.digest, size: a.size, ...(type ? { artifactType: type } : {}), ...(annotations ? { annotations } : {}) });
    }
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests };
    return { index: new TextEncoder().encode(JSON.stringify(index)), filtered: Boolean(artifactType) };
  }

  /**
   * What belongs to an artifact: its referrers and the manifests under cosign's `sha256-<hex>.sig/.att/.sbom` tags,
   * each with its stored bytes and tags. Empty when the repository or artifact does not exist.
   */
  async accessories(repoName: string, digest: string): Promise<{ digest: string; mediaType: string; content: Uint8Array; tags: string[]; pushedAt: number }[]> {
    const repo = await this.stores.repositories.getByName(repoName);
    if (!repo) return [];
    const found = new Map<string, { pushedAt: number }>();
    for (const r of await this.stores.artifacts.referrers(repo.id, digest)) found.set(r.digest, { pushedAt: r.pushedAt });
    for (const t of accessoryTagsOf(digest)) {
      const tag = await this.stores.tags.get(repo.id, t);
      if (tag && !found.has(tag.digest)) found.set(tag.digest, { pushedAt: tag.pushedAt });
    }
    const out = [];
    for (const [d, info] of found) {
      const stored = await this.stores.artifacts.content(repo.id, d);
      if (!stored) continue;
      const tags = await this.stores.tags.list({ repositoryId: repo.id, digest: d, page: 1, perPage: 100 });
      out.push({ digest: d, mediaType: stored.mediaType, content: stored.content, tags: tags.items.map((t) => t.name), pushedAt: info.pushedAt });
    }
    return out;
  }

  private async configMediaType(repo: Repository, digest: string): Promise<string | undefined> {
    const stored = await this.stores.artifacts.content(repo.id, digest);
    return stored ? parseManifest(stored.content, stored.mediaType).config?.mediaType : undefined;
  }

  private async checkReferences(tx: Tx<RegistryCoreStores>, repo: Repository, m: ParsedManifest): Promise<void> {
    const blobs = referencedBlobs(m).map((b) => b.digest);
    const missingBlobs = await tx.blobs.missing(repo.id, blobs);
    if (missingBlobs.length > 0) {
      throw new NcrError('MANIFEST_BLOB_UNKNOWN', `the manifest references ${missingBlobs.length} blob(s) not in ${repo.name}: ${missingBlobs.join(', ')}; push the blobs first, then the manifest`, { detail: { digests: missingBlobs } });
    }
    const missingChildren = await tx.artifacts.missing(repo.id, m.manifests.map((c) => c.digest));
    if (missingChildren.length > 0) {
      throw new NcrError('MANIFEST_BLOB_UNKNOWN', `the index references ${missingChildren.length} manifest(s) not in ${repo.name}: ${missingChildren.join(', ')}; push each platform's manifest first, then the index`, { detail: { digests: missingChildren } });
    }
  }

  private async indexSize(tx: Tx<RegistryCoreStores>, repo: Repository, m: ParsedManifest): Promise<number> {
    let total = 0;
    for (const child of m.manifests) total += (await tx.artifacts.get(repo.id, child.digest))?.totalSize ?? child.size;
    return total;
  }
}

/**
 * The reference of a read or delete. One that is not a valid tag or digest names no manifest: it comes back as the
 * MANIFEST_UNKNOWN to throw (a 404, saying why), where a push would be refused with TAG_INVALID or DIGEST_INVALID.
 */
function readReference(reference: string): ReturnType<typeof parseReference> | NcrError {
  try {
    return parseReference(reference);
  } catch (err) {
    if (!(err instanceof NcrError)) throw err;
    return new NcrError('MANIFEST_UNKNOWN', `no manifest can have this reference: ${err.message}`, { cause: err });
  }
}

function registryOf(repoName: string): string {
  return repoName.split('/')[0]!;
}
