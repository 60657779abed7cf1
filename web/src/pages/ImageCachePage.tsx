/**
 * The "Image Cache" tab (the guide's "Use Image Cache"): the source registries image cache registries pull from,
 * with Create / Modify / Delete Image Cache and Refresh (check now). An image cache registry is then created on the
 * Registries page with the purpose "Image Cache".
 */
import { ActionIcon, Alert, Anchor, Badge, Button, EmptyState, Group, Modal, Paper, PasswordInput, Select, Stack, Table, Text, TextInput, Tooltip } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconAlertTriangle, IconCloudDownload, IconPencil, IconPlus, IconRefresh } from '@tabler/icons-react';
import { type FormEvent, useEffect, useState } from 'react';
import { errorMessage } from '../api/client';
import { useCheckEndpoint, useCreateEndpoint, useDeleteEndpoint, useEndpointProviders, useEndpoints, useUpdateEndpoint } from '../api/endpoints';
import { usePermissions } from '../api/session';
import type { Endpoint, EndpointInput, EndpointProvider } from '../api/types';
import { ConfirmModal } from '../components/ConfirmModal';
import { DateTime } from '../components/DateTime';
import { DeleteRowButton } from '../components/DeleteRowButton';
import { PageHeader } from '../components/PageHeader';
import { LoadError, LoadingRows } from '../components/QueryState';

const STATUS_COLOR = { reachable: 'teal', unreachable: 'red', unchecked: 'gray' } as const;

export function ImageCachePage() {
  const q = useEndpoints();
  const providers = useEndpointProviders();
  const { canWrite } = usePermissions();
  const [creating, create] = useDisclosure(false);
  const [editing, setEditing] = useState<Endpoint | null>(null);
  const [deleting, setDeleting] = useState<Endpoint | null>(null);
  const check = useCheckEndpoint();
  const del = useDeleteEndpoint();
  const title = (p: string) => providers.data?.items.find((x) => x.provider === p)?.title ?? p;

  const createButton = canWrite && (
    <Button leftSection={<IconPlus size={16} />} onClick={create.open}>
      Create Image Cache
    </Button>
  );

  return (
    <>
      <PageHeader
        title="Image Cache"
        subtitle="Source registries an image cache registry pulls from and keeps a copy of. Create one here, then create a registry with the purpose Image Cache and pull ADDRESS/REGISTRY/IMAGE:TAG."
        actions={createButton}
      />
      <Paper withBorder p={{ base: 'sm', sm: 'md' }}>
        {q.isPending ? (
          <LoadingRows />
        ) : q.isError ? (
          <LoadError error={q.error} retry={() => q.refetch()} what="image caches" />
        ) : q.data.items.length === 0 ? (
          <EmptyState
            my="xl"
            variant="light"
            icon={<IconCloudDownload size={26} />}
            title="No image caches yet"
            description={canWrite ? 'Register a source registry (Docker Hub, ECR, ACR, GCR, Harbor, Quay, another NCR or any Docker registry) to cache its images.' : 'An admin or member registers source registries.'}
          >
            {createButton && <EmptyState.Actions>{createButton}</EmptyState.Actions>}
          </EmptyState>
        ) : (
          <Table.ScrollContainer minWidth={760}>
            <Table aria-label="Image caches">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Source registry type</Table.Th>
                  <Table.Th>URL</Table.Th>
                  <Table.Th>Access ID</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Modified</Table.Th>
                  {canWrite && (
                    <Table.Th w={110} colSpan={2}>
                      <span className="visually-hidden">Actions</span>
                    </Table.Th>
                  )}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {q.data.items.map((e) => (
                  <Table.Tr key={e.id}>
                    <Table.Td>
                      <Text fw={600}>{e.name}</Text>
                      {e.description && (
                        <Text size="xs" c="dimmed">
                          {e.description}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>{title(e.provider)}</Table.Td>
                    <Table.Td>
                      <Text className="mono" size="sm">
                        {e.url}
                      </Text>
                    </Table.Td>
                    <Table.Td>{e.accessId ?? <Text c="dimmed">anonymous</Text>}</Table.Td>
                    <Table.Td>
                      <Tooltip label={e.checkError ?? ''} disabled={!e.checkError} multiline w={320}>
                        <Badge color={STATUS_COLOR[e.status]} variant="light" style={{ minWidth: 'max-content' }}>
                          {e.status}
                        </Badge>
                      </Tooltip>
                    </Table.Td>
                    <Table.Td>
                      <DateTime value={e.updatedAt} />
                    </Table.Td>
                    {canWrite && (
                      <>
                        <Table.Td>
                          <Group gap={4} wrap="nowrap" justify="flex-end">
                            <Tooltip label={`Refresh ${e.name}`}>
                              <ActionIcon variant="subtle" aria-label={`Refresh ${e.name}`} onClick={() => check.mutate(e.name)} loading={check.isPending && check.variables === e.name}>
                                <IconRefresh size={16} />
                              </ActionIcon>
                            </Tooltip>
                            <Tooltip label="Modify Image Cache">
                              <ActionIcon variant="subtle" aria-label={`Modify Image Cache ${e.name}`} onClick={() => setEditing(e)}>
                                <IconPencil size={16} />
                              </ActionIcon>
                            </Tooltip>
                          </Group>
                        </Table.Td>
                        <DeleteRowButton title="Delete Image Cache" what={e.name} onDelete={() => setDeleting(e)} />
                      </>
                    )}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Paper>
      <EndpointModal opened={creating} onClose={create.close} providers={providers.data?.items ?? []} />
      <EndpointModal opened={Boolean(editing)} endpoint={editing ?? undefined} onClose={() => setEditing(null)} providers={providers.data?.items ?? []} />
      <ConfirmModal
        opened={Boolean(deleting)}
        onClose={() => setDeleting(null)}
        title={`Delete Image Cache ${deleting?.name ?? ''}?`}
        confirmLabel="Delete Image Cache"
        onConfirm={async () => {
          await del.mutateAsync(deleting!.name);
          setDeleting(null);
        }}
      >
        <Text size="sm">
          The source registry <b>{deleting?.name}</b> ({deleting?.url}) is forgotten, with its credentials. An image cache cannot be deleted while a registry
          uses it: delete that registry first.
        </Text>
      </ConfirmModal>
    </>
  );
}

/** Create Image Cache / Modify Image Cache: the guide's table for the chosen source registry type. */
function EndpointModal({ opened, onClose, endpoint, providers }: { opened: boolean; onClose: () => void; endpoint?: Endpoint; providers: EndpointProvider[] }) {
  const createM = useCreateEndpoint();
  const updateM = useUpdateEndpoint();
  const m = endpoint ? updateM : createM;
  const [name, setName] = useState('');
  const [provider, setProvider] = useState<string | null>('docker-hub');
  const [url, setUrl] = useState('');
  const [accessId, setAccessId] = useState('');
  const [secret, setSecret] = useState('');
  const [description, setDescription] = useState('');

  useEffect(() => {
    if (!opened) return;
    setName(endpoint?.name ?? '');
    setProvider(endpoint?.provider ?? 'docker-hub');
    setUrl(endpoint?.url ?? '');
    setAccessId(endpoint?.accessId ?? '');
    setSecret('');
    setDescription(endpoint?.description ?? '');
  }, [opened, endpoint]);

  const p = providers.find((x) => x.provider === provider);
  const close = () => {
    if (m.isPending) return;
    createM.reset();
    updateM.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const input: EndpointInput = { name, provider: provider ?? undefined, url, description, accessId: accessId || null };
    // an empty secret on Modify keeps the one set (it is never shown again)
    if (secret || !endpoint) input.secret = secret || null;
    const done = { onSuccess: () => close() };
    if (endpoint) updateM.mutate({ name: endpoint.name, input }, done);
    else createM.mutate(input, done);
  };

  return (
    <Modal opened={opened} onClose={close} title={endpoint ? 'Modify Image Cache' : 'Create Image Cache'} centered size="lg">
      <form onSubmit={submit} noValidate>
        <Stack gap="sm">
          <TextInput label="Name" description="1-64 lower-case letters, digits, '.', '_' or '-'" value={name} onChange={(e) => setName(e.currentTarget.value)} required data-autofocus autoCapitalize="none" spellCheck={false} />
          <Select
            label="Source registry type"
            data={providers.map((x) => ({ value: x.provider, label: x.title }))}
            value={provider}
            onChange={setProvider}
            allowDeselect={false}
            required
          />
          <TextInput label="URL" description={p ? `e.g. ${p.urlExample}` : undefined} placeholder={p?.urlExample} value={url} onChange={(e) => setUrl(e.currentTarget.value)} required autoCapitalize="none" spellCheck={false} />
          <TextInput label="Access ID" description={p?.accessId} value={accessId} onChange={(e) => setAccessId(e.currentTarget.value)} autoCapitalize="none" spellCheck={false} />
          <PasswordInput
            label="Access Secret"
            description={endpoint?.secretSet ? `${p?.secret ?? ''} — set; leave empty to keep it` : p?.secret}
            value={secret}
            onChange={(e) => setSecret(e.currentTarget.value)}
          />
          <TextInput label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} />
          <Text size="xs" c="dimmed">
            Leave Access ID and Access Secret empty for anonymous access. A source registry must be on port 80 or 443. See the{' '}
            <Anchor href="/api/v1/docs" target="_blank" size="xs">
              API reference
            </Anchor>{' '}
            for the fields.
          </Text>
          <Table.ScrollContainer minWidth={640}>
          <Table withTableBorder fz="xs" aria-label="Source registry types">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Source Registry Type</Table.Th>
                <Table.Th>URL</Table.Th>
                <Table.Th>Access ID</Table.Th>
                <Table.Th>Access Secret</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {providers.map((x) => (
                <Table.Tr key={x.provider} bg={x.provider === provider ? 'var(--mantine-color-blue-light)' : undefined}>
                  <Table.Td>{x.title}</Table.Td>
                  <Table.Td className="mono">{x.urlExample}</Table.Td>
                  <Table.Td>{x.accessId}</Table.Td>
                  <Table.Td>{x.secret}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          </Table.ScrollContainer>
          {m.error && (
            <Alert color="red" icon={<IconAlertTriangle size={18} />} title={endpoint ? 'The image cache was not modified' : 'The image cache was not created'} role="alert">
              {errorMessage(m.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close} disabled={m.isPending}>
              Cancel
            </Button>
            <Button type="submit" loading={m.isPending}>
              {endpoint ? 'Modify' : 'Create'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
