/** Every write in the console goes through useApiMutation: progress state, cache refresh and a success message. */
import { notifications } from '@mantine/notifications';
import { IconAlertTriangle, IconCheck } from '@tabler/icons-react';
import { createElement } from 'react';
import { type QueryKey, useMutation, useQueryClient } from '@tanstack/react-query';
import { errorMessage } from './client';

export interface ApiMutationOptions<V, R> {
  fn: (vars: V) => Promise<R>;
  /** query keys (prefixes) to refetch after success */
  invalidate?: QueryKey[];
  /** the success message; none when omitted */
  success?: (result: R, vars: V) => string;
  /** also show failures as a notification (forms show them inline instead) */
  notifyError?: boolean;
}

export function useApiMutation<V = void, R = unknown>(opts: ApiMutationOptions<V, R>) {
  const qc = useQueryClient();
  return useMutation<R, Error, V>({
    mutationFn: opts.fn,
    onSuccess: async (result, vars) => {
      await Promise.all((opts.invalidate ?? []).map((queryKey) => qc.invalidateQueries({ queryKey })));
      if (opts.success) notifications.show({ color: 'teal', icon: createElement(IconCheck, { size: 18 }), message: opts.success(result, vars) });
    },
    onError: (err) => {
      if (opts.notifyError) notifications.show({ color: 'red', icon: createElement(IconAlertTriangle, { size: 18 }), title: 'That did not work', message: errorMessage(err), autoClose: 8000 });
    },
  });
}
