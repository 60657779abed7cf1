/** Remote registry endpoints (domain/endpoints) on SQLite and PostgreSQL. The secret arrives sealed. */
import type { Selectable } from 'kysely';
import type { ProviderType } from '../../../domain/endpoints/model.js';
import type { EndpointStore, StoredEndpoint } from '../../../domain/endpoints/ports.js';
import type { EndpointsTable } from './schema.js';
import { conflict, isForeignKeyViolation, isUniqueViolation, type Db } from './util.js';

const num = (v: number | null) => (v == null ? null : Number(v));

const toEndpoint = (r: Selectable<EndpointsTable>): StoredEndpoint => ({
  id: r.id,
  name: r.name,
  description: r.description,
  provider: r.provider as ProviderType,
  url: r.url,
  accessId: r.access_id,
  secretSealed: r.secret_sealed,
  caPem: r.ca_pem,
  createdAt: Number(r.created_at),
  createdBy: r.created_by,
  updatedAt: Number(r.updated_at),
  checkedAt: num(r.checked_at),
  checkError: r.check_error,
});

/** The columns of an endpoint's settings (written alike on create and update). */
const settingsRow = (e: StoredEndpoint) => ({
  name: e.name,
  description: e.description,
  provider: e.provider,
  url: e.url,
  access_id: e.accessId,
  secret_sealed: e.secretSealed,
  ca_pem: e.caPem,
  updated_at: e.updatedAt,
  checked_at: e.checkedAt,
  check_error: e.checkError,
});

const taken = (name: string, err: unknown) => conflict(`an endpoint named "${name}" already exists: pick another name`, err);

export class KyselyEndpointStore implements EndpointStore {
  constructor(private readonly db: Db) {}

  async create(e: StoredEndpoint) {
    try {
      await this.db
        .insertInto('endpoints')
        .values({ id: e.id, ...settingsRow(e), created_at: e.createdAt, created_by: e.createdBy })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw taken(e.name, err);
      throw err;
    }
  }

  async get(id: string) {
    const r = await this.db.selectFrom('endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toEndpoint(r);
  }

  async getByName(name: string) {
    const r = await this.db.selectFrom('endpoints').selectAll().where('name', '=', name).executeTakeFirst();
    return r && toEndpoint(r);
  }

  async list() {
    return (await this.db.selectFrom('endpoints').selectAll().orderBy('name').execute()).map(toEndpoint);
  }

  async update(e: StoredEndpoint) {
    try {
      await this.db.updateTable('endpoints').set(settingsRow(e)).where('id', '=', e.id).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw taken(e.name, err);
      throw err;
    }
  }

  async recordCheck(id: string, at: number, error: string | null) {
    await this.db.updateTable('endpoints').set({ checked_at: at, check_error: error }).where('id', '=', id).execute();
  }

  async delete(id: string) {
    try {
      const r = await this.db.deleteFrom('endpoints').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    } catch (err) {
      if (isForeignKeyViolation(err)) throw conflict('the endpoint is still in use (a replication rule or an image cache registry refers to it): change or delete those first', err);
      throw err;
    }
  }
}
