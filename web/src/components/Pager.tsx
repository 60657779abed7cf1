/** "21–40 of 87 images" and page buttons (only when there is more than one page). `noun` is singular. */
import { Group, Pagination, Text } from '@mantine/core';
import { plural } from '../lib/format';

export function Pager({ page, perPage, total, onChange, noun = 'item' }: { page: number; perPage: number; total: number; onChange: (p: number) => void; noun?: string }) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  if (total === 0) return null;
  const from = (page - 1) * perPage + 1;
  const to = Math.min(total, page * perPage);
  return (
    <Group justify="space-between" mt="md" gap="sm">
      <Text size="sm" c="dimmed" aria-live="polite">
        {total <= perPage ? plural(total, noun) : `${from.toLocaleString()}–${to.toLocaleString()} of ${plural(total, noun)}`}
      </Text>
      {pages > 1 && <Pagination total={pages} value={Math.min(page, pages)} onChange={onChange} size="sm" aria-label="Pages" />}
    </Group>
  );
}
