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
