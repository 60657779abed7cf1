/**
 * The registry's Webhook tab: its webhooks with where they send, what, and how the last deliveries went; enable or
 * disable in place; Test (a sample event now, the outcome shown at once), History, Edit and Delete. Viewers see the
 * list and the history; admins and members change.
 */
import { Alert, Anchor, Badge, Button, EmptyState, Group, Menu, Paper, Stack, Switch, Table, Text, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconBellRinging, IconEdit, IconHistory, IconPlus, IconSend, IconTrash } from '@tabler/icons-react';
import { createElement, useState } from 'react';
import { usePermissions } from '../../../api/session';
import type { Registry } from '../../../api/types';
import { type Webhook, useDeleteWebhook, useSetWebhookEnabled, useTestWebhook, useWebhooks } from '../../../api/webhooks';
import { ConfirmModal } from '../../../components/ConfirmModal';
import { LoadError, LoadingRows } from '../../../components/QueryState';
import { RowActionsMenu } from '../../../components/RowActions';
import { DeliveryHistory } from './DeliveryHistory';
import { WebhookModal } from './WebhookModal';

export function WebhooksTab({ registry }: { registry: Registry }) {
  const { canWrite } = usePermissions();
  const q = useWebhooks(registry.name);
  const toggle = useSetWebhookEnabled(registry.name);
  const test = useTestWebhook(registry.name);
  const del = useDeleteWebhook(registry.name);
  const [editing, setEditing] = useState<Webhook | null>(null);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [history, setHistory] = useState<Webhook | null>(null);

  const runTest = (w: Webhook) =>
    test.mutate(
      { id: w.id },
      {
        onSuccess: (d) =>
          notifications.show({
            color: d.status === 'succeeded' ? 'teal' : 'red',
            icon: createElement(d.status === 'succeeded' ? IconSend : IconBellRinging, { size: 18 }),
            title: d.status === 'succeeded' ? `Test delivered to ${w.name}` : `Test to ${w.name} failed`,
            message: d.status === 'succeeded' ? `The receiver answered ${d.lastStatusCode} in ${d.history[0]?.durationMs ?? 0} ms.` : (d.lastError ?? 'no answer'),
            autoClose: 8000,
          }),
      },
    );

  const body = q.isPending ? (
    <LoadingRows />
  ) : q.isError ? (
    <LoadError error={q.error} retry={() => q.refetch()} what="webhooks" />
  ) : q.data.items.length === 0 ? (
    <EmptyState
      my="xl"
      variant="light"
      icon={<IconBellRinging size={26} />}
      title="No webhooks yet"
      description={
        canWrite
          ? 'Create one to tell CI, chat or deploy tools when images are pushed, pulled or deleted. Payloads are the same as Harbor’s.'
          : 'Admins and members can create webhooks that notify other tools of changes here.'
      }
    />
  ) : (
    <Table.ScrollContainer minWidth={760}>
      <Table highlightOnHover aria-label={`Webhooks of ${registry.name}`}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Sends to</Table.Th>
            <Table.Th>Events</Table.Th>
            <Table.Th>Enabled</Table.Th>
            <Table.Th w={canWrite ? 180 : 110}>
              <span className="visually-hidden">Actions</span>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {q.data.items.map((w) => (
            <Table.Tr key={w.id}>
              <Table.Td>
                <Anchor component="button" type="button" fw={600} ta="left" style={{ whiteSpace: 'nowrap' }} onClick={() => setHistory(w)}>
                  {w.name}
                </Anchor>
                {w.description && (
                  <Text size="xs" c="dimmed" lineClamp={1}>
                    {w.description}
                  </Text>
                )}
                {w.breaker.openUntil && (
                  <Tooltip label={`${w.breaker.failures} failed attempts in a row: deliveries wait until the receiver answers again`}>
                    <Badge color="red" variant="light" size="xs" mt={4}>
                      receiver failing
                    </Badge>
                  </Tooltip>
                )}
              </Table.Td>
              <Table.Td>
                <Group gap={6} wrap="nowrap">
                  <Badge variant="light" color={w.targetType === 'slack' ? 'grape' : 'blue'} size="sm" style={{ flexShrink: 0 }}>
                    {w.targetType === 'slack' ? 'Slack' : w.payloadFormat === 'CloudEvents' ? 'CloudEvents' : 'HTTP'}
                  </Badge>
                  <Text size="sm" className="mono" lineClamp={1} style={{ wordBreak: 'break-all' }}>
                    {w.address}
                  </Text>
                </Group>
              </Table.Td>
              <Table.Td>
                <Group gap={4}>
                  {w.eventTypes.map((t) => (
                    <Badge key={t} variant="outline" color="gray" size="xs">
                      {t}
                    </Badge>
                  ))}
                </Group>
              </Table.Td>
              <Table.Td>
                <Switch
                  aria-label={`${w.enabled ? 'Disable' : 'Enable'} ${w.name}`}
                  checked={w.enabled}
                  disabled={!canWrite || toggle.isPending}
                  onChange={(e) => toggle.mutate({ id: w.id, enabled: e.currentTarget.checked })}
                />
              </Table.Td>
              <Table.Td>
                <Group gap={4} wrap="nowrap" justify="flex-end">
                  {canWrite && (
                    <Button size="compact-sm" variant="light" leftSection={<IconSend size={14} />} loading={test.isPending && test.variables?.id === w.id} onClick={() => runTest(w)} aria-label={`Test ${w.name}`}>
                      Test
                    </Button>
                  )}
                  <Button size="compact-sm" variant="subtle" color="gray" leftSection={<IconHistory size={14} />} onClick={() => setHistory(w)} aria-label={`History of ${w.name}`}>
                    History
                  </Button>
                  {canWrite && (
                    <RowActionsMenu what={w.name}>
                      <Menu.Item leftSection={<IconEdit size={14} />} onClick={() => setEditing(w)}>
                        Edit
                      </Menu.Item>
                      <Menu.Item color="red" leftSection={<IconTrash size={14} />} onClick={() => setDeleting(w)}>
                        Delete
                      </Menu.Item>
                    </RowActionsMenu>
                  )}
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );

  return (
    <Stack gap="lg">
      <Paper withBorder p={{ base: 'sm', sm: 'md' }}>
        <Group justify="space-between" mb="md">
          <div>
            <Text fw={600}>Webhooks</Text>
            <Text size="sm" c="dimmed">
              HTTP(S) or Slack notifications of pushes, pulls, deletes and cleanups in {registry.name}.
            </Text>
          </div>
          {canWrite && (
            <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
              Create Webhook
            </Button>
          )}
        </Group>
        {body}
      </Paper>
      {!canWrite && (
        <Alert variant="light" color="gray">
          You can see the webhooks and their history; admins and members create and change them.
        </Alert>
      )}
      <WebhookModal registry={registry.name} editing={editing} opened={creating || editing !== null} onClose={() => (setCreating(false), setEditing(null))} />
      <DeliveryHistory registry={registry.name} webhook={history} onClose={() => setHistory(null)} canWrite={canWrite} />
      <ConfirmModal
        opened={Boolean(deleting)}
        onClose={() => setDeleting(null)}
        title={`Delete webhook ${deleting?.name ?? ''}?`}
        confirmLabel="Delete webhook"
        onConfirm={() => del.mutateAsync({ id: deleting!.id, name: deleting!.name })}
      >
        <Text size="sm">
          <b>{deleting?.address}</b> is no longer told about changes in {registry.name}, and the webhook's delivery history is deleted with it.
        </Text>
      </ConfirmModal>
    </Stack>
  );
}
