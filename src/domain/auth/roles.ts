/**
 * Roles from the guide's "Service Permission" table. What each role may do is in permissions.ts (`can`), not here.
 * Listed from most to least allowed.
 */
export const ROLES = ['admin', 'member', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** Actions on a repository, as in token scopes. */
export type RepoAction = 'pull' | 'push' | 'delete';

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}
