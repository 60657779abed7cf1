/** Cleanup and protection policies (domain/policies). Filters and rules are JSON; the fingerprint makes duplicates a unique violation. */
import type { Policy, PolicyKind } from '../../../domain/policies/model.js';
import type { PolicyStore } from '../../../domain/policies/ports.js';
import type { PoliciesTable } from './schema.js';
import { conflict, fromJson, isUniqueViolation, toJson, type Db } from './util.js';

const toPolicy = (r: PoliciesTable): Policy => ({
  id: r.id,
  registryId: r.registry_id,
  kind: r.kind as PolicyKind,
  imageFilter: fromJson(r.image_filter),
  tagFilter: fromJson(r.tag_filter),
  rule: fromJson(r.rule),
  enabled: Boolean(r.enabled),
  createdAt: Number(r.created_at),
  createdBy: r.created_by,
});

export class KyselyPolicyStore implements PolicyStore {
  constructor(private readonly db: Db) {}

  async list(registryId: string, kind: PolicyKind) {
    const rows = await this.db.selectFrom('policies').selectAll().where('registry_id', '=', registryId).where('kind', '=', kind).orderBy('created_at').orderBy('id').execute();
    return rows.map(toPolicy);
  }

  async enabledByRegistryName(registry: string, kind: PolicyKind) {
    const rows = await this.db
      .selectFrom('policies')
      .innerJoin('registries', 'registries.id', 'policies.registry_id')
      .selectAll('policies')
      .where('registries.name', '=', registry)
      .where('policies.kind', '=', kind)
      .where('policies.enabled', '=', 1)
      .orderBy('policies.created_at')
      .orderBy('policies.id')
      .execute();
    return rows.map(toPolicy);
  }

  async get(id: string) {
    const r = await this.db.selectFrom('policies').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toPolicy(r);
  }

  async insert(p: Policy, fingerprint: string) {
    try {
      await this.db
        .insertInto('policies')
        .values({
          id: p.id,
          registry_id: p.registryId,
          kind: p.kind,
          image_filter: toJson(p.imageFilter),
          tag_filter: toJson(p.tagFilter),
          rule: p.rule ? toJson(p.rule) : null,
          enabled: p.enabled ? 1 : 0,
          fingerprint,
          created_at: p.createdAt,
          created_by: p.createdBy,
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`the registry already has a ${p.kind} policy with the same image filter, tag filter${p.kind === 'cleanup' ? ' and rule' : ''}`, err);
      throw err;
    }
  }

  async setEnabled(id: string, enabled: boolean) {
    await this.db.updateTable('policies').set({ enabled: enabled ? 1 : 0 }).where('id', '=', id).execute();
  }

  async delete(id: string) {
    const r = await this.db.deleteFrom('policies').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
