/** Storage port of the policies capability. Implemented by storage/meta/kysely/policies.repo.ts. */
import type { Policy, PolicyKind } from './model.js';

export interface PolicyStore {
  /** The registry's policies of that kind, oldest first. */
  list(registryId: string, kind: PolicyKind): Promise<Policy[]>;
  /** The enabled policies of that kind of the registry named `registry`, oldest first. */
  enabledByRegistryName(registry: string, kind: PolicyKind): Promise<Policy[]>;
  get(id: string): Promise<Policy | undefined>;
  /** Inserts the policy; throws NcrError CONFLICT when the registry already has one with the same fingerprint. */
  insert(p: Policy, fingerprint: string): Promise<void>;
  setEnabled(id: string, enabled: boolean): Promise<void>;
  delete(id: string): Promise<boolean>;
}
