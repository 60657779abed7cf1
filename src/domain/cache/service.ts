/**
 * Image cache (pull-through) registries, the guide's "Use Image Cache". A cache registry is bound to one endpoint (its
 * source); the registry core asks this service (the PullThroughSource port) before it answers a pull there:
 *
 * | the source says                  | served                                     |
 * |----------------------------------|--------------------------------------------|
 * | another digest for the tag       | the source's image, stored, then served    |
 * | the same digest                  | the cached image                           |
 * | nothing (unreachable, failing)   | the cached image                           |
 * | 404 (deleted there)              | nothing (the cached tag is removed)        |
 *
 * A tag is asked about (one HEAD) at most every `tagRecheckMs` per node; a manifest or blob by digest that is cached is
 * never asked about. Blobs stream to the client while they are stored; pulls of one blob on one node share one
 * download, the later ones streaming it from a spool as it arrives (shared-fill.ts); a download longer than
 * `fillTimeoutMs` is abandoned and its bytes discarded. Every write goes through
 * the core as the system (`CacheCore`), so the usual events (ArtifactPushed, TagMoved, ...) and audit entries follow.
 */
import { PassThrough, type Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import { isNcrError, NcrError } from '../../oci/errors.js';
import { requireActor } from '../auth/permissions.js';
import type { Clock } from '../clock.js';
import type { Actor } from '../events.js';
import type { EventListeners } from '../outbox/dispatcher.js';
import type { PullThroughSource } from '../registry/ports.js';
import type { UnitOfWork } from '../uow.js';
import type { CacheBinding, CacheCore, CacheEndpoints, CacheRegistries, CacheStore, CacheStores, FillSpools } from './ports.js';
import { SharedFill } from './shared-fill.js';

export interface CacheSettings {
  /** a tag is checked against the source at most this often (per node) */
  tagRecheckMs: number;
  /** a blob download longer than this is abandoned */
  fillTimeoutMs: number;
}

/** Adds the default policies of a kind of registry (the policies capability's applyDefaults, passed in by app.ts). */
export type ApplyDefaults = (registry: string, kind: 'cache', actor: Actor) => Promise<unknown>;

export interface CacheLog {
  warn(obj: object, msg: string): void;
}

type Handle = Awaited<ReturnType<CacheEndpoints['remote']>>;

export class CacheService implements PullThroughSource {
  /** registry name → its binding (null: not a cache registry), for a few seconds; dropped when registries come and go */
  private readonly bindings = new LRUCache<string, { b: CacheBinding | null }>({ max: 10_000, ttl: 5_000 });
  /** `repository:tag` → when the source was last asked and whether it said the tag is gone */
  private readonly checked = new LRUCache<string, { at: number; gone: boolean }>({ max: 100_000 });
  /** manifest syncs in flight, by `repository:tag` or `repository@digest` (concurrent pulls share one) */
  private readonly syncing = new Map<string, Promise<void>>();
  /** the source streams of the fills in flight (abandoned at shutdown) */
  private readonly upstreams = new Set<Readable>();
  /** registry name → whether it exists, for mirror mode (a few seconds) */
  private readonly localRegistries = new LRUCache<string, boolean>({ max: 10_000, ttl: 5_000 });
  /** blob downloads in flight, by `repository\0digest`: resolves when the blob is stored, rejects when the fill failed */
  private readonly filling = new Map<string, Promise<void>>();
  /** the same fills, as pulls joining them see them: their spool once the download is under way (undefined: none) */
  private readonly joining = new Map<string, Promise<SharedFill | undefined>>();

  constructor(
    private readonly store: CacheStore,
    private readonly uow: UnitOfWork<CacheStores>,
    private readonly endpoints: CacheEndpoints,
    private readonly registries: CacheRegistries,
    private readonly core: CacheCore,
    private readonly applyDefaults: ApplyDefaults,
    private readonly clock: Clock,
    private readonly settings: CacheSettings,
    private readonly log: CacheLog,
    listeners?: EventListeners,
    /** whether a registry of that name exists (the core's lookup), for mirror mode */
    private readonly registryExists: (name: string) => Promise<boolean> = async () => true,
    /** where fills keep their bytes for pulls that join them (none: those pulls wait for the fill to be stored) */
    private readonly spools?: FillSpools,
  ) {
    listeners?.on((e) => {
      if (!('registry' in e.event)) return;
      this.bindings.delete(e.event.registry);
      this.localRegistries.delete(e.event.registry);
    }, ['RegistryCreated', 'RegistryDeleted', 'CacheSourceSet']);
  }

  /**
   * Creates an image cache registry bound to an endpoint (id or name), with the cache's default cleanup policy
   * ("delete all except artifacts pulled within 7 days"). NOT_FOUND when the endpoint does not exist; as the core's
   * registry creation otherwise (CONFLICT for a taken name, ...).
   */
  async createRegistry(name: string, endpoint: string, actor: Actor, registryAddress?: string): Promise<{ registry: { id: string; name: string; createdAt: number }; endpoint: { id: string; name: string } }> {
    requireActor(actor, 'registry:create', { registry: name });
    const source = await this.endpoints.get(endpoint, actor);
    const registry = await this.registries.create(name, actor, registryAddress, 'cache');
    const now = this.clock.now();
    try {
      await this.uow.transaction(async (tx) => {
        await tx.cache.bind({ registryId: registry.id, endpointId: source.id, createdAt: now });
        tx.publish({ type: 'CacheSourceSet', at: now, actor, registry: name, id: source.id, name: source.name, detail: { provider: source.provider, url: source.url } });
      });
    } catch (err) {
      // the endpoint went away meanwhile: no cache registry without a source
      await this.registries.delete(name, true, actor).catch(() => undefined);
      throw err;
    }
    this.bindings.delete(name);
    await this.applyDefaults(name, 'cache', actor);
    return { registry, endpoint: { id: source.id, name: source.name } };
  }

  /**
   * Shutdown: abandons the blob downloads still receiving bytes on this node (their clients see the pull fail) and
   * resolves once every fill has been stored or cleaned up (one whose bytes have all arrived is still stored).
   */
  async drain(): Promise<void> {
    for (const up of this.upstreams) up.destroy(new NcrError('UNAVAILABLE', 'the server is shutting down: pull again'));
    await Promise.allSettled([...this.filling.values()]);
  }

  /** The source endpoints of the cache registries among `names` (for registry views). */
  async sources(names: string[]): Promise<Map<string, { id: string; name: string }>> {
    return new Map((await this.store.byRegistries(names)).map((b) => [b.registry, { id: b.endpointId, name: b.endpointName }]));
  }

  /** Names of the cache registries an endpoint is the source of (its deletion is refused while there are any). */
  usage(endpointId: string): Promise<string[]> {
    return this.store.usingEndpoint(endpointId).then((names) => names.map((n) => `image cache registry ${n}`));
  }

  /**
   * Registry-mirror mode: the repository to serve for a name a mirror client asked for (`library/nginx`): as asked
   * when its first component is a local registry, else under the mirror's cache registry (`hub/library/nginx`).
   */
  async mirrorName(mirror: string, name: string): Promise<string> {
    const first = name.split('/')[0]!;
    if (first === mirror) return name;
    let exists = this.localRegistries.get(first);
    if (exists === undefined) {
      exists = await this.registryExists(first);
      this.localRegistries.set(first, exists);
    }
    return exists ? name : `${mirror}/${name}`;
  }

  // --- the PullThroughSource port ------------------------------------------------------------------------------------

  async covers(registry: string): Promise<boolean> {
    return (await this.binding(registry)) !== undefined;
  }

  async syncManifest(repository: string, reference: { tag: string } | { digest: string }): Promise<void> {
    const { registry, path } = split(repository);
    const binding = await this.binding(registry);
    if (!binding) return;
    if ('tag' in reference) return this.once(this.syncing, `${repository}:${reference.tag}`, () => this.syncTag(binding, repository, path, reference.tag));
    return this.once(this.syncing, `${repository}@${reference.digest}`, () => this.fetchManifest(binding, repository, path, reference.digest));
  }

  async statBlob(repository: string, digest: string): Promise<{ size: number } | undefined> {
    const { registry, path } = split(repository);
    const binding = await this.binding(registry);
    if (!binding) return undefined;
    const handle = await this.remote(binding, repository);
    try {
      const info = await handle.remote.headBlob(handle.repository(path), digest);
      return info && { size: info.size };
    } catch (err) {
      throw unavailable(handle, `${path}@${digest}`, err);
    }
  }

  async openBlob(repository: string, digest: string): Promise<{ size: number; stream: Readable } | 'stored' | undefined> {
    const { registry, path } = split(repository);
    const binding = await this.binding(registry);
    if (!binding) return undefined;
    const key = `${repository}\0${digest}`;
    const running = this.filling.get(key);
    if (running) {
      // another pull on this node is downloading it: stream its bytes as they arrive, or (without a spool) wait for it
      // to be stored, then it is read from here
      const shared = await this.joining.get(key);
      if (shared?.joinable) return { size: shared.size, stream: shared.reader() };
      await running.catch((err: unknown) => {
        throw new NcrError('UNAVAILABLE', `image cache ${registry}: downloading ${digest} from the source failed: pull again (${message(err)})`, { cause: err });
      });
      return 'stored';
    }
    let settle!: { resolve: () => void; reject: (err: unknown) => void };
    const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    done.catch(() => undefined);
    this.filling.set(key, done);
    let spooled!: (f: SharedFill | undefined) => void;
    const joinable = new Promise<SharedFill | undefined>((resolve) => (spooled = resolve));
    this.joining.set(key, joinable);
    // whichever way this ends before the download is under way, pulls joining it wait for the outcome instead
    const over = () => {
      spooled(undefined);
      if (this.joining.get(key) === joinable) this.joining.delete(key);
    };
    void done.then(over, over);
    let got: { stream: Readable; size: number } | undefined;
    try {
      // a layer another cached image brought in is linked, not downloaded again
      if (await this.core.linkStored(repository, digest)) {
        this.filling.delete(key);
        settle.resolve();
        return 'stored';
      }
      const handle = await this.remote(binding, repository);
      got = await handle.remote.getBlob(handle.repository(path), digest).catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw unavailable(handle, `${path}@${digest}`, err);
      });
    } catch (err) {
      this.filling.delete(key);
      settle.reject(err);
      throw err;
    }
    if (!got) {
      this.filling.delete(key);
      settle.reject(new NcrError('BLOB_UNKNOWN', `the source does not have ${digest}`));
      return undefined;
    }
    const shared = await this.spool(got.size);
    spooled(shared);
    return { size: got.size, stream: this.tee(repository, digest, got, key, settle, shared) };
  }

  /** A spool for a fill's late joiners; undefined when none can be made (they then wait for the fill). */
  private async spool(size: number): Promise<SharedFill | undefined> {
    if (!this.spools) return undefined;
    try {
      return new SharedFill(await this.spools.create(), size);
    } catch (err) {
      this.log.warn({ err }, 'no spool for an image cache fill: pulls joining it wait for it to be stored');
      return undefined;
    }
  }

  /**
   * Sends the source's bytes both to the store and to the client; the slower of the two sets the pace. A client that
   * goes away does not stop the fill. A fill that fails or takes too long is cut on both sides (the store discards
   * what it had).
   */
  private tee(
    repository: string,
    digest: string,
    got: { stream: Readable; size: number },
    key: string,
    settle: { resolve: () => void; reject: (err: unknown) => void },
    shared: SharedFill | undefined,
  ): Readable {
    const up = got.stream;
    this.upstreams.add(up);
    const toStore = new PassThrough({ highWaterMark: 1 << 20 });
    const toClient = new PassThrough({ highWaterMark: 1 << 20 });
    up.once('error', (err) => {
      toStore.destroy(err);
      toClient.destroy(err);
    });
    up.pipe(toStore);
    up.pipe(toClient);
    if (shared) up.pipe(shared.sink());
    const seconds = Math.round(this.settings.fillTimeoutMs / 1000);
    const timer = setTimeout(() => up.destroy(new NcrError('UNAVAILABLE', `downloading ${digest} into image cache ${repository} took longer than ${seconds} s: abandoned; pull again`)), this.settings.fillTimeoutMs);
    this.core
      .storeBlob(repository, digest, toStore, got.size >= 0 ? got.size : undefined)
      .then(
        () => {
          shared?.end();
          settle.resolve();
        },
        (err: unknown) => {
          shared?.end(err);
          if (!up.destroyed) up.destroy();
          if (!toClient.destroyed) toClient.destroy(err instanceof Error ? err : new Error(String(err)));
          this.log.warn({ err, repository, digest }, 'an image cache fill failed');
          settle.reject(err);
        },
      )
      .finally(() => {
        clearTimeout(timer);
        this.upstreams.delete(up);
        this.filling.delete(key);
      });
    return toClient;
  }

  private async syncTag(binding: CacheBinding, repository: string, path: string, tag: string): Promise<void> {
    const key = `${repository}:${tag}`;
    const now = this.clock.now();
    const memo = this.checked.get(key);
    if (memo && now - memo.at < this.settings.tagRecheckMs) {
      if (memo.gone) throw gone(repository, tag);
      return;
    }
    const local = await this.core.tagDigest(repository, tag);
    let handle: Handle | undefined;
    let head;
    try {
      handle = await this.endpoints.remote(binding.endpointId);
      head = await handle.remote.headManifest(handle.repository(path), tag);
      if (head && head.digest !== local) {
        const m = await handle.remote.getManifest(handle.repository(path), head.digest);
        await this.core.storeManifest(repository, tag, m.bytes, m.mediaType);
      }
    } catch (err) {
      // the source cannot be reached (or fails, or its new image cannot be stored: a protected tag, a manifest ncr
      // refuses): what is cached is served; without a copy there is nothing to serve
      this.log.warn({ err, repository, tag }, 'the image cache could not bring a tag up to date with its source');
      if (local) {
        this.checked.set(key, { at: now, gone: false });
        return;
      }
      if (isNcrError(err) && (err.code === 'PROTECTED' || err.code.startsWith('MANIFEST_'))) throw err;
      throw handle ? unavailable(handle, `${path}:${tag}`, err) : err;
    }
    if (!head) {
      this.checked.set(key, { at: now, gone: true });
      if (local) await this.core.deleteTag(repository, tag).catch((err: unknown) => this.log.warn({ err, repository, tag }, 'removing a tag deleted at the source failed'));
      throw gone(repository, tag);
    }
    this.checked.set(key, { at: now, gone: false });
  }

  private async fetchManifest(binding: CacheBinding, repository: string, path: string, digest: string): Promise<void> {
    const handle = await this.remote(binding, repository);
    let m;
    try {
      m = await handle.remote.getManifest(handle.repository(path), digest);
    } catch (err) {
      if (isNotFound(err)) throw new NcrError('MANIFEST_UNKNOWN', `manifest ${digest} is neither cached in ${repository} nor at its source ${handle.endpoint.name}`, { detail: { digest } });
      throw unavailable(handle, `${path}@${digest}`, err);
    }
    await this.core.storeManifest(repository, digest, m.bytes, m.mediaType);
  }

  private async remote(binding: CacheBinding, repository: string): Promise<Handle> {
    try {
      return await this.endpoints.remote(binding.endpointId);
    } catch (err) {
      throw new NcrError('UNAVAILABLE', `image cache ${repository}: its source endpoint cannot be used: ${message(err)}`, { cause: err });
    }
  }

  private async binding(registry: string): Promise<CacheBinding | undefined> {
    const kept = this.bindings.get(registry);
    if (kept) return kept.b ?? undefined;
    const b = (await this.store.byRegistry(registry)) ?? null;
    this.bindings.set(registry, { b });
    return b ?? undefined;
  }

  /** Runs `fn` once for concurrent callers of the same key; they all see its outcome. */
  private once(map: Map<string, Promise<void>>, key: string, fn: () => Promise<void>): Promise<void> {
    const running = map.get(key);
    if (running) return running;
    const p = fn().finally(() => map.delete(key));
    map.set(key, p);
    return p;
  }
}

function split(repository: string): { registry: string; path: string } {
  const i = repository.indexOf('/');
  return { registry: repository.slice(0, i), path: repository.slice(i + 1) };
}

function isNotFound(err: unknown): boolean {
  return isNcrError(err) && (err.detail as { remoteStatus?: number } | undefined)?.remoteStatus === 404;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function gone(repository: string, tag: string): NcrError {
  return new NcrError('MANIFEST_UNKNOWN', `tag ${tag} was deleted at the source of image cache ${repository.split('/')[0]}, so it is not served`, { detail: { tag } });
}

function unavailable(handle: Handle, what: string, err: unknown): NcrError {
  if (isNcrError(err) && err.code === 'UNAVAILABLE') return err;
  return new NcrError('UNAVAILABLE', `source ${handle.endpoint.name} (${handle.endpoint.url}) could not provide ${what}, and it is not cached: ${message(err)}`, { cause: err });
}
