/** A webhook's deliveries, newest first: status, event, attempts; open one for each attempt, the body and Redeliver. */
import { Accordion, Badge, Button, Code, Group, Modal, ScrollArea, Select, Stack, Table, Text } from '@mantine/core';
import { IconRefresh } from '@tabler/icons-react';
import { useState } from 'react';
import { type Delivery, type DeliveryStatus, type Webhook, useDeliveries, useRedeliver } from '../../../api/webhooks';
import { DateTime } from '../../../components/DateTime';
import { Pager } from '../../../components/Pager';
import { LoadError, LoadingRows } from '../../../components/QueryState';

export const STATUS_COLOR: Record<DeliveryStatus, string> = { succeeded: 'teal', failed: 'red', retrying: 'orange', pending: 'blue', cancelled: 'gray' };

export function StatusBadge({ status }: { status: DeliveryStatus }) {
  return (
    <Badge color={STATUS_COLOR[status]} variant="light" size="sm">
      {status}
    </Badge>
  );
}

function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

function DeliveryDetail({ d, registry, webhook, canWrite }: { d: Delivery; registry: string; webhook: Webhook; canWrite: boolean }) {
  const redeliver = useRedeliver(registry);
  return (
    <Stack gap="sm">
      <Table withTableBorder fz="sm" aria-label={`Attempts of delivery ${d.id}`}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>#</Table.Th>
            <Table.Th>Time</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Duration</Table.Th>
            <Table.Th>Response / error</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {d.history.map((a) => (
            <Table.Tr key={a.n}>
              <Table.Td>{a.n}</Table.Td>
              <Table.Td>
                <DateTime value={a.at} />
              </Table.Td>
              <Table.Td>
                <Badge color={a.error ? 'red' : 'teal'} variant="light" size="sm">
                  {a.statusCode ?? 'no response'}
                </Badge>
              </Table.Td>
              <Table.Td>{a.durationMs} ms</Table.Td>
              <Table.Td>
                {a.error && (
                  <Text size="sm" c="red.8">
                    {a.error}
                  </Text>
                )}
                {a.response && (
                  <Text size="xs" c="dimmed" className="mono" lineClamp={3}>
                    {a.response}
                  </Text>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
          {d.history.length === 0 && (
            <Table.Tr>
              <Table.Td colSpan={5}>
                <Text size="sm" c="dimmed">
                  Not sent yet{d.nextAttemptAt ? ', due at ' : ''}
                  {d.nextAttemptAt && <DateTime value={d.nextAttemptAt} />}
                </Text>
              </Table.Td>
            </Table.Tr>
          )}
        </Table.Tbody>
      </Table>
      {d.status === 'retrying' && d.nextAttemptAt && (
        <Text size="sm" c="dimmed">
          Next attempt at <DateTime value={d.nextAttemptAt} />
        </Text>
      )}
      <Text size="sm" fw={500}>
        Body ({d.contentType}), delivery id <Code>{d.id}</Code>
      </Text>
      <ScrollArea.Autosize mah={260} type="auto">
        <Code block style={{ fontSize: 12 }}>
          {pretty(d.payload)}
        </Code>
      </ScrollArea.Autosize>
      {canWrite && (d.status === 'failed' || d.status === 'cancelled') && (
        <Group>
          <Button size="xs" variant="light" leftSection={<IconRefresh size={14} />} loading={redeliver.isPending} onClick={() => redeliver.mutate({ id: webhook.id, deliveryId: d.id })}>
            Redeliver
          </Button>
        </Group>
      )}
    </Stack>
  );
}

export function DeliveryHistory({ registry, webhook, onClose, canWrite }: { registry: string; webhook: Webhook | null; onClose: () => void; canWrite: boolean }) {
  const [page, setPage] = useState(1);
  const [status, setStatus] = useState<DeliveryStatus | null>(null);
  const q = useDeliveries(registry, webhook?.id ?? null, { page, perPage: 20, status: status ?? undefined });
  return (
    <Modal opened={webhook !== null} onClose={onClose} title={`Delivery history of ${webhook?.name ?? ''}`} size="xl" centered>
      <Stack gap="md">
        <Group justify="space-between">
          <Text size="sm" c="dimmed">
            Every delivery with each attempt: time, status code, duration, response and error.
          </Text>
          <Select
            aria-label="Filter by status"
            placeholder="All statuses"
            clearable
            w={170}
            size="xs"
            data={['succeeded', 'failed', 'retrying', 'pending', 'cancelled']}
            value={status}
            onChange={(v) => {
              setStatus(v as DeliveryStatus | null);
              setPage(1);
            }}
          />
        </Group>
        {q.isPending ? (
          <LoadingRows />
        ) : q.isError ? (
          <LoadError error={q.error} what="deliveries" retry={() => q.refetch()} />
        ) : q.data.items.length === 0 ? (
          <Text c="dimmed" size="sm" py="lg" ta="center">
            No deliveries yet. Push an image, or use Test.
          </Text>
        ) : (
          <Accordion variant="separated" chevronPosition="left" aria-label="Deliveries">
            {q.data.items.map((d) => (
              <Accordion.Item key={d.id} value={d.id}>
                <Accordion.Control aria-label={`${d.eventType} ${d.status}`}>
                  <Group justify="space-between" wrap="nowrap" gap="sm">
                    <Group gap="sm" wrap="nowrap">
                      <StatusBadge status={d.status} />
                      <Text size="sm" fw={600}>
                        {d.eventType}
                      </Text>
                      {d.test && (
                        <Badge size="xs" variant="outline" color="gray">
                          test
                        </Badge>
                      )}
                      {d.redeliveryOf && (
                        <Badge size="xs" variant="outline" color="gray">
                          redelivery
                        </Badge>
                      )}
                    </Group>
                    <Group gap="md" wrap="nowrap">
                      <Text size="sm" c="dimmed">
                        {d.lastStatusCode ?? (d.attempts > 0 ? 'no response' : '')} · {d.attempts} attempt{d.attempts === 1 ? '' : 's'}
                      </Text>
                      <DateTime value={d.createdAt} />
                    </Group>
                  </Group>
                  {d.lastError && (
                    <Text size="xs" c="red.8" mt={4} lineClamp={1}>
                      {d.lastError}
                    </Text>
                  )}
                </Accordion.Control>
                <Accordion.Panel>{webhook && <DeliveryDetail d={d} registry={registry} webhook={webhook} canWrite={canWrite} />}</Accordion.Panel>
              </Accordion.Item>
            ))}
          </Accordion>
        )}
        {q.data && <Pager page={page} perPage={20} total={q.data.total} onChange={setPage} noun="delivery" />}
      </Stack>
    </Modal>
  );
}
