import { type ExpressionBuilder, sql } from 'kysely';
import type { Page, PageRequest } from '../../../domain/pagination.js';
import { offsetOf } from '../../../domain/pagination.js';
import type { Registry, RegistryStats, RegistryStore, Repository, RepositoryStore, RepositorySummary } from '../../../domain/registry/ports.js';
import { randomUUID } from 'node:crypto';
import type { Database } from './schema.js';
import { accessoryTag, conflict, containsLike, type Db, isUniqueViolation } from './util.js';

/**
 * The repository holds at least one artifact, which is what makes it an image: one whose artifacts were all deleted,
 * or whose first push has sent blobs but no manifest yet, is not listed or counted (its row and blob links stay, so a
 * push in progress into it goes on).
 */
const holdsArtifacts = (eb: ExpressionBuilder<Database, 'repositories'>) =>
  eb.exists(eb.selectFrom('artifacts').select('artifacts.digest').whereRef('artifacts.repository_id', '=', 'repositories.id'));

const toRegistry = (r: { id: string; name: string; created_at: number; created_by: string | null; kind: string; quota_bytes: number | string | null }): Registry => ({
  id: r.id,
  name: r.name,
  createdAt: Number(r.created_at),
  createdBy: r.created_by,
  quotaBytes: r.quota_bytes == null ? null : Number(r.quota_bytes),
  kind: r.kind === 'cache' ? 'cache' : 'standard',
});

export class KyselyRegistryStore implements RegistryStore {
  constructor(private readonly db: Db) {}

  async create(r: Registry) {
    try {
      await this.db.insertInto('registries').values({ id: r.id, name: r.name, created_at: r.createdAt, created_by: r.createdBy, kind: r.kind, quota_bytes: r.quotaBytes ?? null }).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`registry "${r.name}" already exists: pick another name`, err);
      throw err;
    }
  }

  async getByName(name: string) {
    const r = await this.db.selectFrom('registries').selectAll().where('name', '=', name).executeTakeFirst();
    return r && toRegistry(r);
  }

  async list(q: { search?: string } & PageRequest): Promise<Page<Registry>> {
    let base = this.db.selectFrom('registries');
    if (q.search) base = base.where(containsLike('name', q.search));
    const [rows, total] = await Promise.all([
      base.selectAll().orderBy('name').limit(q.perPage).offset(offsetOf(q)).execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toRegistry), page: q.page, perPage: q.perPage, total: Number(total.n) };
  }

  async stats(ids: string[]) {
    const out = new Map<string, RegistryStats>(ids.map((id) => [id, { imageCount: 0, storageBytes: 0 }]));
    if (ids.length === 0) return out;
    const counts = await this.db
      .selectFrom('repositories')
      .select(['registry_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('registry_id', 'in', ids)
      .where(holdsArtifacts)
      .groupBy('registry_id')
      .execute();
    for (const c of counts) out.get(c.registry_id)!.imageCount = Number(c.n);
    const blobBytes = await sql<{ registry_id: string; bytes: number | string }>`
      select x.registry_id, sum(b.size) as bytes from (
        select distinct rp.registry_id, rb.digest from repository_blobs rb
        join repositories rp on rp.id = rb.repository_id
        where rp.registry_id in (${sql.join(ids)})
      ) x join blobs b on b.digest = x.digest group by x.registry_id`.execute(this.db);
    for (const r of blobBytes.rows) out.get(r.registry_id)!.storageBytes += Number(r.bytes);
    const manifestBytes = await sql<{ registry_id: string; bytes: number | string }>`
      select rp.registry_id, sum(a.size) as bytes from artifacts a join repositories rp on rp.id = a.repository_id
      where rp.registry_id in (${sql.join(ids)}) group by rp.registry_id`.execute(this.db);
    for (const r of manifestBytes.rows) out.get(r.registry_id)!.storageBytes += Number(r.bytes);
    return out;
  }

  async setQuota(id: string, quotaBytes: number | null) {
    await this.db.updateTable('registries').set({ quota_bytes: quotaBytes }).where('id', '=', id).execute();
  }

  async delete(id: string) {
    await this.db.deleteFrom('registries').where('id', '=', id).execute();
  }
}

const toRepository = (r: { id: string; registry_id: string; name: string; created_at: number; updated_at: number }): Repository => ({
  id: r.id,
  registryId: r.registry_id,
  name: r.name,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

export class KyselyRepositoryStore implements RepositoryStore {
  constructor(private readonly db: Db) {}

  async getByName(name: string) {
    const r = await this.db.selectFrom('repositories').selectAll().where('name', '=', name).executeTakeFirst();
    return r && toRepository(r);
  }

  async ensure(registryId: string, name: string, now: number) {
    await this.db
      .insertInto('repositories')
      .values({ id: randomUUID(), registry_id: registryId, name, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const r = await this.getByName(name);
    if (!r) throw new Error(`repository ${name} vanished right after it was created`);
    return r;
  }

  async list(q: { registryId: string; search?: string } & PageRequest): Promise<Page<RepositorySummary>> {
    let base = this.db.selectFrom('repositories').where('registry_id', '=', q.registryId).where(holdsArtifacts);
    if (q.search) base = base.where(containsLike('name', q.search));
    const [rows, total] = await Promise.all([
      base
        .selectAll('repositories')
        .select((eb) => [
          eb.selectFrom('artifacts').whereRef('artifacts.repository_id', '=', 'repositories.id').select((e2) => e2.fn.countAll<number>().as('n')).as('artifact_count'),
          // the tag list's count: without cosign's accessory tags, as the tag list shows them
          eb.selectFrom('tags').whereRef('tags.repository_id', '=', 'repositories.id').where((e2) => e2.not(accessoryTag(e2))).select((e2) => e2.fn.countAll<number>().as('n')).as('tag_count'),
          eb.selectFrom('artifacts').whereRef('artifacts.repository_id', '=', 'repositories.id').select((e2) => e2.fn.max('artifacts.pulled_at').as('m')).as('pulled_at'),
        ])
        .orderBy('name')
        .limit(q.perPage)
        .offset(offsetOf(q))
        .execute(),
      base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return {
      items: rows.map((r) => ({
        ...toRepository(r),
        artifactCount: Number(r.artifact_count ?? 0),
        tagCount: Number(r.tag_count ?? 0),
        pulledAt: r.pulled_at == null ? null : Number(r.pulled_at),
      })),
      page: q.page,
      perPage: q.perPage,
      total: Number(total.n),
    };
  }

  async catalog(q: { last?: string; n: number; registryNames?: string[] }) {
    if (q.registryNames && q.registryNames.length === 0) return [];
    let query = this.db.selectFrom('repositories').innerJoin('registries', 'registries.id', 'repositories.registry_id').select('repositories.name').where(holdsArtifacts);
    if (q.last) query = query.where('repositories.name', '>', q.last);
    if (q.registryNames) query = query.where('registries.name', 'in', q.registryNames);
    const rows = await query.orderBy('repositories.name').limit(q.n).execute();
    return rows.map((r) => r.name);
  }

  async countInRegistry(registryId: string) {
    const r = await this.db.selectFrom('repositories').select((eb) => eb.fn.countAll<number>().as('n')).where('registry_id', '=', registryId).where(holdsArtifacts).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async delete(id: string) {
    await this.db.deleteFrom('repositories').where('id', '=', id).execute();
  }

  async touch(id: string, now: number) {
    await this.db.updateTable('repositories').set({ updated_at: now }).where('id', '=', id).execute();
  }
}
