/** Page and search of a list, kept in the URL (?page=2&q=web) so links, reload and Back keep them. */
import { useCallback } from 'react';
import { useSearchParams } from 'react-router';

export function useListParams(perPage = 20, prefix = '') {
  const [params, setParams] = useSearchParams();
  const page = Math.max(1, Number(params.get(`${prefix}page`)) || 1);
  const search = params.get(`${prefix}q`) ?? '';
  const update = useCallback(
    (patch: Record<string, string | undefined>) =>
      setParams(
        (prev) => {
          const next = new URLSearchParams(prev);
          for (const [k, v] of Object.entries(patch)) if (v) next.set(k, v); else next.delete(k);
          return next;
        },
        { replace: true },
      ),
    [setParams],
  );
  return {
    page,
    perPage,
    search,
    setPage: (p: number) => update({ [`${prefix}page`]: p > 1 ? String(p) : undefined }),
    setSearch: (q: string) => update({ [`${prefix}q`]: q || undefined, [`${prefix}page`]: undefined }),
  };
}
