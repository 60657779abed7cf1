/** Image cache registries' bindings to their source endpoints (domain/cache) on SQLite and PostgreSQL. */
import type { CacheBinding, CacheStore } from '../../../domain/cache/ports.js';
import { NcrError } from '../../../oci/errors.js';
import { isForeignKeyViolation, type Db } from './util.js';

const toBinding = (r: { registry_id: string; name: string; endpoint_id: string; endpoint_name: string; created_at: number }): CacheBinding => ({
  registryId: r.registry_id,
  registry: r.name,
  endpointId: r.endpoint_id,
  endpointName: r.endpoint_name,
  createdAt: Number(r.created_at),
});

export class KyselyCacheStore implements CacheStore {
  constructor(private readonly db: Db) {}

  async bind(b: { registryId: string; endpointId: string; createdAt: number }) {
    try {
      await this.db.insertInto('cache_registries').values({ registry_id: b.registryId, endpoint_id: b.endpointId, created_at: b.createdAt }).execute();
    } catch (err) {
      if (isForeignKeyViolation(err)) throw new NcrError('CONFLICT', 'the endpoint or the registry was deleted meanwhile: try again', { cause: err });
      throw err;
    }
  }

  private select() {
    return this.db.selectFrom('cache_registries as c').innerJoin('registries as r', 'r.id', 'c.registry_id')
      .innerJoin('endpoints as e', 'e.id', 'c.endpoint_id')
      .select(['c.registry_id', 'r.name', 'c.endpoint_id', 'e.name as endpoint_name', 'c.created_at']);
  }

  async byRegistry(name: string) {
    const r = await this.select().where('r.name', '=', name).executeTakeFirst();
    return r && toBinding(r);
  }

  async byRegistries(names: string[]) {
    if (names.length === 0) return [];
    return (await this.select().where('r.name', 'in', names).execute()).map(toBinding);
  }

  async usingEndpoint(endpointId: string) {
    const rows = await this.select().where('c.endpoint_id', '=', endpointId).orderBy('r.name').execute();
    return rows.map((r) => r.name);
  }
}
