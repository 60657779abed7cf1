/** What replication needs from storage: its rules. Implemented by storage/meta/kysely/replication.repo.ts. */
import type { ReplicationRule } from './model.js';

export interface ReplicationStore {
  /** Throws CONFLICT when the registry already has a rule of that name. */
  create(r: ReplicationRule): Promise<void>;
  get(id: string): Promise<ReplicationRule | undefined>;
  getByName(registryId: string, name: string): Promise<ReplicationRule | undefined>;
  /** The registry's rules, by name. */
  list(registryId: string): Promise<ReplicationRule[]>;
  /** The rules of a registry by its name (for events), by name; empty when there is no such registry. */
  listByRegistryName(registry: string): Promise<ReplicationRule[]>;
  /** The rules replicating to an endpoint. */
  listByEndpoint(endpointId: string): Promise<ReplicationRule[]>;
  /** Replaces the settings (and the check fields); throws CONFLICT when the new name is taken. */
  update(r: ReplicationRule): Promise<void>;
  /** Records a check's outcome (no other field changes). */
  recordCheck(id: string, at: number, error: string | null): Promise<void>;
  /** False when it did not exist. */
  delete(id: string): Promise<boolean>;
}

export interface ReplicationStores {
  replication: ReplicationStore;
}
