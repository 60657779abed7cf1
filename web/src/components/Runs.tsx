/**
 * The pieces every run history shows (cleanup, replication, garbage collection): the runs table, a run's header with
 * Stop and Close, its message, its counters, and an artifact's image, digest and tags in a table cell.
 */
import { Alert, Anchor, Badge, Button, CloseButton, Group, Table, Text, Title, Tooltip } from '@mantine/core';
import { IconPlayerStop } from '@tabler/icons-react';
import type { ReactNode } from 'react';
import { shortDigest } from '../lib/format';
import { CopyButton } from './CopyButton';
import { DateTime } from './DateTime';

/** Badges in table cells keep their whole text (a tight table would otherwise cut them to "PROTE…"). */
export const NO_SHRINK = { minWidth: 'max-content' };
const STATUS_COLOR: Record<string, string> = { queued: 'gray', running: 'blue', succeeded: 'teal', failed: 'red', stopped: 'orange' };

/** What a run history needs of a run (an execution of /api/v1/executions). */
export interface RunLike {
  id: string;
  status: string;
  createdAt: string;
  startedAt?: string | null;
  endedAt?: string | null;
  message?: string | null;
}

export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge variant={status === 'running' ? 'filled' : 'light'} color={STATUS_COLOR[status] ?? 'gray'} style={NO_SHRINK}>
      {status}
    </Badge>
  );
}

/** Runs, newest first: Started, Type (a link), Status, Result, Started by; a click on a row selects it. */
export function RunsTable<R extends RunLike>(p: {
  label: string;
  runs: R[];
  selected?: string;
  onSelect: (id: string) => void;
  type: (r: R) => string;
  /** the Type link's accessible name, when the type alone does not tell runs apart */
  typeLabel?: (r: R) => string;
  result: (r: R) => ReactNode;
  startedBy: (r: R) => string;
  minWidth?: number;
}) {
  return (
    <Table.ScrollContainer minWidth={p.minWidth ?? 720}>
      <Table aria-label={p.label} highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Started</Table.Th>
            <Table.Th>Type</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Result</Table.Th>
            <Table.Th>Started by</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {p.runs.map((r) => (
            <Table.Tr key={r.id} className="clickable-row" data-selected={r.id === p.selected} onClick={() => p.onSelect(r.id)}>
              <Table.Td>
                <DateTime value={r.startedAt ?? r.createdAt} />
              </Table.Td>
              <Table.Td>
                <Anchor
                  component="button"
                  type="button"
                  fw={600}
                  size="sm"
                  ta="left"
                  aria-label={p.typeLabel?.(r)}
                  onClick={(ev) => {
                    ev.stopPropagation();
                    p.onSelect(r.id);
                  }}
                >
                  {p.type(r)}
                </Anchor>
              </Table.Td>
              <Table.Td>
                <StatusBadge status={r.status} />
              </Table.Td>
              <Table.Td>
                <Text size="sm">{p.result(r)}</Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm" c="dimmed">
                  {p.startedBy(r)}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** A run's title and status, when it was queued and ended, Stop while it is active, and Close. */
export function RunHeader(p: {
  run: RunLike;
  title: ReactNode;
  order?: 4 | 5;
  badges?: ReactNode;
  /** before "queued …" in the line under the title */
  lead?: ReactNode;
  stop?: { onStop: () => void; pending: boolean };
  onClose: () => void;
}) {
  return (
    <Group justify="space-between" align="flex-start" mb="sm" wrap="nowrap">
      <div>
        <Group gap="sm">
          <Title order={p.order ?? 4}>{p.title}</Title>
          <StatusBadge status={p.run.status} />
          {p.badges}
        </Group>
        <Text size="sm" c="dimmed" mt={4}>
          {p.lead}
          {p.lead ? ' · queued ' : 'Queued '}
          <DateTime value={p.run.createdAt} />
          {p.run.endedAt && (
            <>
              {' '}
              · ended <DateTime value={p.run.endedAt} />
            </>
          )}
        </Text>
      </div>
      <Group gap="xs" wrap="nowrap">
        {p.stop && (
          <Button size="xs" color="red" variant="light" leftSection={<IconPlayerStop size={14} />} loading={p.stop.pending} onClick={p.stop.onStop}>
            Stop
          </Button>
        )}
        <CloseButton aria-label="Close run details" onClick={p.onClose} />
      </Group>
    </Group>
  );
}

/** The run's message (why it failed or stopped, or what it did), capitalised. */
export function RunMessage({ run }: { run: RunLike }) {
  if (!run.message) return null;
  return (
    <Alert color={run.status === 'failed' ? 'red' : run.status === 'stopped' ? 'orange' : 'gray'} variant="light" mb="md" p="xs">
      <Text size="sm">{run.message[0]!.toUpperCase() + run.message.slice(1)}</Text>
    </Alert>
  );
}

export function RunStat({ label, value, color }: { label: string; value: string; color?: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600} lts={0.4}>
        {label}
      </Text>
      <Text size="lg" fw={600} c={color}>
        {value}
      </Text>
    </div>
  );
}

/** An artifact in a run's table: its image, and its short digest with the whole one on hover and a copy button. */
export function ArtifactCell({ image, digest }: { image: string; digest: string }) {
  return (
    <>
      <Text size="sm" fw={600}>
        {image}
      </Text>
      <Group gap={2} wrap="nowrap">
        <Tooltip label={digest} openDelay={300}>
          <Text span className="mono" c="dimmed">
            {shortDigest(digest)}
          </Text>
        </Tooltip>
        <CopyButton value={digest} label={`Copy digest ${shortDigest(digest)}`} />
      </Group>
    </>
  );
}

/** An artifact's tags as badges, or "untagged". */
export function TagBadges({ tags }: { tags: string[] | undefined }) {
  if (!tags || tags.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        untagged
      </Text>
    );
  }
  return (
    <Group gap={4}>
      {tags.map((tag) => (
        <Badge key={tag} variant="light" color="gray" tt="none" style={NO_SHRINK}>
          {tag}
        </Badge>
      ))}
    </Group>
  );
}
