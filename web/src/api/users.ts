/** Users (admins), the signed-in user's password and access keys. */
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, query, seg } from './client';
import { useApiMutation } from './mutation';
import type { AccessKey, NewAccessKey, Page, Role, User } from './types';

export function useUsers(p: { page: number; perPage: number }) {
  return useQuery({ queryKey: ['users', p], queryFn: () => api<Page<User>>('GET', `/users${query(p)}`), placeholderData: keepPreviousData });
}

export function useCreateUser() {
  return useApiMutation<{ username: string; role: Role; password?: string }, User>({
    fn: (body) => api<User>('POST', '/users', body),
    invalidate: [['users']],
    success: (u) => `User ${u.username} added as ${u.role}.`,
  });
}

export function useSetRole() {
  return useApiMutation<{ username: string; role: Role }, User>({
    fn: ({ username, role }) => api<User>('PATCH', `/users/${seg(username)}`, { role }),
    invalidate: [['users'], ['session']],
    success: (u) => `${u.username} is now ${u.role}.`,
    notifyError: true,
  });
}

export function useDeleteUser() {
  return useApiMutation<string, void>({
    fn: (username) => api<void>('DELETE', `/users/${seg(username)}`),
    invalidate: [['users']],
    success: (_r, username) => `User ${username} removed, with their access keys.`,
  });
}

/** Sets a password: your own ('me'), or anyone's for an admin. */
export function useSetPassword() {
  return useApiMutation<{ username: string; password: string }, User>({
    fn: ({ username, password }) => api<User>('PATCH', `/users/${seg(username)}`, { password }),
    invalidate: [['users']],
    success: (_u, v) => (v.username === 'me' ? 'Your password has been changed.' : `Password of ${v.username} changed; their console sessions were signed out.`),
  });
}

export function useAccessKeys() {
  return useQuery({ queryKey: ['access-keys'], queryFn: () => api<{ items: AccessKey[] }>('GET', '/users/me/access-keys') });
}

export function useCreateAccessKey() {
  return useApiMutation<void, NewAccessKey>({
    fn: () => api<NewAccessKey>('POST', '/users/me/access-keys'),
    invalidate: [['access-keys']],
    success: (k) => `Access key ${k.accessKey} created.`,
    notifyError: true,
  });
}

export function useRegenerateAccessKey() {
  return useApiMutation<string, NewAccessKey>({
    fn: (id) => api<NewAccessKey>('POST', `/users/me/access-keys/${seg(id)}/regenerate`),
    invalidate: [['access-keys']],
    success: (k) => `New secret for ${k.accessKey}: the old one no longer works.`,
  });
}

export function useDeleteAccessKey() {
  return useApiMutation<AccessKey, void>({
    fn: (k) => api<void>('DELETE', `/users/me/access-keys/${seg(k.id)}`),
    invalidate: [['access-keys']],
    success: (_r, k) => `Access key ${k.accessKey} deleted. Logins with it stop working.`,
  });
}
