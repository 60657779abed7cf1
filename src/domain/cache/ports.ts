/**
 * What the image cache capability needs from storage and from the registry core. Implemented by
 * storage/meta/kysely/cache.repo.ts and, for the core, by functions app.ts builds over the core's services (the
 * capability never imports the core's services, only calls what it is given).
 */
import type { Readable } from 'node:stream';
import type { Actor } from '../events.js';
import type { OciRemote } from '../outbound/oci-remote.js';

/** A cache registry's binding to its source endpoint. */
export interface CacheBinding {
  registryId: string;
  registry: string;
  endpointId: string;
  endpointName: string;
  createdAt: number;
}

export interface CacheStore {
  /** Binds the registry to the endpoint. Throws NOT_FOUND-like CONFLICT when the endpoint is gone (a foreign key). */
  bind(b: { registryId: string; endpointId: string; createdAt: number }): Promise<void>;
  /** The binding of the registry of that name, if it is a cache registry. */
  byRegistry(name: string): Promise<CacheBinding | undefined>;
  /** Bindings of the registries named (for lists). */
  byRegistries(names: string[]): Promise<CacheBinding[]>;
  /** Names of the cache registries using the endpoint. */
  usingEndpoint(endpointId: string): Promise<string[]>;
}

export interface CacheStores {
  cache: CacheStore;
}

/** The registry core, as the image cache uses it: reads of its copy and writes as the system (normal events follow). */
export interface CacheCore {
  /** The digest the tag points at in the repository, if the tag is there. */
  tagDigest(repository: string, tag: string): Promise<string | undefined>;
  /** Stores a manifest pulled from the source (tagged when `reference` is a tag); resolves with its digest. */
  storeManifest(repository: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<string>;
  /** Removes a tag the source no longer has (may be refused by a protection policy: then it stays). */
  deleteTag(repository: string, tag: string): Promise<void>;
  /** Links a blob the store already has (brought in for another image) into the repository; false when it has not. */
  linkStored(repository: string, digest: string): Promise<boolean>;
  /** Streams a blob pulled from the source into the store and links it (digest checked); rejects when `body` fails. */
  storeBlob(repository: string, digest: string, body: Readable, size: number | undefined): Promise<void>;
}

/** What the cache needs of the endpoints service (shared infrastructure, passed in by app.ts). */
export interface CacheEndpoints {
  /** The endpoint by id or name, checked against the actor's permission; NOT_FOUND when absent. */
  get(idOrName: string, actor: Actor): Promise<{ id: string; name: string; provider: string; url: string }>;
  /** Its client, for the system; NOT_FOUND when it is gone. */
  remote(id: string): Promise<{ endpoint: { name: string; url: string }; remote: OciRemote; repository(path: string): string }>;
}

/** What the cache needs of the registry core's registries (creation of a cache registry, compensation). */
export interface CacheRegistries {
  create(name: string, actor: Actor, registryAddress: string | undefined, kind: 'cache'): Promise<{ id: string; name: string; createdAt: number }>;
  delete(name: string, force: boolean, actor: Actor): Promise<void>;
}

/**
 * Where the bytes of a fill are kept on this node as they arrive, so that pulls joining the fill late stream them from
 * the first byte instead of waiting for the whole blob to be stored (storage/spool/fs-spool.ts: an unlinked temp file).
 */
export interface FillSpools {
  /** A new, empty spool. Throws when none can be made (pulls joining that fill then wait for it to be stored). */
  create(): Promise<FillSpool>;
}

export interface FillSpool {
  /** Appends `chunk` after the bytes appended before; resolves once they can be read back. One append at a time. */
  append(chunk: Buffer): Promise<void>;
  /** Up to `length` bytes from `position`, of those already appended. */
  read(position: number, length: number): Promise<Buffer>;
  /** Frees the spool; reads and appends after it fail. */
  remove(): Promise<void>;
}
