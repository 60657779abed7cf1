/** The roles of the guide's "Service Permission" table, as the console names and colours them. */
import type { Role } from '../api/types';

export const ROLE_COLOR: Record<Role, string> = { admin: 'grape', member: 'blue', viewer: 'gray' };

export const ROLE_OPTIONS: { value: Role; label: string }[] = [
  { value: 'admin', label: 'Admin — everything, and users' },
  { value: 'member', label: 'Member — push, pull, delete' },
  { value: 'viewer', label: 'Viewer — view and pull' },
];
