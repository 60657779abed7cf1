/** Registries (namespaces) and the images in them, as the management API and console see them. */
import { randomUUID } from 'node:crypto';
import { NcrError } from '../../oci/errors.js';
import { parseDigest } from '../../oci/digest.js';
import { validateRegistryName } from '../../oci/reference.js';
import type { Clock } from '../clock.js';
import type { Actor } from '../events.js';
import type { Page, PageRequest } from '../pagination.js';
import { requireActor } from '../auth/permissions.js';
import type { Tx, UnitOfWork } from '../uow.js';
import type { Artifact, Registry, RegistryCoreStores, RegistryKind, RegistryStats, Repository, RepositorySummary, Tag } from './ports.js';

export type RegistryView = Registry & RegistryStats;

export class RegistryService {
  constructor(
    private readonly stores: RegistryCoreStores,
    private readonly uow: UnitOfWork<RegistryCoreStores>,
    private readonly clock: Clock,
  ) {}

  /** `kind` cache: an image cache registry (the cache capability binds it to its source); pushes are refused. */
  async create(name: string, actor: Actor, registryAddress?: string, kind: RegistryKind = 'standard'): Promise<RegistryView> {
    requireActor(actor, 'registry:create', { registry: name });
    validateRegistryName(name, registryAddress);
    const reg: Registry = { id: randomUUID(), name, createdAt: this.clock.now(), createdBy: actor.username, kind };
    await this.uow.transaction(async (tx) => {
      await tx.registries.create(reg);
      tx.publish({ type: 'RegistryCreated', at: reg.createdAt, actor, registry: name });
    });
    return { ...reg, quotaBytes: null, imageCount: 0, storageBytes: 0 };
  }

  async list(q: { search?: string } & PageRequest): Promise<Page<RegistryView>> {
    const page = await this.stores.registries.list(q);
    const stats = await this.stores.registries.stats(page.items.map((r) => r.id));
    return { ...page, items: page.items.map((r) => ({ ...r, ...stats.get(r.id)! })) };
  }

  /**
   * The registry itself (identity, kind, quota) without its counts: what capabilities need on every event or request.
   * NOT_FOUND when there is none. `get` adds the image count and storage used, which cost a scan of its blobs.
   */
  async find(name: string): Promise<Registry> {
    const reg = await this.stores.registries.getByName(name);
    if (!reg) throw new NcrError('NOT_FOUND', `registry "${name}" does not exist`);
    return reg;
  }

  async get(name: string): Promise<RegistryView> {
    const reg = await this.stores.registries.getByName(name);
    if (!reg) throw new NcrError('NOT_FOUND', `registry "${name}" does not exist`);
    const stats = await this.stores.registries.stats([reg.id]);
    return { ...reg, ...stats.get(reg.id)! };
  }

  /** Sets the registry's storage quota in bytes, or lifts it (null). Admins only. */
  async setQuota(name: string, quotaBytes: number | null, actor: Actor): Promise<RegistryView> {
    requireActor(actor, 'quota:change', { registry: name });
    if (quotaBytes !== null && (!Number.isSafeInteger(quotaBytes) || quotaBytes < 1)) {
      throw new NcrError('VALIDATION_FAILED', `quotaBytes must be a whole number of bytes above 0, or null for no limit (got ${quotaBytes})`);
    }
    await this.uow.transaction(async (tx) => {
      const reg = await tx.registries.getByName(name);
      if (!reg) throw new NcrError('NOT_FOUND', `registry "${name}" does not exist`);
      await tx.registries.setQuota(reg.id, quotaBytes);
      tx.publish({ type: 'RegistryQuotaChanged', at: this.clock.now(), actor, registry: name, quotaBytes });
    });
    return this.get(name);
  }

  /** Refused while the registry holds images, unless `force`. */
  async delete(name: string, force: boolean, actor: Actor): Promise<void> {
    requireActor(actor, 'registry:delete', { registry: name });
    await this.uow.transaction(async (tx) => {
      const reg = await tx.registries.getByName(name);
      if (!reg) throw new NcrError('NOT_FOUND', `registry "${name}" does not exist`);
      // the same lock a first push into the registry takes: no image can appear between the count and the delete
      await tx.lock(`registry:${reg.id}`);
      const images = await tx.repositories.countInRegistry(reg.id);
      if (images > 0 && !force) {
        throw new NcrError('CONFLICT', `registry "${name}" still holds ${images} image(s): delete them first, or delete with force=true to remove them all`);
      }
      if (images > 0 && (await tx.guard.active(name))) {
        for (let page = 1; ; page++) {
          const repos = await tx.repositories.list({ registryId: reg.id, page, perPage: 500 });
          for (const repo of repos.items) await checkNothingProtected(tx, repo, `deleting registry ${name}`);
          if (page * 500 >= repos.total) break;
        }
      }
      await tx.registries.delete(reg.id);
      tx.publish({ type: 'RegistryDeleted', at: this.clock.now(), actor, registry: name });
    });
  }

  /** Repository names in order after `last` (the /v2/_catalog page). */
  catalogPage(q: { last?: string; n: number }): Promise<string[]> {
    return this.stores.repositories.catalog(q);
  }

  async images(registryName: string, q: { search?: string } & PageRequest): Promise<Page<RepositorySummary>> {
    const reg = await this.get(registryName);
    return this.stores.repositories.list({ registryId: reg.id, ...q });
  }

  /** The image (repository) `registry/image`; NOT_FOUND when absent. */
  async image(registryName: string, image: string): Promise<Repository> {
    const repo = await this.stores.repositories.getByName(`${registryName}/${image}`);
    if (!repo) throw new NcrError('NOT_FOUND', `image ${registryName}/${image} does not exist`);
    return repo;
  }

  async deleteImage(registryName: string, image: string, actor: Actor): Promise<void> {
    requireActor(actor, 'image:delete', { repository: `${registryName}/${image}` });
    const repo = await this.image(registryName, image);
    await this.uow.transaction(async (tx) => {
      await tx.lock(`repo:${repo.id}`);
      if (await tx.guard.active(registryName)) await checkNothingProtected(tx, repo, `deleting image ${repo.name}`);
      // each artifact's deletion is an event too: subscribers (webhooks' DELETE_ARTIFACT, caches) see what went
      const t = this.clock.now();
      for (let page = 1; ; page++) {
        const artifacts = await tx.artifacts.list({ repositoryId: repo.id, page, perPage: 500 });
        for (const a of artifacts.items) tx.publish({ type: 'ArtifactDeleted', at: t, actor, repository: repo.name, digest: a.digest, tags: a.tags });
        if (page * 500 >= artifacts.total || artifacts.items.length === 0) break;
      }
      await tx.repositories.delete(repo.id);
      tx.publish({ type: 'ImageDeleted', at: t, actor, repository: repo.name });
    });
  }

  async artifacts(repo: Repository, q: PageRequest & { withoutAccessories?: boolean }): Promise<Page<Artifact & { tags: string[] }>> {
    return this.stores.artifacts.list({ repositoryId: repo.id, ...q });
  }

  /** Every artifact of the image with its tags and, for an index, the children it references (for cleanup, GC). */
  async artifactGraph(repo: Repository): Promise<(Artifact & { tags: string[]; children: string[] })[]> {
    const out: (Artifact & { tags: string[]; children: string[] })[] = [];
    for (let page = 1; ; page++) {
      const p = await this.stores.artifacts.list({ repositoryId: repo.id, page, perPage: 1000 });
      for (const a of p.items) out.push({ ...a, children: isIndex(a.mediaType) ? await this.stores.artifacts.children(repo.id, a.digest) : [] });
      if (page * 1000 >= p.total || p.items.length === 0) break;
    }
    return out;
  }

  async artifact(repo: Repository, digest: string): Promise<{ artifact: Artifact; content: Uint8Array; tags: string[] }> {
    parseDigest(digest);
    const artifact = await this.stores.artifacts.get(repo.id, digest);
    const stored = artifact && (await this.stores.artifacts.content(repo.id, digest));
    if (!artifact || !stored) throw new NcrError('NOT_FOUND', `artifact ${digest} does not exist in ${repo.name}`);
    const tags = await this.stores.tags.list({ repositoryId: repo.id, digest, page: 1, perPage: 100 });
    return { artifact, content: stored.content, tags: tags.items.map((t) => t.name) };
  }

  async tags(repo: Repository, q: { digest?: string; search?: string; withoutAccessories?: boolean } & PageRequest): Promise<Page<Tag>> {
    return this.stores.tags.list({ repositoryId: repo.id, ...q });
  }

  /** The tag `name` of the image; NOT_FOUND when absent. */
  async tag(repo: Repository, name: string): Promise<Tag> {
    const tag = await this.stores.tags.get(repo.id, name);
    if (!tag) throw new NcrError('NOT_FOUND', `tag ${name} does not exist in ${repo.name}`);
    return tag;
  }
}

/** Throws PROTECTED when any artifact of the repository is protected (its tags, or untagged). */
async function checkNothingProtected(tx: Tx<RegistryCoreStores>, repo: Repository, change: string): Promise<void> {
  for (let page = 1; ; page++) {
    const artifacts = await tx.artifacts.list({ repositoryId: repo.id, page, perPage: 500 });
    for (const a of artifacts.items) await tx.guard.check(repo.name, a.tags, change);
    if (page * 500 >= artifacts.total) break;
  }
}

function isIndex(mediaType: string): boolean {
  return mediaType.includes('index') || mediaType.includes('manifest.list');
}
