/** The images of a registry: search, pagination, delete; push commands beside them. */
import { Anchor, Badge, EmptyState, Group, Paper, Stack, Table, Text } from '@mantine/core';
import { IconPhoto } from '@tabler/icons-react';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useDeleteImage, useImages } from '../../api/registries';
import { usePermissions } from '../../api/session';
import type { Image, Registry } from '../../api/types';
import { ConfirmModal } from '../../components/ConfirmModal';
import { DateTime } from '../../components/DateTime';
import { Pager } from '../../components/Pager';
import { LoadError, LoadingRows } from '../../components/QueryState';
import { SearchInput } from '../../components/SearchInput';
import { plural } from '../../lib/format';
import { useListParams } from '../../lib/useListParams';
import { PushCommands } from './PushCommands';
import { DeleteRowButton } from '../../components/DeleteRowButton';

export const imagePath = (registry: string, image: string) => `/registries/${encodeURIComponent(registry)}/images/${image.split('/').map(encodeURIComponent).join('/')}`;

export function ImagesTab({ registry }: { registry: Registry }) {
  const list = useListParams(20);
  const q = useImages(registry.name, { page: list.page, perPage: list.perPage, search: list.search || undefined });
  const { canWrite } = usePermissions();
  const del = useDeleteImage();
  const [deleting, setDeleting] = useState<Image | null>(null);
  const navigate = useNavigate();

  const body = q.isPending ? (
    <LoadingRows />
  ) : q.isError ? (
    <LoadError error={q.error} retry={() => q.refetch()} what="images" />
  ) : q.data.items.length === 0 ? (
    list.search ? (
      <EmptyState my="xl" icon={<IconPhoto size={26} />} title={`No image matches “${list.search}”`} description="Clear the search to see every image." />
    ) : (
      <EmptyState
        my="xl"
        variant="light"
        icon={<IconPhoto size={26} />}
        title="No images yet"
        description={canWrite ? 'Push one with the commands above; it shows up here right away.' : 'Images appear here once a member pushes them.'}
      />
    )
  ) : (
    <Table.ScrollContainer minWidth={620}>
      <Table highlightOnHover aria-label={`Images in ${registry.name}`}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Image</Table.Th>
            <Table.Th>Artifacts</Table.Th>
            <Table.Th>Last pushed</Table.Th>
            <Table.Th>Last pulled</Table.Th>
            {canWrite && (
              <Table.Th w={56}>
                <span className="visually-hidden">Actions</span>
              </Table.Th>
            )}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {q.data.items.map((img) => (
            <Table.Tr key={img.name} className="clickable-row" onClick={() => navigate(imagePath(registry.name, img.name))}>
              <Table.Td>
                <Anchor component={Link} to={imagePath(registry.name, img.name)} fw={600} onClick={(e) => e.stopPropagation()}>
                  {img.name}
                </Anchor>
              </Table.Td>
              <Table.Td>
                <Group gap={6} wrap="nowrap">
                  <Text size="sm">{plural(img.artifactCount, 'artifact')}</Text>
                  <Badge variant="light" color="gray" size="sm">
                    {plural(img.tagCount, 'tag')}
                  </Badge>
                </Group>
              </Table.Td>
              <Table.Td>
                <DateTime value={img.updatedAt} />
              </Table.Td>
              <Table.Td>
                <DateTime value={img.pulledAt} />
              </Table.Td>
              {canWrite && (
                <DeleteRowButton title="Delete image" what={img.name} onDelete={() => setDeleting(img)} />
              )}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );

  // An empty registry leads with how to push; once it holds images, the list comes first.
  const empty = registry.imageCount === 0 && !list.search;
  return (
    <Stack gap="lg">
      {empty && <PushCommands registry={registry} />}
      <Paper withBorder p={{ base: 'sm', sm: 'md' }}>
        {(list.search || (q.data?.total ?? 0) > 0) && (
          <Group justify="space-between" mb="md">
            <SearchInput label="Search images" value={list.search} onChange={list.setSearch} />
          </Group>
        )}
        {body}
        {q.data && <Pager page={list.page} perPage={list.perPage} total={q.data.total} onChange={list.setPage} noun="image" />}
      </Paper>
      {!empty && <PushCommands registry={registry} />}
      <ConfirmModal
        opened={Boolean(deleting)}
        onClose={() => setDeleting(null)}
        title={`Delete image ${deleting?.name ?? ''}?`}
        confirmLabel="Delete image"
        onConfirm={() => del.mutateAsync({ registry: registry.name, image: deleting!.name })}
      >
        <Text size="sm">
          This deletes <b>{registry.name}/{deleting?.name}</b> with {plural(deleting?.artifactCount ?? 0, 'artifact')} and {plural(deleting?.tagCount ?? 0, 'tag')}. Pulls of it will fail. This cannot be undone.
        </Text>
      </ConfirmModal>
    </Stack>
  );
}
