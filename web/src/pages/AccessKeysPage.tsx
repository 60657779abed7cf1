/**
 * API security: your access keys (created, last used, flagged after 90 days), create (secret shown once), regenerate
 * and delete. Docker, Podman and the API log in with a key; the console uses your password.
 */
import { Alert, Badge, Button, EmptyState, Group, Menu, Paper, Table, Text, Tooltip } from '@mantine/core';
import { IconAlertTriangle, IconKey, IconPlus, IconRefresh, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { useAccessKeys, useCreateAccessKey, useDeleteAccessKey, useRegenerateAccessKey } from '../api/users';
import type { AccessKey, NewAccessKey } from '../api/types';
import { ConfirmModal } from '../components/ConfirmModal';
import { CopyButton } from '../components/CopyButton';
import { DateTime } from '../components/DateTime';
import { PageHeader } from '../components/PageHeader';
import { LoadError, LoadingRows } from '../components/QueryState';
import { SecretModal } from './SecretModal';
import { RowActions } from '../components/RowActions';

export const MAX_KEYS = 5;

export function AccessKeysPage() {
  const q = useAccessKeys();
  const create = useCreateAccessKey();
  const regenerate = useRegenerateAccessKey();
  const del = useDeleteAccessKey();
  const [secret, setSecret] = useState<{ key: NewAccessKey; regenerated: boolean } | null>(null);
  const [deleting, setDeleting] = useState<AccessKey | null>(null);
  const [regenerating, setRegenerating] = useState<AccessKey | null>(null);
  const keys = q.data?.items ?? [];
  const full = keys.length >= MAX_KEYS;

  const createButton = (
    <Tooltip label={`At most ${MAX_KEYS} keys: delete one first`} disabled={!full}>
      <Button leftSection={<IconPlus size={16} />} loading={create.isPending} disabled={full || q.isPending} onClick={() => create.mutate(undefined, { onSuccess: (key) => setSecret({ key, regenerated: false }) })}>
        Create access key
      </Button>
    </Tooltip>
  );

  return (
    <>
      <PageHeader title="API security" subtitle="Access keys log Docker, Podman, scripts and the API in to ncr: the access key is the username, the secret key the password." actions={createButton} />
      {keys.some((k) => k.rotationDue) && (
        <Alert color="orange" icon={<IconAlertTriangle size={18} />} mb="md" title="Some keys are older than 90 days">
          Regenerate them (new secret, same access key) and update the places that use them.
        </Alert>
      )}
      <Paper withBorder p={{ base: 'sm', sm: 'md' }}>
        <Group justify="space-between" mb="sm">
          <Text size="sm" c="dimmed">
            {keys.length} of {MAX_KEYS} keys used. A lost secret cannot be shown again: regenerate the key instead.
          </Text>
        </Group>
        {q.isPending ? (
          <LoadingRows rows={2} />
        ) : q.isError ? (
          <LoadError error={q.error} retry={() => q.refetch()} what="access keys" />
        ) : keys.length === 0 ? (
          <EmptyState my="xl" variant="light" icon={<IconKey size={26} />} title="No access keys" description="Create one to log in with docker login, podman login or the API.">
            <EmptyState.Actions>{createButton}</EmptyState.Actions>
          </EmptyState>
        ) : (
          <Table.ScrollContainer minWidth={640}>
            <Table aria-label="Access keys">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Access key</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th>Last used</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th w={56}>
                    <span className="visually-hidden">Actions</span>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {keys.map((k) => (
                  <Table.Tr key={k.id}>
                    <Table.Td>
                      <Group gap={2} wrap="nowrap">
                        <Text className="mono" fw={600}>
                          {k.accessKey}
                        </Text>
                        <CopyButton value={k.accessKey} label={`Copy access key ${k.accessKey}`} />
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <DateTime value={k.createdAt} />
                    </Table.Td>
                    <Table.Td>
                      <DateTime value={k.lastUsedAt} relative />
                    </Table.Td>
                    <Table.Td>
                      {k.rotationDue ? (
                        <Tooltip label="Older than 90 days: regenerate it">
                          <Badge color="orange" variant="light">
                            Rotate
                          </Badge>
                        </Tooltip>
                      ) : (
                        <Badge color="teal" variant="light">
                          Active
                        </Badge>
                      )}
                    </Table.Td>
                    <RowActions what={k.accessKey}>
                          <Menu.Item leftSection={<IconRefresh size={16} />} onClick={() => setRegenerating(k)}>
                            Regenerate secret
                          </Menu.Item>
                          <Menu.Item color="red" leftSection={<IconTrash size={16} />} onClick={() => setDeleting(k)}>
                            Delete key
                          </Menu.Item>
                    </RowActions>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Paper>
      <SecretModal secret={secret?.key ?? null} regenerated={secret?.regenerated ?? false} onClose={() => setSecret(null)} />
      <ConfirmModal opened={Boolean(deleting)} onClose={() => setDeleting(null)} title={`Delete access key ${deleting?.accessKey ?? ''}?`} confirmLabel="Delete key" onConfirm={() => del.mutateAsync(deleting!)}>
        <Text size="sm">Everything that logs in with this key (docker login, CI jobs, scripts) stops working at once. This cannot be undone.</Text>
      </ConfirmModal>
      <ConfirmModal
        opened={Boolean(regenerating)}
        onClose={() => setRegenerating(null)}
        title={`Regenerate the secret of ${regenerating?.accessKey ?? ''}?`}
        confirmLabel="Regenerate secret"
        onConfirm={async () => setSecret({ key: await regenerate.mutateAsync(regenerating!.id), regenerated: true })}
      >
        <Text size="sm">The access key stays the same; the old secret key stops working at once. The new secret is shown once.</Text>
      </ConfirmModal>
    </>
  );
}
