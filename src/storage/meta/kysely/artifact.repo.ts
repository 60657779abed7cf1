import type { Page, PageRequest } from '../../../domain/pagination.js';
import { offsetOf } from '../../../domain/pagination.js';
import type { Artifact, ArtifactStore, BlobStoreMeta, NewArtifact, Tag, TagStore } from '../../../domain/registry/ports.js';
import type { ArtifactsTable } from './schema.js';
import { NcrError } from '../../../oci/errors.js';
import { blobLockKey } from './gc.repo.js';
import { GroupCommit } from './group-commit.js';
import type { Dialect } from './migrations.js';
import { advisoryLocks } from './uow.js';
import { accessoryTag, containsLike, withTx, type Db } from './util.js';

type ArtifactRow = Omit<ArtifactsTable, 'content'>;
const ARTIFACT_COLUMNS = [
  'repository_id', 'digest', 'media_type', 'artifact_type', 'size', 'subject_digest', 'config_digest',
  'platforms', 'total_size', 'pushed_at', 'pushed_by', 'pulled_at',
] as const;

const toArtifact = (r: ArtifactRow): Artifact => ({
  repositoryId: r.repository_id,
  digest: r.digest,
  mediaType: r.media_type,
  artifactType: r.artifact_type,
  size: Number(r.size),
  subjectDigest: r.subject_digest,
  configDigest: r.config_digest,
  platforms: JSON.parse(r.platforms) as string[],
  totalSize: Number(r.total_size),
  pushedAt: Number(r.pushed_at),
  pushedBy: r.pushed_by,
  pulledAt: r.pulled_at == null ? null : Number(r.pulled_at),
});

const toTag = (r: { repository_id: string; name: string; digest: string; pushed_at: number; pulled_at: number | null }): Tag => ({
  repositoryId: r.repository_id,
  name: r.name,
  digest: r.digest,
  pushedAt: Number(r.pushed_at),
  pulledAt: r.pulled_at == null ? null : Number(r.pulled_at),
});

export class KyselyArtifactStore implements ArtifactStore {
  constructor(private readonly db: Db) {}

  async get(repositoryId: string, digest: string) {
    const r = await this.db.selectFrom('artifacts').select(ARTIFACT_COLUMNS).where('repository_id', '=', repositoryId).where('digest', '=', digest).executeTakeFirst();
    return r && toArtifact(r);
  }

  async lookup(repoName: string, ref: { tag: string } | { digest: string }) {
    let row: { repository_id: string; digest: string | null; media_type: string | null } | undefined;
    if ('tag' in ref) {
      row = await this.db
        .selectFrom('repositories as r')
        .leftJoin('tags as t', (j) => j.onRef('t.repository_id', '=', 'r.id').on('t.name', '=', ref.tag))
        .leftJoin('artifacts as a', (j) => j.onRef('a.repository_id', '=', 'r.id').onRef('a.digest', '=', 't.digest'))
        .select(['r.id as repository_id', 'a.digest as digest', 'a.media_type as media_type'])
        .where('r.name', '=', repoName)
        .executeTakeFirst();
    } else {
      row = await this.db
        .selectFrom('repositories as r')
        .leftJoin('artifacts as a', (j) => j.onRef('a.repository_id', '=', 'r.id').on('a.digest', '=', ref.digest))
        .select(['r.id as repository_id', 'a.digest as digest', 'a.media_type as media_type'])
        .where('r.name', '=', repoName)
        .executeTakeFirst();
    }
    if (!row) return undefined;
    return { repositoryId: row.repository_id, artifact: row.digest && row.media_type ? { digest: row.digest, mediaType: row.media_type } : undefined };
  }

  async content(repositoryId: string, digest: string) {
    const r = await this.db.selectFrom('artifacts').select(['content', 'media_type']).where('repository_id', '=', repositoryId).where('digest', '=', digest).executeTakeFirst();
    return r && { content: new Uint8Array(r.content), mediaType: r.media_type };
  }

  async missing(repositoryId: string, digests: string[]) {
    const wanted = [...new Set(digests)];
    if (wanted.length === 0) return [];
    const present = await this.db.selectFrom('artifacts').select('digest').where('repository_id', '=', repositoryId).where('digest', 'in', wanted).execute();
    const have = new Set(present.map((p) => p.digest));
    return wanted.filter((d) => !have.has(d));
  }

  async put(a: NewArtifact, tag: string | undefined, now: number) {
    await withTx(this.db, async (tx) => {
      await tx
        .insertInto('artifacts')
        .values({
          repository_id: a.repositoryId,
          digest: a.digest,
          media_type: a.mediaType,
          artifact_type: a.artifactType,
          size: a.size,
          content: a.content,
          subject_digest: a.subjectDigest,
          config_digest: a.configDigest,
          platforms: JSON.stringify(a.platforms),
          total_size: a.totalSize,
          pushed_at: a.pushedAt,
          pushed_by: a.pushedBy,
          pulled_at: null,
        })
        .onConflict((oc) => oc.columns(['repository_id', 'digest']).doNothing())
        .execute();
      const blobs = [...new Set(a.blobDigests)];
      if (blobs.length > 0) {
        await tx
          .insertInto('artifact_blobs')
          .values(blobs.map((b) => ({ repository_id: a.repositoryId, artifact_digest: a.digest, blob_digest: b })))
          .onConflict((oc) => oc.columns(['repository_id', 'artifact_digest', 'blob_digest']).doNothing())
          .execute();
      }
      const children = [...new Set(a.childDigests)];
      if (children.length > 0) {
        await tx
          .insertInto('artifact_refs')
          .values(children.map((c) => ({ repository_id: a.repositoryId, parent_digest: a.digest, child_digest: c })))
          .onConflict((oc) => oc.columns(['repository_id', 'parent_digest', 'child_digest']).doNothing())
          .execute();
      }
      if (tag !== undefined) {
        await tx
          .insertInto('tags')
          .values({ repository_id: a.repositoryId, name: tag, digest: a.digest, pushed_at: now, pulled_at: null })
          .onConflict((oc) => oc.columns(['repository_id', 'name']).doUpdateSet({ digest: a.digest, pushed_at: now }))
          .execute();
      }
      await tx.updateTable('repositories').set({ updated_at: now }).where('id', '=', a.repositoryId).execute();
    });
  }

  async list(q: { repositoryId: string; withoutAccessories?: boolean } & PageRequest): Promise<Page<Artifact & { tags: string[] }>> {
    let base = this.db.selectFrom('artifacts').where('repository_id', '=', q.repositoryId);
    if (q.withoutAccessories) {
      // not a referrer of an artifact that is there, and not carrying only cosign-style accessory tags
      base = base
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('artifacts as s')
                .select('s.digest')
                .whereRef('s.repository_id', '=', 'artifacts.repository_id')
                .whereRef('s.digest', '=', 'artifacts.subject_digest'),
            ),
          ),
        )
        .where((eb) =>
          eb.or([
            eb.not(eb.exists(eb.selectFrom('tags').select('tags.name').whereRef('tags.repository_id', '=', 'artifacts.repository_id').whereRef('tags.digest', '=', 'artifacts.digest').where(accessoryTag))),
            eb.exists(
              eb
                .selectFrom('tags')
                .select('tags.name')
                .whereRef('tags.repository_id', '=', 'artifacts.repository_id')
                .whereRef('tags.digest', '=', 'artifacts.digest')
                .where((e) => e.not(accessoryTag(e))),
            ),
          ]),
        );
    }
    const [rows, total] = await Promise.all([
      base.select(ARTIFACT_COLUMNS).orderBy('pushed_at', 'desc').orderBy('digest').limit(q.perPage).offset(offsetOf(q)).execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    const digests = rows.map((r) => r.digest);
    const tags = digests.length
      ? await this.db.selectFrom('tags').select(['digest', 'name']).where('repository_id', '=', q.repositoryId).where('digest', 'in', digests).orderBy('name').execute()
      : [];
    const byDigest = new Map<string, string[]>();
    for (const t of tags) byDigest.set(t.digest, [...(byDigest.get(t.digest) ?? []), t.name]);
    return {
      items: rows.map((r) => ({ ...toArtifact(r), tags: byDigest.get(r.digest) ?? [] })),
      page: q.page,
      perPage: q.perPage,
      total: Number(total.n),
    };
  }

  async referrers(repositoryId: string, subject: string) {
    const rows = await this.db.selectFrom('artifacts').select(ARTIFACT_COLUMNS).where('repository_id', '=', repositoryId).where('subject_digest', '=', subject).orderBy('pushed_at').execute();
    return rows.map(toArtifact);
  }

  async parents(repositoryId: string, digest: string) {
    const rows = await this.db.selectFrom('artifact_refs').select('parent_digest').where('repository_id', '=', repositoryId).where('child_digest', '=', digest).execute();
    return rows.map((r) => r.parent_digest);
  }

  async children(repositoryId: string, digest: string) {
    const rows = await this.db.selectFrom('artifact_refs').select('child_digest').where('repository_id', '=', repositoryId).where('parent_digest', '=', digest).execute();
    return rows.map((r) => r.child_digest);
  }

  async delete(repositoryId: string, digest: string) {
    return withTx(this.db, async (tx) => {
      const tags = await tx.selectFrom('tags').select('name').where('repository_id', '=', repositoryId).where('digest', '=', digest).execute();
      await tx.deleteFrom('tags').where('repository_id', '=', repositoryId).where('digest', '=', digest).execute();
      await tx.deleteFrom('artifact_refs').where('repository_id', '=', repositoryId).where('parent_digest', '=', digest).execute();
      await tx.deleteFrom('artifact_blobs').where('repository_id', '=', repositoryId).where('artifact_digest', '=', digest).execute();
      await tx.deleteFrom('artifacts').where('repository_id', '=', repositoryId).where('digest', '=', digest).execute();
      return tags.map((t) => t.name);
    });
  }

  async recordPulls(pulls: { repositoryId: string; digest: string; tag?: string; at: number }[]) {
    if (pulls.length === 0) return;
    await withTx(this.db, async (tx) => {
      for (const p of pulls) {
        await tx
          .updateTable('artifacts')
          .set({ pulled_at: p.at })
          .where('repository_id', '=', p.repositoryId)
          .where('digest', '=', p.digest)
          .where((eb) => eb.or([eb('pulled_at', 'is', null), eb('pulled_at', '<', p.at)]))
          .execute();
        if (p.tag) {
          await tx
            .updateTable('tags')
            .set({ pulled_at: p.at })
            .where('repository_id', '=', p.repositoryId)
            .where('name', '=', p.tag)
            .where((eb) => eb.or([eb('pulled_at', 'is', null), eb('pulled_at', '<', p.at)]))
            .execute();
        }
      }
    });
  }
}

export class KyselyTagStore implements TagStore {
  constructor(private readonly db: Db) {}

  async get(repositoryId: string, name: string) {
    const r = await this.db.selectFrom('tags').selectAll().where('repository_id', '=', repositoryId).where('name', '=', name).executeTakeFirst();
    return r && toTag(r);
  }

  async names(repositoryId: string, q: { last?: string; n?: number }) {
    let query = this.db.selectFrom('tags').select('name').where('repository_id', '=', repositoryId);
    if (q.last !== undefined) query = query.where('name', '>', q.last);
    query = query.orderBy('name');
    if (q.n !== undefined) query = query.limit(q.n);
    return (await query.execute()).map((r) => r.name);
  }

  async list(q: { repositoryId: string; digest?: string; search?: string; withoutAccessories?: boolean } & PageRequest): Promise<Page<Tag>> {
    let base = this.db.selectFrom('tags').where('repository_id', '=', q.repositoryId);
    if (q.digest) base = base.where('digest', '=', q.digest);
    if (q.withoutAccessories) base = base.where((eb) => eb.not(accessoryTag(eb)));
    if (q.search) base = base.where(containsLike('name', q.search));
    const [rows, total] = await Promise.all([
      base.selectAll().orderBy('name').limit(q.perPage).offset(offsetOf(q)).execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toTag), page: q.page, perPage: q.perPage, total: Number(total.n) };
  }

  async put(repositoryId: string, name: string, digest: string, now: number) {
    await this.db
      .insertInto('tags')
      .values({ repository_id: repositoryId, name, digest, pushed_at: now, pulled_at: null })
      .onConflict((oc) => oc.columns(['repository_id', 'name']).doUpdateSet({ digest, pushed_at: now }))
      .execute();
  }

  async delete(repositoryId: string, name: string) {
    const r = await this.db.deleteFrom('tags').where('repository_id', '=', repositoryId).where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}

interface NewLink {
  repositoryId: string;
  digest: string;
  size: number;
  now: number;
  /** when the linking caller committed the bytes itself */
  writtenAt?: number;
}

/** What link writes need to coordinate with garbage collection (wired in app.ts; stores without it skip both). */
export interface LinkGuard {
  dialect: Dialect;
  /** whether the blob's bytes are in the blob store */
  exists(digest: string): Promise<boolean>;
  /**
   * How long after its caller committed the bytes a link needs not look (`exists`): GC never deletes bytes committed
   * within its safe window (less a minute, storage/blob/port.ts); this is well inside it, to allow for skewed clocks.
   */
  freshMs: number;
}

async function writeLinks(tx: Db, batch: NewLink[], guard?: LinkGuard): Promise<void> {
  // one row per link (the latest time): an upsert may not touch a row twice in one statement (PostgreSQL)
  const byLink = new Map<string, NewLink>();
  for (const l of batch) {
    const key = `${l.repositoryId}\0${l.digest}`;
    const prev = byLink.get(key);
    if (!prev || prev.now < l.now) byLink.set(key, l);
  }
  const items = [...byLink.values()];
  if (guard) {
    // Under the blobs' locks, which GC holds while it deletes a blob's row and bytes: either GC finished first (and the
    // bytes this upload or mount saw may be gone, so look again) or it will find this link and keep the blob.
    const digests = [...new Set(items.map((l) => l.digest))];
    await advisoryLocks(tx, guard.dialect, digests.map(blobLockKey));
    // bytes an upload committed moments ago are younger than any GC run's cutoff: only the others are looked at
    const fresh = (l: NewLink) => l.writtenAt !== undefined && l.now - l.writtenAt < guard.freshMs;
    const toCheck = [...new Set(batch.filter((l) => !fresh(l)).map((l) => l.digest))];
    const present = await Promise.all(toCheck.map((d) => guard.exists(d)));
    const gone = toCheck.filter((_, i) => !present[i]);
    if (gone.length > 0) {
      throw new NcrError('BLOB_UPLOAD_INVALID', `blob ${gone.join(', ')} was removed by garbage collection while it was being linked: upload it again`, { detail: { digests: gone } });
    }
  }
  await tx
    .insertInto('blobs')
    .values(items.map((l) => ({ digest: l.digest, size: l.size, created_at: l.now })))
    .onConflict((oc) => oc.column('digest').doNothing())
    .execute();
  await tx
    .insertInto('repository_blobs')
    .values(items.map((l) => ({ repository_id: l.repositoryId, digest: l.digest, created_at: l.now })))
    // a re-upload or mount of a linked blob renews the link: GC's safe window counts from the latest one
    .onConflict((oc) => oc.columns(['repository_id', 'digest']).doUpdateSet({ created_at: (eb) => eb.ref('excluded.created_at') }))
    .execute();
}

export class KyselyBlobMetaStore implements BlobStoreMeta {
  private readonly links: GroupCommit<NewLink>;

  constructor(
    private readonly db: Db,
    private readonly guard?: LinkGuard,
  ) {
    this.links = new GroupCommit(db, (tx, items) => writeLinks(tx, items, guard));
  }

  async linkedSize(repositoryId: string, digest: string) {
    const r = await this.db
      .selectFrom('repository_blobs')
      .innerJoin('blobs', 'blobs.digest', 'repository_blobs.digest')
      .select('blobs.size')
      .where('repository_blobs.repository_id', '=', repositoryId)
      .where('repository_blobs.digest', '=', digest)
      .executeTakeFirst();
    return r ? Number(r.size) : undefined;
  }

  async linkedInRegistry(registryId: string, digest: string) {
    const r = await this.db
      .selectFrom('repository_blobs as rb')
      .innerJoin('repositories as r', 'r.id', 'rb.repository_id')
      .select('rb.digest')
      .where('r.registry_id', '=', registryId)
      .where('rb.digest', '=', digest)
      .limit(1)
      .executeTakeFirst();
    return r !== undefined;
  }

  async linkedSizeByName(repoName: string, digest: string) {
    const r = await this.db
      .selectFrom('repositories as r')
      .innerJoin('repository_blobs as rb', 'rb.repository_id', 'r.id')
      .innerJoin('blobs as b', 'b.digest', 'rb.digest')
      .select('b.size')
      .where('r.name', '=', repoName)
      .where('rb.digest', '=', digest)
      .executeTakeFirst();
    return r ? Number(r.size) : undefined;
  }

  async size(digest: string) {
    const r = await this.db.selectFrom('blobs').select('size').where('digest', '=', digest).executeTakeFirst();
    return r ? Number(r.size) : undefined;
  }

  /**
   * Links are group-committed: the uploads that finish together share one transaction (see group-commit.ts). Inside a
   * unit of work the link is written in that transaction instead, so it commits or rolls back with it.
   */
  link(repositoryId: string, digest: string, size: number, now: number, writtenAt?: number) {
    const l: NewLink = { repositoryId, digest, size, now, writtenAt };
    return this.db.isTransaction ? writeLinks(this.db, [l], this.guard) : this.links.submit(l);
  }

  async unlink(repositoryId: string, digest: string) {
    const r = await this.db.deleteFrom('repository_blobs').where('repository_id', '=', repositoryId).where('digest', '=', digest).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async missing(repositoryId: string, digests: string[]) {
    const wanted = [...new Set(digests)];
    if (wanted.length === 0) return [];
    const present = await this.db.selectFrom('repository_blobs').select('digest').where('repository_id', '=', repositoryId).where('digest', 'in', wanted).execute();
    const have = new Set(present.map((p) => p.digest));
    return wanted.filter((d) => !have.has(d));
  }
}
