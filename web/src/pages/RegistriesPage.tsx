/** Registries: list (name, address to push to, images, storage, created), search, create and delete. */
import { Anchor, Badge, Button, EmptyState, Group, Paper, Table, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconBox, IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useRegistries } from '../api/registries';
import { usePermissions } from '../api/session';
import type { Registry } from '../api/types';
import { CopyButton } from '../components/CopyButton';
import { DateTime } from '../components/DateTime';
import { PageHeader } from '../components/PageHeader';
import { Pager } from '../components/Pager';
import { LoadError, LoadingRows } from '../components/QueryState';
import { SearchInput } from '../components/SearchInput';
import { formatBytes } from '../lib/format';
import { useListParams } from '../lib/useListParams';
import { CreateRegistryModal } from './CreateRegistryModal';
import { DeleteRegistryModal } from './DeleteRegistryModal';
import { DeleteRowButton } from '../components/DeleteRowButton';

export function RegistriesPage() {
  const list = useListParams(20);
  const q = useRegistries({ page: list.page, perPage: list.perPage, search: list.search || undefined });
  const { canWrite } = usePermissions();
  const [creating, create] = useDisclosure(false);
  const [deleting, setDeleting] = useState<Registry | null>(null);
  const navigate = useNavigate();

  const createButton = canWrite && (
    <Button leftSection={<IconPlus size={16} />} onClick={create.open}>
      Create registry
    </Button>
  );

  return (
    <>
      <PageHeader title="Registries" subtitle="Each registry is a namespace: push images to its address, e.g. ADDRESS/app:1.0." actions={createButton} />
      <Paper withBorder p={{ base: 'sm', sm: 'md' }}>
        {(list.search || (q.data?.total ?? 0) > 0) && (
          <Group justify="space-between" mb="md">
            <SearchInput label="Search registries" value={list.search} onChange={list.setSearch} />
          </Group>
        )}
        {q.isPending ? (
          <LoadingRows />
        ) : q.isError ? (
          <LoadError error={q.error} retry={() => q.refetch()} what="registries" />
        ) : q.data.items.length === 0 ? (
          list.search ? (
            <EmptyState my="xl" icon={<IconBox size={26} />} title={`No registry matches “${list.search}”`} description="Check the spelling, or clear the search to see every registry." />
          ) : (
            <EmptyState
              my="xl"
              variant="light"
              icon={<IconBox size={26} />}
              title="No registries yet"
              description={canWrite ? 'Create a registry, then log in with Docker and push images to its address.' : 'An admin or member creates registries; you can view and pull from them.'}
            >
              {createButton && <EmptyState.Actions>{createButton}</EmptyState.Actions>}
            </EmptyState>
          )
        ) : (
          <Table.ScrollContainer minWidth={760}>
            <Table highlightOnHover aria-label="Registries">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Address</Table.Th>
                  <Table.Th ta="right">Images</Table.Th>
                  <Table.Th ta="right">Storage</Table.Th>
                  <Table.Th>Created</Table.Th>
                  {canWrite && <Table.Th w={56}><span className="visually-hidden">Actions</span></Table.Th>}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {q.data.items.map((r) => (
                  <Table.Tr key={r.name} className="clickable-row" onClick={() => navigate(`/registries/${encodeURIComponent(r.name)}`)}>
                    <Table.Td>
                      <Anchor component={Link} to={`/registries/${encodeURIComponent(r.name)}`} fw={600} onClick={(e) => e.stopPropagation()}>
                        {r.name}
                      </Anchor>
                      {r.kind === 'cache' && (
                        <Text size="xs" c="dimmed">
                          <Badge size="xs" variant="light" color="grape" mr={4}>
                            Image cache
                          </Badge>
                          of {r.endpoint?.name ?? '?'}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <Text className="mono" c="dark.4">
                          {r.address}
                        </Text>
                        <CopyButton value={r.address} label={`Copy address ${r.address}`} />
                      </Group>
                    </Table.Td>
                    <Table.Td ta="right">{r.imageCount.toLocaleString()}</Table.Td>
                    <Table.Td ta="right" style={{ whiteSpace: 'nowrap' }}>
                      {formatBytes(r.storageBytes)}
                      {r.quotaBytes !== null && (
                        <Text span size="xs" c={r.storageBytes >= r.quotaBytes * 0.85 ? 'orange.8' : 'dimmed'}>
                          {' '}
                          of {formatBytes(r.quotaBytes)}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <DateTime value={r.createdAt} />
                      {r.createdBy && (
                        <Text size="xs" c="dimmed">
                          by {r.createdBy}
                        </Text>
                      )}
                    </Table.Td>
                    {canWrite && (
                      <DeleteRowButton title="Delete registry" what={r.name} onDelete={() => setDeleting(r)} />
                    )}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        {q.data && <Pager page={list.page} perPage={list.perPage} total={q.data.total} onChange={list.setPage} noun="registry" />}
      </Paper>
      <CreateRegistryModal opened={creating} onClose={create.close} onCreated={(r) => navigate(`/registries/${encodeURIComponent(r.name)}`)} />
      <DeleteRegistryModal registry={deleting} onClose={() => setDeleting(null)} />
    </>
  );
}
