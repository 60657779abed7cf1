/**
 * The registry's Replication tab: its replications (target, filters, status Enabled / Disabled with the reason),
 * Create Replication, Refresh, Run Replication (confirmed), enable/disable, delete; click one (?rule=NAME) to see its
 * Replication History below, and a run (&run=ID) to see each artifact. Viewers see; admins and members change.
 */
import { Alert, Anchor, Button, EmptyState, Group, Menu, Paper, Stack, Switch, Table, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconArrowsExchange, IconInfoCircle, IconPlayerPlay, IconPlus, IconRefresh, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { type Replication, useDeleteReplication, useRefreshReplication, useReplications, useRunReplication, useSetReplicationEnabled } from '../../../api/replication';
import { usePermissions } from '../../../api/session';
import type { Registry } from '../../../api/types';
import { ConfirmModal } from '../../../components/ConfirmModal';
import { LoadError, LoadingRows } from '../../../components/QueryState';
import { RowActionsMenu } from '../../../components/RowActions';
import { CreateReplicationModal } from './CreateReplicationModal';
import { ReplicationHistory, StatusOf } from './ReplicationHistory';

export function ReplicationTab({ registry }: { registry: Registry }) {
  const { canWrite } = usePermissions();
  const [params, setParams] = useSearchParams();
  const selected = params.get('rule') ?? undefined;
  const run = params.get('run') ?? undefined;
  const show = (rule?: string, runId?: string) =>
    setParams(() => {
      const p = new URLSearchParams();
      if (rule) p.set('rule', rule);
      if (runId) p.set('run', runId);
      return p;
    });
  const q = useReplications(registry.name);
  const refresh = useRefreshReplication(registry.name);
  const toggle = useSetReplicationEnabled(registry.name);
  const del = useDeleteReplication(registry.name);
  const start = useRunReplication(registry.name);
  const [creating, setCreating] = useState(false);
  const [running, setRunning] = useState<Replication | null>(null);
  const [deleting, setDeleting] = useState<Replication | null>(null);

  const body = q.isPending ? (
    <LoadingRows />
  ) : q.isError ? (
    <LoadError error={q.error} retry={() => q.refetch()} what="replications" />
  ) : q.data.items.length === 0 ? (
    <EmptyState
      my="xl"
      variant="light"
      icon={<IconArrowsExchange size={26} />}
      title="No replications yet"
      description={canWrite ? 'Create one to copy the images pushed here to another registry (another region, ECR, Harbor, …).' : 'Admins and members can create replications to other registries.'}
    />
  ) : (
    <Table.ScrollContainer minWidth={820}>
      <Table highlightOnHover aria-label={`Replications of ${registry.name}`}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Target</Table.Th>
            <Table.Th>Filters</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>On</Table.Th>
            <Table.Th w={canWrite ? 260 : 40}>
              <span className="visually-hidden">Actions</span>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {q.data.items.map((r) => (
            <Table.Tr key={r.id} className="clickable-row" data-selected={r.name === selected} onClick={() => show(r.name)}>
              <Table.Td>
                <Anchor component="button" type="button" fw={600} ta="left" style={{ whiteSpace: 'nowrap' }} onClick={(e) => (e.stopPropagation(), show(r.name))}>
                  {r.name}
                </Anchor>
              </Table.Td>
              <Table.Td>
                <Text size="sm" fw={500}>
                  {r.endpoint}
                </Text>
                <Text size="xs" c="dimmed" className="mono">
                  {r.targetRegistry}/…
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{r.filters}</Text>
              </Table.Td>
              <Table.Td>
                <StatusOf r={r} />
              </Table.Td>
              <Table.Td onClick={(e) => e.stopPropagation()}>
                <Switch aria-label={`${r.enabled ? 'Turn off' : 'Turn on'} ${r.name}`} checked={r.enabled} disabled={!canWrite || toggle.isPending} onChange={(e) => toggle.mutate({ rule: r.id, enabled: e.currentTarget.checked })} />
              </Table.Td>
              <Table.Td onClick={(e) => e.stopPropagation()}>
                {canWrite && (
                  <Group gap={4} wrap="nowrap" justify="flex-end">
                    <Button size="compact-sm" variant="subtle" color="gray" leftSection={<IconRefresh size={14} />} loading={refresh.isPending && refresh.variables === r.id} onClick={() => refresh.mutate(r.id)} aria-label={`Refresh ${r.name}`}>
                      Refresh
                    </Button>
                    <Button size="compact-sm" variant="light" leftSection={<IconPlayerPlay size={14} />} disabled={r.status !== 'enabled'} onClick={() => setRunning(r)} aria-label={`Run Replication ${r.name}`}>
                      Run Replication
                    </Button>
                    <RowActionsMenu what={r.name}>
                      <Menu.Item color="red" leftSection={<IconTrash size={14} />} onClick={() => setDeleting(r)}>
                        Delete
                      </Menu.Item>
                    </RowActionsMenu>
                  </Group>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );

  const current = q.data?.items.find((r) => r.name === selected);
  return (
    <Stack gap="lg">
      <Alert variant="light" color="blue" icon={<IconInfoCircle size={18} />} title="How replication works">
        Every image pushed here is copied to the target automatically (same digests; multi-arch images whole, signatures with their image). Images pushed before
        the replication existed are copied by <b>Run Replication</b>. An image the target already has is skipped; deleting here never deletes at the target.
      </Alert>
      <Paper withBorder p={{ base: 'sm', sm: 'md' }}>
        <Group justify="space-between" align="flex-start" mb="md" gap="sm">
          <div style={{ flex: '1 1 320px' }}>
            <Title order={4}>Replications</Title>
            <Text size="sm" c="dimmed">
              A replication is Disabled until its target is checked reachable and writable; if that lasts, click Refresh.
            </Text>
          </div>
          {canWrite && (
            <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
              Create Replication
            </Button>
          )}
        </Group>
        {body}
      </Paper>
      {current && <ReplicationHistory registry={registry.name} rule={current} run={run} onSelectRun={(id) => show(current.name, id)} onClose={() => show()} />}
      <CreateReplicationModal registry={registry.name} opened={creating} onClose={() => setCreating(false)} />
      <ConfirmModal
        opened={running !== null}
        onClose={() => setRunning(null)}
        title="Run Replication"
        confirmLabel="Confirm"
        onConfirm={async () => {
          const r = running!;
          const e = await start.mutateAsync(r.id);
          notifications.show({ color: 'teal', title: 'Replication started', message: 'Its progress and each artifact are in the Replication History.' });
          show(r.name, e.id);
        }}
      >
        <Text size="sm">
          Copy every image of <b>{registry.name}</b> that <b>{running?.name}</b> selects ({running?.filters}) to <b>{running?.endpoint}</b> under{' '}
          <span className="mono">{running?.targetRegistry}/</span>. Images the target already has are skipped.
        </Text>
      </ConfirmModal>
      <ConfirmModal opened={deleting !== null} onClose={() => setDeleting(null)} title={`Delete replication ${deleting?.name ?? ''}?`} confirmLabel="Delete" onConfirm={() => del.mutateAsync(deleting!.id).then(() => show())}>
        <Text size="sm">New pushes are no longer copied to {deleting?.endpoint}. What was copied stays there; the history of its runs is kept for a while.</Text>
      </ConfirmModal>
    </Stack>
  );
}
