/** Reading, mounting and unlinking blobs through a repository: a blob is visible only where it is linked. */
import { LRUCache } from 'lru-cache';
import { parseDigest } from '../../oci/digest.js';
import { NcrError } from '../../oci/errors.js';
import { BlobNotFoundError, type BlobBody, type BlobStore } from '../../storage/blob/port.js';
import type { Clock } from '../clock.js';
import type { Actor } from '../events.js';
import type { EventListeners } from '../outbox/dispatcher.js';
import { requireActor } from '../auth/permissions.js';
import type { UnitOfWork } from '../uow.js';
import type { PullThroughSource, RegistryCoreStores } from './ports.js';
import type { QuotaGate } from './quota.js';
import { checkReadName, type RepositoryResolver } from './repository-resolver.js';

/** How long a redirect to the blob store (a presigned URL) stays valid: long enough for a slow client to start. */
export const REDIRECT_TTL_SECONDS = 20 * 60;

/** A blob's bytes: `release` gives a chunk of `stream` back to the store's buffer pool (see storage/blob/port.ts). */
export type { BlobBody };

export class BlobService {
  /**
   * Sizes of blobs linked into repositories, for pulls (`repository \0 digest` → size). A link changes only by a
   * delete; deletes in this process drop entries at once, deletes on other nodes when their event arrives from the
   * outbox (within the dispatcher's poll interval), and entries live at most 5 s anyway. Only existing links are cached.
   */
  private readonly linked = new LRUCache<string, number>({ max: 50_000, ttl: 5_000 });

  constructor(
    private readonly stores: RegistryCoreStores,
    private readonly blobStore: BlobStore,
    private readonly resolver: RepositoryResolver,
    private readonly uow: UnitOfWork<RegistryCoreStores>,
    listeners: EventListeners,
    private readonly clock: Clock,
    private readonly quota?: QuotaGate,
    private source?: PullThroughSource,
  ) {
    // deleting an image or a registry unlinks many blobs at once: rare enough to drop the whole cache
    listeners.on(() => this.linked.clear(), ['ImageDeleted', 'RegistryDeleted']);
    listeners.on((e) => {
      if (e.event.type === 'BlobDeleted') this.linked.delete(`${e.event.repository}\0${e.event.digest}`);
    }, ['BlobDeleted']);
  }

  /** Sets the capability that fills image cache registries (app.ts, once it exists). */
  setPullThroughSource(source: PullThroughSource): void {
    this.source = source;
  }

  /**
   * Size of a blob linked into the repository; BLOB_UNKNOWN otherwise. In an image cache registry a blob not cached
   * yet is asked of the source (a HEAD there; nothing is stored).
   */
  async stat(repoName: string, digest: string): Promise<{ size: number }> {
    const size = await this.localSize(repoName, digest);
    if (size !== undefined) return { size };
    if (await this.covered(repoName)) {
      const remote = await this.source!.statBlob(repoName, digest);
      if (remote) return remote;
      throw blobUnknown(repoName, digest);
    }
    await this.resolver.forRead(repoName); // NAME_INVALID / NAME_UNKNOWN take precedence over BLOB_UNKNOWN
    throw blobUnknown(repoName, digest);
  }

  /** The size of the blob when it is linked into the repository. */
  private async localSize(repoName: string, digest: string): Promise<number | undefined> {
    const key = `${repoName}\0${digest}`;
    const cached = this.linked.get(key);
    if (cached !== undefined) return cached;
    parseDigest(digest);
    const size = await this.stores.blobs.linkedSizeByName(repoName, digest);
    if (size !== undefined) this.linked.set(key, size);
    return size;
  }

  private async covered(repoName: string): Promise<boolean> {
    if (!this.source) return false;
    checkReadName(repoName);
    return this.source.covers(repoName.split('/')[0]!);
  }

  /**
   * Opens the blob for reading; `rangeOf` picks a byte range once the size is known. In an image cache registry a
   * blob not cached yet streams from the source while it is stored (the whole blob: a range asked for is ignored,
   * which HTTP allows); `size` is then -1 when the source did not say.
   */
  async open(
    repoName: string,
    digest: string,
    rangeOf?: (size: number) => { start: number; end: number } | undefined,
  ): Promise<{ size: number; range?: { start: number; end: number } } & BlobBody> {
    if ((await this.localSize(repoName, digest)) === undefined && (await this.covered(repoName))) {
      const filled = await this.source!.openBlob(repoName, digest);
      if (filled === undefined) throw blobUnknown(repoName, digest);
      if (filled !== 'stored') return { size: filled.size, stream: filled.stream, release: () => undefined };
    }
    const { size } = await this.stat(repoName, digest);
    const range = rangeOf?.(size);
    try {
      // the whole blob is read as the range [0, size): the stream then stops at the last byte without an EOF read
      const bytes = range ?? (size > 0 ? { start: 0, end: size - 1 } : undefined);
      const { stream, release } = await this.blobStore.read(digest, bytes);
      return { size, range, stream, release };
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw blobUnknown(repoName, digest);
      throw err;
    }
  }

  /** The bytes of a small blob linked into the repository (a signature payload); VALIDATION_FAILED above `maxBytes`. */
  async bytes(repoName: string, digest: string, maxBytes: number): Promise<Uint8Array> {
    const { size } = await this.stat(repoName, digest);
    if (size > maxBytes) throw new NcrError('VALIDATION_FAILED', `blob ${digest} has ${size} bytes, more than the ${maxBytes} read here`);
    const body = await this.open(repoName, digest);
    const out = Buffer.alloc(size);
    let at = 0;
    for await (const chunk of body.stream as AsyncIterable<Buffer>) {
      at += chunk.copy(out, at);
      body.release(chunk);
    }
    return out.subarray(0, at);
  }

  /**
   * A URL the client may fetch the blob from directly (the store's presigned URL, for a 307), or undefined when the
   * store serves its bytes only through `open`. BLOB_UNKNOWN when the blob is not linked into the repository.
   */
  async redirectUrl(repoName: string, digest: string, opts: { private?: boolean } = {}): Promise<string | undefined> {
    // a blob an image cache has yet to fetch is served by `open`, which stores it as it streams
    if ((await this.localSize(repoName, digest)) === undefined && (await this.covered(repoName))) return undefined;
    await this.stat(repoName, digest);
    return this.blobStore.redirectUrl(digest, { expiresInSeconds: REDIRECT_TTL_SECONDS, ...(opts.private ? { private: true } : {}) });
  }

  /** Links a blob from `from` into `repoName` when it exists there; false when it does not (caller opens a session). */
  async mount(repoName: string, digest: string, from: string, actor: Actor = { userId: null, username: 'system' }): Promise<boolean> {
    parseDigest(digest);
    const source = await this.stores.repositories.getByName(from);
    if (!source) return false;
    const size = await this.stores.blobs.linkedSize(source.id, digest);
    if (size === undefined || !(await this.blobStore.stat(digest))) return false;
    const target = await this.resolver.forPush(repoName);
    // over the quota: DENIED, as an upload of it would be
    const afterLink = this.quota ? await this.quota.admit(target, digest, size, actor) : undefined;
    try {
      await this.stores.blobs.link(target.id, digest, size, this.clock.now());
      await afterLink?.();
    } catch (err) {
      // garbage collection removed the blob meanwhile: the client uploads it instead
      if (err instanceof NcrError && err.code === 'BLOB_UPLOAD_INVALID') return false;
      throw err;
    }
    return true;
  }

  /**
   * The image cache's link of a blob whose bytes the store already has (a layer another cached image brought in) into
   * a repository of a cache registry, as the system; false when the store does not have it (or GC just took it).
   */
  async linkStored(repoName: string, digest: string): Promise<boolean> {
    parseDigest(digest);
    const size = await this.stores.blobs.size(digest);
    if (size === undefined || !(await this.blobStore.stat(digest))) return false;
    const target = await this.resolver.forPush(repoName, { pulled: true });
    try {
      await this.stores.blobs.link(target.id, digest, size, this.clock.now());
    } catch (err) {
      if (err instanceof NcrError && err.code === 'BLOB_UPLOAD_INVALID') return false;
      throw err;
    }
    return true;
  }

  /** Unlinks the blob from the repository; the bytes stay until garbage collection finds them unused. */
  async delete(repoName: string, digest: string, actor: Actor): Promise<void> {
    requireActor(actor, 'artifact:delete', { repository: repoName });
    parseDigest(digest);
    const repo = await this.resolver.forRead(repoName);
    this.linked.delete(`${repoName}\0${digest}`);
    await this.uow.transaction(async (tx) => {
      // under the repository's lock: a manifest push that checked this blob is in has committed first
      await tx.lock(`repo:${repo.id}`);
      if (!(await tx.blobs.unlink(repo.id, digest))) throw blobUnknown(repoName, digest);
      tx.publish({ type: 'BlobDeleted', at: this.clock.now(), actor, repository: repoName, digest });
    });
  }
}

function blobUnknown(repo: string, digest: string): NcrError {
  return new NcrError('BLOB_UNKNOWN', `blob ${digest} is not in ${repo}: push it first, or mount it from a repository that has it`, { detail: { digest } });
}
