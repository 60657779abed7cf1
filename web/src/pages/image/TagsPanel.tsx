/** The tags of one artifact: search, Create Tag, Delete Tag (the artifact stays). */
import { Button, EmptyState, Group, Table, Text } from '@mantine/core';
import { IconPlus, IconTag } from '@tabler/icons-react';
import { useState } from 'react';
import { type ImageRef, useDeleteTag, useTags } from '../../api/images';
import { usePermissions } from '../../api/session';
import { ConfirmModal } from '../../components/ConfirmModal';
import { CopyButton } from '../../components/CopyButton';
import { DateTime } from '../../components/DateTime';
import { Pager } from '../../components/Pager';
import { LoadError, LoadingRows } from '../../components/QueryState';
import { SearchInput } from '../../components/SearchInput';
import { CreateTagModal } from './CreateTagModal';
import { DeleteRowButton } from '../../components/DeleteRowButton';

const PER_PAGE = 10;

export function TagsPanel({ imageRef, digest }: { imageRef: ImageRef; digest: string }) {
  const [search, setSearch] = useState('');
  const [page, setPage] = useState(1);
  const q = useTags(imageRef, { digest, search: search || undefined, page, perPage: PER_PAGE });
  const { canWrite } = usePermissions();
  const del = useDeleteTag(imageRef);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<string | null>(null);
  const address = `${imageRef.registry}/${imageRef.image}`;

  return (
    <>
      <Group justify="space-between" mb="md" gap="sm">
        <SearchInput
          label="Search tags"
          value={search}
          onChange={(v) => {
            setSearch(v);
            setPage(1);
          }}
        />
        {canWrite && (
          <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
            Create tag
          </Button>
        )}
      </Group>
      {q.isPending ? (
        <LoadingRows rows={3} />
      ) : q.isError ? (
        <LoadError error={q.error} retry={() => q.refetch()} what="tags" />
      ) : q.data.items.length === 0 ? (
        <EmptyState
          my="md"
          size="sm"
          icon={<IconTag size={22} />}
          title={search ? `No tag matches “${search}”` : 'No tags'}
          description={search ? 'Clear the search to see every tag of this artifact.' : canWrite ? 'Create a tag to pull this artifact by name.' : 'This artifact can be pulled by digest.'}
        />
      ) : (
        <Table.ScrollContainer minWidth={480}>
          <Table highlightOnHover aria-label="Tags">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Tag</Table.Th>
                <Table.Th>Pushed</Table.Th>
                <Table.Th>Last pulled</Table.Th>
                {canWrite && (
                  <Table.Th w={56}>
                    <span className="visually-hidden">Actions</span>
                  </Table.Th>
                )}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {q.data.items.map((t) => (
                <Table.Tr key={t.name}>
                  <Table.Td>
                    <Group gap={2} wrap="nowrap">
                      <Text fw={600} size="sm" className="mono">
                        {t.name}
                      </Text>
                      <CopyButton value={`${address}:${t.name}`} label={`Copy ${address}:${t.name}`} />
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    <DateTime value={t.pushedAt} />
                  </Table.Td>
                  <Table.Td>
                    <DateTime value={t.pulledAt} />
                  </Table.Td>
                  {canWrite && (
                    <DeleteRowButton title="Delete tag" what={t.name} onDelete={() => setDeleting(t.name)} />
                  )}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {q.data && <Pager page={page} perPage={PER_PAGE} total={q.data.total} onChange={setPage} noun="tag" />}
      <CreateTagModal opened={creating} onClose={() => setCreating(false)} imageRef={imageRef} digest={digest} />
      <ConfirmModal opened={Boolean(deleting)} onClose={() => setDeleting(null)} title={`Delete tag ${deleting ?? ''}?`} confirmLabel="Delete tag" onConfirm={() => del.mutateAsync(deleting!)}>
        <Text size="sm">
          Pulls of <code>{address}:{deleting}</code> will fail. The artifact and its other tags stay, and it can still be pulled by digest.
        </Text>
      </ConfirmModal>
    </>
  );
}
