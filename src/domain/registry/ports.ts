/**
 * Storage ports of the registry core. Implemented by storage/meta (Kysely, SQLite and PostgreSQL).
 * Repository names are full names (`registry/image...`). Times are epoch milliseconds.
 */
import type { Readable } from 'node:stream';
import type { Page, PageRequest } from '../pagination.js';
import type { Actor } from '../events.js';

/** A registry's purpose (the guide's "purpose of use"): a standard one takes pushes, an image cache only pulls. */
export type RegistryKind = 'standard' | 'cache';
export const REGISTRY_KINDS: readonly RegistryKind[] = ['standard', 'cache'];

export interface Registry {
  id: string;
  name: string;
  createdAt: number;
  createdBy: string | null;
  /** the most storage (bytes, as storageBytes counts it) the registry may hold; null for no limit */
  quotaBytes?: number | null;
  /** set at creation, never changed */
  kind: RegistryKind;
}
export interface RegistryStats {
  /** repositories holding at least one artifact (an image with none left is not counted, as it is not listed) */
  imageCount: number;
  /** bytes of the distinct blobs and manifests its images hold */
  storageBytes: number;
}
export interface Repository {
  id: string;
  registryId: string;
  name: string;
  createdAt: number;
  updatedAt: number;
}
export interface RepositorySummary extends Repository {
  artifactCount: number;
  /** tags other than cosign's `sha256-<hex>.sig` / `.att` / `.sbom` (what the plain tag list shows) */
  tagCount: number;
  pulledAt: number | null;
}
export interface Artifact {
  repositoryId: string;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  size: number;
  subjectDigest: string | null;
  configDigest: string | null;
  platforms: string[];
  totalSize: number;
  pushedAt: number;
  pushedBy: string | null;
  pulledAt: number | null;
}
export interface Tag {
  repositoryId: string;
  name: string;
  digest: string;
  pushedAt: number;
  pulledAt: number | null;
}
export interface Upload {
  id: string;
  repositoryId: string;
  /** bytes received so far */
  offset: number;
}
export interface NewArtifact extends Omit<Artifact, 'pulledAt'> {
  content: Uint8Array;
  /** blobs (config, layers) this manifest references */
  blobDigests: string[];
  /** manifests an index references */
  childDigests: string[];
}

export interface RegistryStore {
  /** Inserts a registry (with its kind); throws NcrError CONFLICT when the name is taken. */
  create(r: Registry): Promise<void>;
  getByName(name: string): Promise<Registry | undefined>;
  list(q: { search?: string } & PageRequest): Promise<Page<Registry>>;
  stats(registryIds: string[]): Promise<Map<string, RegistryStats>>;
  /** Sets (or, with null, lifts) the registry's quota. */
  setQuota(id: string, quotaBytes: number | null): Promise<void>;
  /** Deletes the registry and everything in it (its repositories cascade). */
  delete(id: string): Promise<void>;
}

export interface RepositoryStore {
  getByName(name: string): Promise<Repository | undefined>;
  /** Returns the repository, creating it (under its registry) when missing; safe under concurrent calls. */
  ensure(registryId: string, name: string, now: number): Promise<Repository>;
  /** The registry's images: its repositories holding at least one artifact, by name. */
  list(q: { registryId: string; search?: string } & PageRequest): Promise<Page<RepositorySummary>>;
  /**
   * Names of repositories holding at least one artifact after `last`, in order, at most n; only those whose registry
   * is in `registries` when given.
   */
  catalog(q: { last?: string; n: number; registryNames?: string[] }): Promise<string[]>;
  /** Images (repositories holding at least one artifact) in the registry, as imageCount counts them. */
  countInRegistry(registryId: string): Promise<number>;
  delete(id: string): Promise<void>;
  touch(id: string, now: number): Promise<void>;
}

export interface BlobStoreMeta {
  /** Size of the blob when it is known and linked into the repository. */
  linkedSize(repositoryId: string, digest: string): Promise<number | undefined>;
  /** Size of the blob when it is linked into the repository of that name (one lookup, for the pull path). */
  linkedSizeByName(repoName: string, digest: string): Promise<number | undefined>;
  /** Whether the blob is linked into any repository of the registry (its bytes then already count toward its usage). */
  linkedInRegistry(registryId: string, digest: string): Promise<boolean>;
  /** Size of the blob when it is known at all (in any repository). */
  size(digest: string): Promise<number | undefined>;
  /**
   * Records the blob (idempotent) and links it into the repository, in one transaction; linking again renews the
   * link's time (GC's safe window counts from it). Throws BLOB_UPLOAD_INVALID when garbage collection removed the
   * blob's bytes meanwhile (checked under the lock GC deletes blobs under). `writtenAt`: when the caller itself
   * committed the bytes (an upload, by the same clock as `now`): GC keeps bytes that young (storage/blob/port.ts), so
   * a link soon after needs no look at the blob store.
   */
  link(repositoryId: string, digest: string, size: number, now: number, writtenAt?: number): Promise<void>;
  unlink(repositoryId: string, digest: string): Promise<boolean>;
  /** Of the given digests, those not linked into the repository. */
  missing(repositoryId: string, digests: string[]): Promise<string[]>;
}

export interface ArtifactStore {
  get(repositoryId: string, digest: string): Promise<Artifact | undefined>;
  /**
   * One lookup for a pull: undefined when the repository does not exist; otherwise its id and, when the tag or digest
   * names an artifact in it, that artifact's digest and media type.
   */
  lookup(repoName: string, ref: { tag: string } | { digest: string }): Promise<{ repositoryId: string; artifact?: { digest: string; mediaType: string } } | undefined>;
  /** The stored manifest bytes and media type, exactly as pushed. */
  content(repositoryId: string, digest: string): Promise<{ content: Uint8Array; mediaType: string } | undefined>;
  /** Of the given manifest digests, those not present in the repository. */
  missing(repositoryId: string, digests: string[]): Promise<string[]>;
  /** Stores the artifact (idempotent for the same digest) and, when tag is given, points the tag at it. */
  put(a: NewArtifact, tag: string | undefined, now: number): Promise<void>;
  /** Newest first; `withoutAccessories` leaves out signatures, attestations and SBOMs of artifacts that are there. */
  list(q: { repositoryId: string; withoutAccessories?: boolean } & PageRequest): Promise<Page<Artifact & { tags: string[] }>>;
  referrers(repositoryId: string, subject: string): Promise<Artifact[]>;
  /** Indexes in the repository that reference this digest as a child. */
  parents(repositoryId: string, digest: string): Promise<string[]>;
  /** Manifests this index references as children (that are in the repository). */
  children(repositoryId: string, digest: string): Promise<string[]>;
  /** Deletes the artifact and its tags; returns the tags that pointed at it. */
  delete(repositoryId: string, digest: string): Promise<string[]>;
  /** Records pulls in one batch: latest time wins. */
  recordPulls(pulls: { repositoryId: string; digest: string; tag?: string; at: number }[]): Promise<void>;
}

export interface TagStore {
  get(repositoryId: string, name: string): Promise<Tag | undefined>;
  /** Tag names after `last` in lexical order, at most n. */
  names(repositoryId: string, q: { last?: string; n?: number }): Promise<string[]>;
  /** Tags by name; `withoutAccessories` leaves out cosign's `sha256-<hex>.sig` / `.att` / `.sbom` tags. */
  list(q: { repositoryId: string; digest?: string; search?: string; withoutAccessories?: boolean } & PageRequest): Promise<Page<Tag>>;
  put(repositoryId: string, name: string, digest: string, now: number): Promise<void>;
  delete(repositoryId: string, name: string): Promise<boolean>;
}

/**
 * A capability's veto over changes to artifacts and tags (image protection). The core asks it, inside the change's
 * transaction and before writing, about every tag a change removes or moves and every artifact it deletes.
 */
export interface ChangeGuard {
  /** False when nothing in the registry can be protected (callers may skip the per-artifact checks). */
  active(registry: string): Promise<boolean>;
  /**
   * Throws NcrError PROTECTED, naming the policy, when an artifact of `repository` carrying `tags` (none: untagged)
   * may not undergo `change` (a phrase for the message, e.g. "deleting artifact sha256:..").
   */
  check(repository: string, tags: readonly string[], change: string): Promise<void>;
}

/** A capability's veto over serving a manifest (image trust: only verified images; later scanning: vulnerable ones). */
export interface PullGuard {
  /** Throws NcrError PULL_REFUSED, saying what the image lacks, when `repository@digest` may not be pulled (by `actor`). */
  check(repository: string, digest: string, actor?: Actor): Promise<void>;
}

/**
 * A capability that fills the repositories of some registries from another registry as they are pulled (the image
 * cache). The core asks it before answering a manifest or blob read in such a registry; what it brings in it stores
 * through the core, as the system (ManifestService.putPulled, UploadService.fill), so the normal events follow.
 */
export interface PullThroughSource {
  /** Whether the registry is filled from a source. Cheap: answered from memory (kept a few seconds). */
  covers(registry: string): Promise<boolean>;
  /**
   * Brings `repository` at `reference` up to date with the source before the core answers from its copy: stores what
   * is new or changed there, removes a tag the source no longer has, leaves the copy as it is when the source cannot be
   * reached. Throws MANIFEST_UNKNOWN when the source says it does not have it (then it is not served, cached or not),
   * UNAVAILABLE when the source cannot be reached and nothing is cached.
   */
  syncManifest(repository: string, reference: { tag: string } | { digest: string }): Promise<void>;
  /** The size of a blob the source has in the repository, or undefined when it has not (HEAD of an uncached blob). */
  statBlob(repository: string, digest: string): Promise<{ size: number } | undefined>;
  /**
   * A blob not linked into the repository yet: its bytes streaming from the source while they are stored
   * (`size` -1 when the source did not say), `'stored'` when another pull just stored it (read it locally), or
   * undefined when the source does not have it. UNAVAILABLE when the source cannot be reached or the download failed.
   */
  openBlob(repository: string, digest: string): Promise<{ size: number; stream: Readable } | 'stored' | undefined>;
}

/** The guard when no capability protects anything. */
export const NO_GUARD: ChangeGuard = { active: async () => false, check: async () => undefined };

export interface RegistryCoreStores {
  registries: RegistryStore;
  repositories: RepositoryStore;
  blobs: BlobStoreMeta;
  artifacts: ArtifactStore;
  tags: TagStore;
  /** bound to the same transaction as the stores */
  guard: ChangeGuard;
}
