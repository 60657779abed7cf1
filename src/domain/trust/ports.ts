/** Storage port of the trust capability. Implemented by storage/meta/kysely/trust.repo.ts. */

export interface TrustKey {
  id: string;
  /** null: trusted in every registry */
  registryId: string | null;
  name: string;
  pem: string;
  algorithm: string;
  /** sha256 of the key's DER SubjectPublicKeyInfo, hex */
  fingerprint: string;
  createdAt: number;
  createdBy: string | null;
}

export interface TrustStore {
  /** Keys of the registry (and, with `withGlobal`, those of every registry), by name. */
  keys(registryId: string | null, withGlobal: boolean): Promise<TrustKey[]>;
  get(id: string): Promise<TrustKey | undefined>;
  /** Throws NcrError CONFLICT when the scope already has a key of that name. */
  insert(k: TrustKey): Promise<void>;
  delete(id: string): Promise<boolean>;
  requireVerified(registryId: string): Promise<boolean>;
  setRequireVerified(registryId: string, on: boolean, now: number): Promise<void>;
  /** Names of the registries whose pull policy requires verified signatures. */
  registriesRequiringVerified(): Promise<string[]>;
}
