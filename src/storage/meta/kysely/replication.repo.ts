/** Replication rules (domain/replication) on SQLite and PostgreSQL. Filters are JSON. */
import type { Selectable } from 'kysely';
import type { ReplicationRule } from '../../../domain/replication/model.js';
import type { ReplicationStore } from '../../../domain/replication/ports.js';
import type { ReplicationRulesTable } from './schema.js';
import { conflict, fromJson, isUniqueViolation, toJson, type Db } from './util.js';

const num = (v: number | null) => (v == null ? null : Number(v));

const toRule = (r: Selectable<ReplicationRulesTable> & { registry: string }): ReplicationRule => ({
  id: r.id,
  registryId: r.registry_id,
  registry: r.registry,
  name: r.name,
  description: r.description,
  endpointId: r.endpoint_id,
  targetRegistry: r.target_registry,
  imageFilter: fromJson(r.image_filter),
  tagFilter: fromJson(r.tag_filter),
  enabled: Boolean(r.enabled),
  createdAt: Number(r.created_at),
  createdBy: r.created_by,
  updatedAt: Number(r.updated_at),
  checkedAt: num(r.checked_at),
  checkError: r.check_error,
});

const settingsRow = (r: ReplicationRule) => ({
  name: r.name,
  description: r.description,
  endpoint_id: r.endpointId,
  target_registry: r.targetRegistry,
  image_filter: r.imageFilter ? toJson(r.imageFilter) : null,
  tag_filter: r.tagFilter ? toJson(r.tagFilter) : null,
  enabled: r.enabled ? 1 : 0,
  updated_at: r.updatedAt,
  checked_at: r.checkedAt,
  check_error: r.checkError,
});

const taken = (name: string, err: unknown) => conflict(`this registry already has a replication named "${name}": pick another name`, err);

export class KyselyReplicationStore implements ReplicationStore {
  constructor(private readonly db: Db) {}

  private select() {
    return this.db.selectFrom('replication_rules').innerJoin('registries', 'registries.id', 'replication_rules.registry_id').selectAll('replication_rules').select('registries.name as registry');
  }

  async create(r: ReplicationRule) {
    try {
      await this.db
        .insertInto('replication_rules')
        .values({ id: r.id, registry_id: r.registryId, ...settingsRow(r), created_at: r.createdAt, created_by: r.createdBy })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw taken(r.name, err);
      throw err;
    }
  }

  async get(id: string) {
    const r = await this.select().where('replication_rules.id', '=', id).executeTakeFirst();
    return r && toRule(r);
  }

  async getByName(registryId: string, name: string) {
    const r = await this.select().where('replication_rules.registry_id', '=', registryId).where('replication_rules.name', '=', name).executeTakeFirst();
    return r && toRule(r);
  }

  async list(registryId: string) {
    return (await this.select().where('replication_rules.registry_id', '=', registryId).orderBy('replication_rules.name').execute()).map(toRule);
  }

  async listByRegistryName(registry: string) {
    return (await this.select().where('registries.name', '=', registry).orderBy('replication_rules.name').execute()).map(toRule);
  }

  async listByEndpoint(endpointId: string) {
    return (await this.select().where('replication_rules.endpoint_id', '=', endpointId).orderBy('registries.name').orderBy('replication_rules.name').execute()).map(toRule);
  }

  async update(r: ReplicationRule) {
    try {
      await this.db.updateTable('replication_rules').set(settingsRow(r)).where('id', '=', r.id).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw taken(r.name, err);
      throw err;
    }
  }

  async recordCheck(id: string, at: number, error: string | null) {
    await this.db.updateTable('replication_rules').set({ checked_at: at, check_error: error }).where('id', '=', id).execute();
  }

  async delete(id: string) {
    const r = await this.db.deleteFrom('replication_rules').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
