/**
 * Roles from the guide's "Service Permission" table: admin and member may do everything there; viewer may view and
 * pull only. Managing users is the admin's alone.
 */
export const ROLES = ['admin', 'member', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Actions on a repository, as in token scopes. */
export type RepoAction = 'pull' | 'push' | 'delete';

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

/** The repository actions a role may ever take. */
export function allowedRepoActions(role: Role): RepoAction[] {
  return role === 'viewer' ? ['pull'] : ['pull', 'push', 'delete'];
}

/** May the role change registries, images, artifacts and tags (create/delete)? */
export function canWrite(role: Role): boolean {
  return role !== 'viewer';
}

export function canManageUsers(role: Role): boolean {
  return role === 'admin';
}
