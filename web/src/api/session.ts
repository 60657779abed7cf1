/** The console session: who is signed in, sign-in and sign-out. */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, setCsrfToken } from './client';
import { useApiMutation } from './mutation';
import type { Role, Session } from './types';

export const sessionKey = ['session'] as const;

async function fetchSession(): Promise<Session | null> {
  try {
    const s = await api<Session>('GET', '/session');
    setCsrfToken(s.csrfToken);
    return s;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      setCsrfToken(undefined);
      return null;
    }
    throw err;
  }
}

/** The session, or null when signed out. */
export function useSession() {
  return useQuery({ queryKey: sessionKey, queryFn: fetchSession, staleTime: 60_000, retry: 1 });
}

/** The signed-in user's permissions, as the guide's "Service Permission" table has them. */
export function usePermissions() {
  const role: Role | undefined = useSession().data?.user.role;
  return { role, canWrite: role === 'admin' || role === 'member', isAdmin: role === 'admin' };
}

export function useSignIn() {
  const qc = useQueryClient();
  return useApiMutation<{ username: string; password: string }, Session>({
    fn: async (body) => {
      const s = await api<Session>('POST', '/session', body);
      setCsrfToken(s.csrfToken);
      qc.setQueryData(sessionKey, s);
      return s;
    },
  });
}

export function useSignOut() {
  const qc = useQueryClient();
  return useApiMutation<void, void>({
    fn: async () => {
      await api<void>('DELETE', '/session');
      setCsrfToken(undefined);
      qc.clear();
      qc.setQueryData(sessionKey, null);
    },
    notifyError: true,
  });
}
