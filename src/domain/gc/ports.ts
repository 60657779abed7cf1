/**
 * Garbage collection's storage port: the mark queries over the metadata (which link rows, blob rows and artifacts are
 * garbage) and the deletions, each re-checked by the statement that deletes. Implemented by
 * storage/meta/kysely/gc.repo.ts on SQLite and PostgreSQL. Times are epoch milliseconds.
 */

/** A blob link (repository_blobs row) that no manifest of its repository references. */
export interface GcLink {
  repositoryId: string;
  repository: string;
  digest: string;
}

/** A blob row that no link and no manifest anywhere references. */
export interface GcBlob {
  digest: string;
  size: number;
}

/** An artifact that no tag names, no index of its repository lists and (for a referrer) whose subject is gone. */
export interface GcArtifact {
  repository: string;
  digest: string;
  size: number;
}

export interface GcStore {
  /**
   * Serialises this transaction with every other one that locks one of these blobs (the link writes of uploads and
   * mounts lock theirs), until it ends. Keys are taken in one sorted order, so two batches cannot deadlock.
   */
  lockBlobs(digests: string[]): Promise<void>;
  /**
   * Up to `limit` links created before `before` that no artifact of their repository references, in (repository id,
   * digest) order after `after`.
   */
  unreferencedLinks(q: { before: number; after?: { repositoryId: string; digest: string }; limit: number }): Promise<GcLink[]>;
  /**
   * Deletes those of the repository's links to `digests` that are still created before `before` and referenced by no
   * artifact of the repository (checked by the delete itself); returns how many went. Call it under `repo:<id>`.
   */
  deleteLinks(repositoryId: string, digests: string[], before: number): Promise<number>;
  /**
   * Up to `limit` blob rows created before `before` that no link and no artifact references, in digest order after
   * `after`. `ignoringOldLinks` (a dry run's forecast): links created before `before` do not count, as the run would
   * delete them first (a blob no artifact references has no referenced link).
   */
  unreferencedBlobs(q: { before: number; after?: string; limit: number; ignoringOldLinks?: boolean }): Promise<GcBlob[]>;
  /** Of `digests`, the blob rows that are (still) unreferenced as `unreferencedBlobs` means it. */
  stillUnreferenced(digests: string[], before: number): Promise<GcBlob[]>;
  /** Deletes the blob rows (callers re-checked them under `lockBlobs`). */
  deleteBlobRows(digests: string[]): Promise<void>;
  /** Of `digests`, those that have a blob row. */
  knownBlobs(digests: string[]): Promise<Set<string>>;
  /** Total blob rows and links (what a run examines). */
  totals(): Promise<{ blobs: number; links: number }>;
  /**
   * Up to `limit` untagged artifacts pushed before `before`, in (repository, digest) order after `after`: no tag, not a
   * child of an index in the repository, and not a referrer whose subject is still in the repository.
   */
  untaggedArtifacts(q: { before: number; after?: { repository: string; digest: string }; limit: number }): Promise<GcArtifact[]>;
}
