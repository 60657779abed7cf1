/** Docker token scopes: `repository:<name>:<actions>` and `registry:catalog:*`. */
import { allowedRepoActions, roleMay } from './permissions.js';
import type { RepoAction, Role } from './roles.js';

export interface Access {
  type: 'repository' | 'registry';
  name: string;
  actions: string[];
}

/** Parses the space- or repeated-parameter-separated scopes; unknown or malformed entries are dropped. */
export function parseScopes(scopes: string[]): Access[] {
  const out: Access[] = [];
  for (const raw of scopes.flatMap((s) => s.split(' ')).filter(Boolean)) {
    const first = raw.indexOf(':');
    const last = raw.lastIndexOf(':');
    if (first <= 0 || last === first) continue;
    const type = raw.slice(0, first);
    const name = raw.slice(first + 1, last);
    const actions = raw.slice(last + 1).split(',').filter(Boolean);
    if ((type === 'repository' || type === 'registry') && name) out.push({ type, name, actions });
  }
  return out;
}

/** What a role is granted of what was asked: requested ∩ allowed. `*` on a repository means every allowed action. */
export function grant(role: Role, requested: Access[]): Access[] {
  const merged = new Map<string, Access>();
  for (const a of requested) {
    let actions: string[];
    if (a.type === 'repository') {
      const allowed = allowedRepoActions(role);
      actions = a.actions.includes('*') ? allowed : a.actions.filter((x): x is RepoAction => (allowed as string[]).includes(x));
    } else {
      actions = a.name === 'catalog' && a.actions.includes('*') && roleMay(role, 'catalog:list') ? ['*'] : [];
    }
    const key = `${a.type}:${a.name}`;
    const prev = merged.get(key);
    merged.set(key, { type: a.type, name: a.name, actions: [...new Set([...(prev?.actions ?? []), ...actions])] });
  }
  return [...merged.values()];
}

export function tokenAllows(access: Access[], type: Access['type'], name: string, action: string): boolean {
  return access.some((a) => a.type === type && a.name === name && (a.actions.includes(action) || a.actions.includes('*')));
}

export function formatScope(type: string, name: string, actions: string[]): string {
  return `${type}:${name}:${actions.join(',')}`;
}
