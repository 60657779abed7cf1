/** Garbage collection's mark queries and deletions (domain/gc/ports.ts), the same SQL on SQLite and PostgreSQL. */
import { type ExpressionBuilder, sql } from 'kysely';
import type { GcArtifact, GcBlob, GcLink, GcStore } from '../../../domain/gc/ports.js';
import type { Dialect } from './migrations.js';
import type { Database } from './schema.js';
import { advisoryLocks } from './uow.js';
import type { Db } from './util.js';

/** rows per `in (...)` list: well under every driver's bind limit */
const IN_SLICE = 500;

/** no artifact of the link's repository references the blob */
const linkUnreferenced = (eb: ExpressionBuilder<Database, 'repository_blobs'>) =>
  eb.not(
    eb.exists(
      eb
        .selectFrom('artifact_blobs as ab')
        .select('ab.blob_digest')
        .whereRef('ab.repository_id', '=', 'repository_blobs.repository_id')
        .whereRef('ab.blob_digest', '=', 'repository_blobs.digest'),
    ),
  );

export class KyselyGcStore implements GcStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  async lockBlobs(digests: string[]) {
    await advisoryLocks(this.db, this.dialect, digests.map(blobLockKey));
  }

  async unreferencedLinks(q: { before: number; after?: { repositoryId: string; digest: string }; limit: number }): Promise<GcLink[]> {
    let query = this.db
      .selectFrom('repository_blobs')
      .innerJoin('repositories as r', 'r.id', 'repository_blobs.repository_id')
      .select(['repository_blobs.repository_id', 'repository_blobs.digest', 'r.name'])
      .where('repository_blobs.created_at', '<', q.before)
      .where(linkUnreferenced);
    // a row-value comparison: both databases walk the primary key from there (an OR of two comparisons scans)
    if (q.after) query = query.where(sql<boolean>`(repository_blobs.repository_id, repository_blobs.digest) > (${q.after.repositoryId}, ${q.after.digest})`);
    const rows = await query.orderBy('repository_blobs.repository_id').orderBy('repository_blobs.digest').limit(q.limit).execute();
    return rows.map((r) => ({ repositoryId: r.repository_id, repository: r.name, digest: r.digest }));
  }

  async deleteLinks(repositoryId: string, digests: string[], before: number) {
    let n = 0;
    for (let i = 0; i < digests.length; i += IN_SLICE) {
      const r = await this.db
        .deleteFrom('repository_blobs')
        .where('repository_id', '=', repositoryId)
        .where('digest', 'in', digests.slice(i, i + IN_SLICE))
        .where('created_at', '<', before)
        .where(linkUnreferenced)
        .executeTakeFirst();
      n += Number(r.numDeletedRows);
    }
    return n;
  }

  private unreferencedBlobQuery(before: number, ignoringOldLinks: boolean) {
    return this.db
      .selectFrom('blobs')
      .select(['blobs.digest', 'blobs.size'])
      .where('blobs.created_at', '<', before)
      .where(({ not, exists, selectFrom }) => {
        let links = selectFrom('repository_blobs as rb').select('rb.digest').whereRef('rb.digest', '=', 'blobs.digest');
        if (ignoringOldLinks) links = links.where('rb.created_at', '>=', before);
        return not(exists(links));
      })
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('artifact_blobs as ab').select('ab.blob_digest').whereRef('ab.blob_digest', '=', 'blobs.digest'))));
  }

  async unreferencedBlobs(q: { before: number; after?: string; limit: number; ignoringOldLinks?: boolean }): Promise<GcBlob[]> {
    let query = this.unreferencedBlobQuery(q.before, q.ignoringOldLinks === true);
    if (q.after !== undefined) query = query.where('blobs.digest', '>', q.after);
    const rows = await query.orderBy('blobs.digest').limit(q.limit).execute();
    return rows.map((r) => ({ digest: r.digest, size: Number(r.size) }));
  }

  async stillUnreferenced(digests: string[], before: number): Promise<GcBlob[]> {
    const out: GcBlob[] = [];
    for (let i = 0; i < digests.length; i += IN_SLICE) {
      const rows = await this.unreferencedBlobQuery(before, false).where('blobs.digest', 'in', digests.slice(i, i + IN_SLICE)).execute();
      for (const r of rows) out.push({ digest: r.digest, size: Number(r.size) });
    }
    return out;
  }

  async deleteBlobRows(digests: string[]) {
    for (let i = 0; i < digests.length; i += IN_SLICE) {
      await this.db.deleteFrom('blobs').where('digest', 'in', digests.slice(i, i + IN_SLICE)).execute();
    }
  }

  async knownBlobs(digests: string[]) {
    const known = new Set<string>();
    for (let i = 0; i < digests.length; i += IN_SLICE) {
      const rows = await this.db.selectFrom('blobs').select('digest').where('digest', 'in', digests.slice(i, i + IN_SLICE)).execute();
      for (const r of rows) known.add(r.digest);
    }
    return known;
  }

  async totals() {
    const [b, l] = await Promise.all([
      this.db.selectFrom('blobs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      this.db.selectFrom('repository_blobs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { blobs: Number(b.n), links: Number(l.n) };
  }

  async untaggedArtifacts(q: { before: number; after?: { repository: string; digest: string }; limit: number }): Promise<GcArtifact[]> {
    let query = this.db
      .selectFrom('artifacts as a')
      .innerJoin('repositories as r', 'r.id', 'a.repository_id')
      .select(['r.name', 'a.digest', 'a.size'])
      .where('a.pushed_at', '<', q.before)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('tags as t').select('t.name').whereRef('t.repository_id', '=', 'a.repository_id').whereRef('t.digest', '=', 'a.digest'))))
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('artifact_refs as ar').select('ar.parent_digest').whereRef('ar.repository_id', '=', 'a.repository_id').whereRef('ar.child_digest', '=', 'a.digest'))),
      )
      .where(({ or, eb, not, exists, selectFrom }) =>
        or([
          eb('a.subject_digest', 'is', null),
          not(exists(selectFrom('artifacts as s').select('s.digest').whereRef('s.repository_id', '=', 'a.repository_id').whereRef('s.digest', '=', 'a.subject_digest'))),
        ]),
      );
    const after = q.after;
    if (after) query = query.where((eb) => eb.or([eb('r.name', '>', after.repository), eb.and([eb('r.name', '=', after.repository), eb('a.digest', '>', after.digest)])]));
    const rows = await query.orderBy('r.name').orderBy('a.digest').limit(q.limit).execute();
    return rows.map((r) => ({ repository: r.name, digest: r.digest, size: Number(r.size) }));
  }
}

/** The lock key of a blob: taken by GC's deletions and by the link writes of uploads and mounts (artifact.repo.ts). */
export function blobLockKey(digest: string): string {
  return `blob:${digest}`;
}
