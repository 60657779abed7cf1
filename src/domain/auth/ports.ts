/** Storage ports for identity. Secrets are stored only as slow hashes. */
import type { Page, PageRequest } from '../pagination.js';
import type { Role } from './roles.js';

export interface User {
  id: string;
  username: string;
  role: Role;
  createdAt: number;
  hasPassword: boolean;
}
export interface AccessKey {
  id: string;
  userId: string;
  accessKey: string;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface UserStore {
  /** Inserts; throws NcrError CONFLICT when the username is taken. */
  create(u: User & { passwordHash: string | null }): Promise<void>;
  get(id: string): Promise<User | undefined>;
  getByUsername(username: string): Promise<(User & { passwordHash: string | null }) | undefined>;
  list(q: PageRequest): Promise<Page<User>>;
  count(): Promise<number>;
  countByRole(role: Role): Promise<number>;
  update(id: string, patch: { role?: Role; passwordHash?: string }): Promise<void>;
  delete(id: string): Promise<void>;
}

export interface AccessKeyStore {
  create(k: AccessKey & { secretHash: string }): Promise<void>;
  getByAccessKey(accessKey: string): Promise<(AccessKey & { secretHash: string }) | undefined>;
  get(id: string): Promise<AccessKey | undefined>;
  listForUser(userId: string): Promise<AccessKey[]>;
  countForUser(userId: string): Promise<number>;
  replaceSecret(id: string, secretHash: string, now: number): Promise<void>;
  /** Updates last_used_at for many keys at once (batched by the service). */
  touch(uses: { id: string; at: number }[]): Promise<void>;
  delete(id: string): Promise<void>;
}

/** Failed logins, shared by every node. */
export interface LoginFailureStore {
  /** Records one failure for each key at `at`, and forgets failures older than `forgetBefore`. */
  add(keys: string[], at: number, forgetBefore: number): Promise<void>;
  /** For each key: how many failures since `since` and the oldest of them. */
  recent(keys: string[], since: number): Promise<Map<string, { count: number; oldest: number }>>;
}

/** A token signing key as stored: the public JWK in clear, the private JWK sealed by the key ring. */
export interface StoredSigningKey {
  kid: string;
  alg: 'ES256';
  publicJwk: string;
  sealedPrivateJwk: string;
  createdAt: number;
}

/** Token signing keys in the shared database, so a token issued by one node verifies on every other. */
export interface SigningKeyStore {
  /** All keys, newest first. */
  list(): Promise<StoredSigningKey[]>;
  /** Inserts a key (kids are unique; inserting an existing kid is a no-op). */
  add(k: StoredSigningKey): Promise<void>;
  /** Deletes keys created before `before`, except the newest; returns how many. */
  deleteOlderThan(before: number): Promise<number>;
}
