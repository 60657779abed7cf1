/**
 * Who may do what: one table from the guide's "Service Permission" section, and `can` / `require` over it. Every entry
 * point (/v2, /api/v1 with keys or the console session, and later the jobs) asks here, so a role's reach is read in one
 * place. Pure: a function of (principal, action, resource), with no HTTP or storage in sight.
 */
import { NcrError } from '../../oci/errors.js';
import { ROLES, type RepoAction, type Role } from './roles.js';

const EVERYONE: readonly Role[] = ROLES;
const WRITERS: readonly Role[] = ['admin', 'member'];
const ADMINS: readonly Role[] = ['admin'];

export interface Permission {
  /** The roles allowed. */
  roles: readonly Role[];
  /** What the action does, as a person would say it after "may not". */
  does: string;
  /** The rows of the guide's "Service Permission" table this action stands for; empty for ncr's own actions. */
  guide: readonly string[];
}

/**
 * Every action, the roles allowed and the guide's rows it covers. Admin and member may do everything in the guide's
 * table; viewer the view and pull rows; managing users (and reading the audit log of everyone's writes) is the admin's
 * alone; everyone manages their own access keys and password.
 */
export const PERMISSIONS = {
  'registry:view': { roles: EVERYONE, does: 'view registries', guide: ['View registries'] },
  'registry:create': { roles: WRITERS, does: 'create registries', guide: ['Create/Delete registries'] },
  'registry:delete': { roles: WRITERS, does: 'delete registries', guide: ['Create/Delete registries'] },
  'replication:view': { roles: EVERYONE, does: 'view replications', guide: ['View a registry replication list', 'View a registry replication history'] },
  'replication:change': { roles: WRITERS, does: 'create, change, delete or run replications', guide: ['Create/Modify/Delete/Run registry replications'] },
  'image:view': { roles: EVERYONE, does: 'view images', guide: ['View images'] },
  'image:pull': { roles: EVERYONE, does: 'pull images', guide: ['Pull images'] },
  'image:push': { roles: WRITERS, does: 'push images', guide: ['Push images'] },
  'image:delete': { roles: WRITERS, does: 'delete images', guide: ['Delete images'] },
  'artifact:view': { roles: EVERYONE, does: 'view artifacts', guide: ['View artifacts'] },
  'artifact:delete': { roles: WRITERS, does: 'delete artifacts', guide: ['Delete artifacts'] },
  'tag:view': { roles: EVERYONE, does: 'view tags', guide: ['View artifact tags'] },
  'tag:create': { roles: WRITERS, does: 'create tags', guide: ['Create/Delete artifact tags'] },
  'tag:delete': { roles: WRITERS, does: 'delete tags', guide: ['Create/Delete artifact tags'] },
  'webhook:view': { roles: EVERYONE, does: 'view webhooks', guide: ['View webhook'] },
  'webhook:change': { roles: WRITERS, does: 'create, change or delete webhooks', guide: ['Create/Modify/Delete webhooks'] },
  'cleanup:view': { roles: EVERYONE, does: 'view image cleanup policies and history', guide: ['View image cleanup policy', 'View image cleanup history'] },
  'cleanup:change': { roles: WRITERS, does: 'create, delete, enable or disable image cleanup policies', guide: ['Create/Delete/Run image cleanup policy', 'Enable/Disable image cleanup rule'] },
  'cleanup:run': { roles: WRITERS, does: 'run image cleanup policies', guide: ['Create/Delete/Run image cleanup policy'] },
  'protection:view': { roles: EVERYONE, does: 'view image protection policies', guide: ['View image protection policy'] },
  'protection:change': { roles: WRITERS, does: 'add or delete image protection policies', guide: ['Add/Delete image protection policy'] },
  'scan:view': { roles: EVERYONE, does: 'view scan results, scan settings and CVE allow lists', guide: [] },
  'scan:run': { roles: WRITERS, does: 'scan artifacts or stop their scans', guide: [] },
  'scan:change': { roles: WRITERS, does: "change a registry's scan settings (auto scan, prevent pull) and its CVE allow list", guide: [] },
  'scan:global': { roles: ADMINS, does: 'change the service-wide scan schedule and common CVE allow list, or import vulnerability data', guide: [] },
  // ncr's own actions, beyond the guide's table
  'trust:view': { roles: EVERYONE, does: "view a registry's signing keys and its pull policy for unsigned images", guide: [] },
  'trust:change': { roles: WRITERS, does: "add or delete a registry's signing keys and set its pull policy for unsigned images", guide: [] },
  'trust:global': { roles: ADMINS, does: 'add or delete signing keys trusted in every registry', guide: [] },
  'endpoint:view': { roles: EVERYONE, does: 'view remote registry endpoints (replication targets, image cache sources)', guide: [] },
  'endpoint:change': { roles: WRITERS, does: 'create, change, check or delete remote registry endpoints', guide: [] },
  'quota:change': { roles: ADMINS, does: "set or lift a registry's storage quota", guide: [] },
  'catalog:list': { roles: EVERYONE, does: 'list every repository (/v2/_catalog)', guide: [] },
  'user:manage': { roles: ADMINS, does: "manage users, their roles and other users' access keys", guide: [] },
  'key:manage-own': { roles: EVERYONE, does: 'manage their own access keys and password', guide: [] },
  'audit:view': { roles: ADMINS, does: 'read the audit log', guide: [] },
  'execution:view': { roles: EVERYONE, does: 'view runs (executions) and their tasks', guide: [] },
  'execution:stop': { roles: WRITERS, does: 'stop a run (execution)', guide: [] },
  'gc:view': { roles: ADMINS, does: 'view garbage collection runs and schedule', guide: [] },
  'gc:run': { roles: ADMINS, does: 'run, dry-run or schedule garbage collection', guide: [] },
  'jobs:manage': { roles: ADMINS, does: 'view and cancel background jobs and schedules', guide: [] },
} as const satisfies Record<string, Permission>;

export type Action = keyof typeof PERMISSIONS;
export const ACTIONS = Object.keys(PERMISSIONS) as Action[];

/** Who is asking: what `can` needs of a principal. */
export interface Subject {
  username: string;
  role: Role;
}

/**
 * What the action is on. Today it names the target in messages and decides "own" for key:manage-own; narrower grants
 * (per registry) would plug in here.
 */
export interface Resource {
  registry?: string;
  repository?: string;
  /** the user whose keys or password are acted on */
  user?: string;
}

/** The actions a /v2 request can take on a repository, and the token scope action each needs. */
export const REPO_SCOPE = {
  'image:pull': 'pull',
  'artifact:view': 'pull',
  'tag:view': 'pull',
  'image:push': 'push',
  'tag:create': 'push',
  'image:delete': 'delete',
  'artifact:delete': 'delete',
  'tag:delete': 'delete',
} as const satisfies Partial<Record<Action, RepoAction>>;
export type RepoPermission = keyof typeof REPO_SCOPE;

/** May the role take the action at all (on anything)? */
export function roleMay(role: Role, action: Action): boolean {
  return (PERMISSIONS[action].roles as readonly Role[]).includes(role);
}

/** May the principal take the action on the resource? key:manage-own on another user's account needs user:manage. */
export function can(principal: Subject, action: Action, resource: Resource = {}): boolean {
  if (action === 'key:manage-own' && resource.user !== undefined && resource.user !== principal.username) return roleMay(principal.role, 'user:manage');
  return roleMay(principal.role, action);
}

/** As `can`, but throws NcrError DENIED naming the user, their role, the action and what to ask an admin for. */
export function require(principal: Subject, action: Action, resource: Resource = {}): void {
  if (can(principal, action, resource)) return;
  const other = action === 'key:manage-own' && resource.user !== undefined && resource.user !== principal.username;
  const needed: Action = other ? 'user:manage' : action;
  const does = other ? `manage another user's access keys and password` : PERMISSIONS[needed].does;
  const target = resource.repository ?? resource.registry ?? resource.user;
  const lowest = ROLES.slice().reverse().find((r) => roleMay(r, needed));
  throw new NcrError(
    'DENIED',
    `${principal.username} has the ${principal.role} role, which may not ${does} (${needed})${target ? ` on ${target}` : ''}: ask an admin for the ${lowest} role`,
    { detail: { action: needed, role: principal.role } },
  );
}

/**
 * What services call before a write: the same table, applied to whoever the change is recorded as. The system (jobs,
 * first start: an actor without a role) may do what its code does; a user must be allowed by `can`.
 */
export function requireActor(actor: { username: string | null; role?: Role }, action: Action, resource: Resource = {}): void {
  if (actor.role === undefined) return;
  require({ username: actor.username ?? '(unknown)', role: actor.role }, action, resource);
}

/** The repository actions (token scope actions) a role may ever take: what a token for it is granted at most. */
export function allowedRepoActions(role: Role): RepoAction[] {
  const out = new Set<RepoAction>();
  for (const [action, scope] of Object.entries(REPO_SCOPE) as [RepoPermission, RepoAction][]) if (roleMay(role, action)) out.add(scope);
  return [...out];
}
