/** Signing keys and pull policies of the trust capability (domain/trust). */
import type { TrustKey, TrustStore } from '../../../domain/trust/ports.js';
import type { TrustKeysTable } from './schema.js';
import { conflict, isUniqueViolation, type Db } from './util.js';

const toKey = (r: TrustKeysTable): TrustKey => ({
  id: r.id,
  registryId: r.registry_id,
  name: r.name,
  pem: r.pem,
  algorithm: r.algorithm,
  fingerprint: r.fingerprint,
  createdAt: Number(r.created_at),
  createdBy: r.created_by,
});

export class KyselyTrustStore implements TrustStore {
  constructor(private readonly db: Db) {}

  async keys(registryId: string | null, withGlobal: boolean) {
    const scopes = [registryId ?? '*', ...(withGlobal && registryId ? ['*'] : [])];
    const rows = await this.db.selectFrom('trust_keys').selectAll().where('scope', 'in', scopes).orderBy('name').orderBy('scope').execute();
    return rows.map(toKey);
  }

  async get(id: string) {
    const r = await this.db.selectFrom('trust_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toKey(r);
  }

  async insert(k: TrustKey) {
    try {
      await this.db
        .insertInto('trust_keys')
        .values({ id: k.id, registry_id: k.registryId, scope: k.registryId ?? '*', name: k.name, pem: k.pem, algorithm: k.algorithm, fingerprint: k.fingerprint, created_at: k.createdAt, created_by: k.createdBy })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`a key named "${k.name}" already exists ${k.registryId ? 'in this registry' : 'among the global keys'}: pick another name`, err);
      throw err;
    }
  }

  async delete(id: string) {
    const r = await this.db.deleteFrom('trust_keys').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async requireVerified(registryId: string) {
    const r = await this.db.selectFrom('trust_policies').select('require_verified').where('registry_id', '=', registryId).executeTakeFirst();
    return Boolean(r?.require_verified);
  }

  async setRequireVerified(registryId: string, on: boolean, now: number) {
    await this.db
      .insertInto('trust_policies')
      .values({ registry_id: registryId, require_verified: on ? 1 : 0, updated_at: now })
      .onConflict((oc) => oc.column('registry_id').doUpdateSet({ require_verified: on ? 1 : 0, updated_at: now }))
      .execute();
  }

  async registriesRequiringVerified() {
    const rows = await this.db.selectFrom('trust_policies').innerJoin('registries', 'registries.id', 'trust_policies.registry_id').select('registries.name').where('trust_policies.require_verified', '=', 1).execute();
    return rows.map((r) => r.name);
  }
}
