import { describe, expect, it } from 'vitest';
import { isNcrError } from '../../oci/errors.js';
import { ACTIONS, allowedRepoActions, can, PERMISSIONS, require, requireActor } from './permissions.js';
import { ROLES } from './roles.js';

/** The guide's "Service Permission" table, row by row: true when the Service Viewer has a tick. */
const GUIDE_ROWS: Record<string, boolean> = {
  'View registries': true,
  'Create/Delete registries': false,
  'View a registry replication list': true,
  'Create/Modify/Delete/Run registry replications': false,
  'View a registry replication history': true,
  'View images': true,
  'Pull images': true,
  'Push images': false,
  'Delete images': false,
  'View artifacts': true,
  'Delete artifacts': false,
  'View artifact tags': true,
  'Create/Delete artifact tags': false,
  'View webhook': true,
  'Create/Modify/Delete webhooks': false,
  'View image cleanup policy': true,
  'View image cleanup history': true,
  'Create/Delete/Run image cleanup policy': false,
  'Enable/Disable image cleanup rule': false,
  'View image protection policy': true,
  'Add/Delete image protection policy': false,
};

const who = (role: (typeof ROLES)[number]) => ({ username: `${role}-user`, role });

describe('permissions', () => {
  it('covers every row of the guide, and names only rows the guide has', () => {
    const covered = new Set(ACTIONS.flatMap((a) => PERMISSIONS[a].guide as readonly string[]));
    expect([...covered].sort()).toEqual(Object.keys(GUIDE_ROWS).sort());
  });

  it('gives admin and member every guide row, the viewer exactly the rows the guide ticks for it', () => {
    for (const action of ACTIONS) {
      const rows = PERMISSIONS[action].guide as readonly string[];
      if (rows.length === 0) continue;
      expect(can(who('admin'), action), action).toBe(true);
      expect(can(who('member'), action), action).toBe(true);
      for (const row of rows) expect(can(who('viewer'), action), `${action} (${row})`).toBe(GUIDE_ROWS[row]);
    }
  });

  it('keeps user management and the audit log to admins; everyone manages their own keys', () => {
    expect(ROLES.filter((r) => can(who(r), 'user:manage'))).toEqual(['admin']);
    expect(ROLES.filter((r) => can(who(r), 'audit:view'))).toEqual(['admin']);
    expect(ROLES.filter((r) => can(who(r), 'catalog:list'))).toEqual(['admin', 'member', 'viewer']);
    for (const r of ROLES) expect(can(who(r), 'key:manage-own', { user: `${r}-user` })).toBe(true);
    expect(can(who('member'), 'key:manage-own', { user: 'someone-else' })).toBe(false);
    expect(can(who('admin'), 'key:manage-own', { user: 'someone-else' })).toBe(true);
  });

  it('require throws DENIED naming the user, role, action, target and the role to ask for', () => {
    expect(() => require(who('member'), 'image:push', { repository: 'team/app' })).not.toThrow();
    let err: unknown;
    try {
      require(who('viewer'), 'image:push', { repository: 'team/app' });
    } catch (e) {
      err = e;
    }
    expect(isNcrError(err)).toBe(true);
    const e = err as { code: string; status: number; message: string };
    expect(e.code).toBe('DENIED');
    expect(e.status).toBe(403);
    expect(e.message).toBe('viewer-user has the viewer role, which may not push images (image:push) on team/app: ask an admin for the member role');
    expect(() => require(who('member'), 'user:manage')).toThrow(/member-user has the member role, which may not .* \(user:manage\): ask an admin for the admin role/);
    expect(() => require(who('viewer'), 'key:manage-own', { user: 'bob' })).toThrow(/may not manage another user's access keys and password \(user:manage\) on bob/);
  });

  it('derives the token scope actions a role is granted from the table', () => {
    expect(allowedRepoActions('viewer')).toEqual(['pull']);
    expect(allowedRepoActions('member')).toEqual(['pull', 'push', 'delete']);
    expect(allowedRepoActions('admin')).toEqual(['pull', 'push', 'delete']);
  });

  it('services check the actor a change is recorded as: users by the table, the system (no role) always', () => {
    expect(() => requireActor({ username: null }, 'registry:delete')).not.toThrow();
    expect(() => requireActor({ username: 'vera', role: 'viewer' }, 'registry:delete', { registry: 'team' })).toThrow(/vera has the viewer role, which may not delete registries \(registry:delete\) on team/);
    expect(() => requireActor({ username: 'mo', role: 'member' }, 'tag:create', { repository: 'team/app' })).not.toThrow();
    expect(() => requireActor({ username: 'mo', role: 'member' }, 'key:manage-own', { user: 'ann' })).toThrow(/\(user:manage\) on ann/);
    expect(() => requireActor({ username: 'mo', role: 'member' }, 'key:manage-own', { user: 'mo' })).not.toThrow();
  });
});
