/**
 * View Details of a replication: its Replication History (runs, newest first, refreshed while one is active) and,
 * for the run clicked, each artifact: copied / skipped (same digest at the target) / failed with the reason, bytes
 * and duration; Stop while it runs.
 */
import { Badge, CloseButton, EmptyState, Group, Paper, Progress, SimpleGrid, Stack, Table, Tabs, Text, Title, Tooltip } from '@mantine/core';
import { IconHistory } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { isActive, type Replication, type ReplicationRun, useReplicationRuns, useReplicationTasks, useStopReplicationRun } from '../../../api/replication';
import { usePermissions } from '../../../api/session';
import { DateTime } from '../../../components/DateTime';
import { Pager } from '../../../components/Pager';
import { LoadError, LoadingRows } from '../../../components/QueryState';
import { ArtifactCell, NO_SHRINK, RunHeader, RunMessage, RunsTable, RunStat as Stat, TagBadges } from '../../../components/Runs';
import { formatBytes } from '../../../lib/format';

const OUTCOME_COLOR: Record<string, string> = { succeeded: 'teal', skipped: 'gray', failed: 'red', running: 'blue', stopped: 'orange', pending: 'gray' };
const OUTCOME_LABEL: Record<string, string> = { succeeded: 'copied', skipped: 'skipped', failed: 'failed', running: 'copying…', stopped: 'stopped', pending: 'waiting' };

export function StatusOf({ r }: { r: Replication }) {
  const badge = (
    <Badge variant="light" color={r.status === 'enabled' ? 'teal' : 'gray'} style={NO_SHRINK}>
      {r.status === 'enabled' ? 'Enabled' : 'Disabled'}
    </Badge>
  );
  return r.statusReason ? (
    <Tooltip label={r.statusReason} multiline maw={360}>
      {badge}
    </Tooltip>
  ) : (
    badge
  );
}

export function resultText(e: ReplicationRun): string {
  const c = e.counts ?? {};
  const parts = [`${c.copied ?? 0} copied`, `${c.skipped ?? 0} skipped`];
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.bytes) parts.push(formatBytes(c.bytes));
  return parts.join(' · ');
}

const kindOf = (e: ReplicationRun) => (e.trigger === 'event' ? `Auto: ${e.params?.artifact ?? 'a push'}` : 'Manual');

export function ReplicationHistory({ registry, rule, run, onSelectRun, onClose }: { registry: string; rule: Replication; run?: string; onSelectRun: (id: string | undefined) => void; onClose: () => void }) {
  const [page, setPage] = useState(1);
  const perPage = 20;
  const q = useReplicationRuns(registry, rule.id, { page, perPage });
  const selected = q.data?.items.find((e) => e.id === run);
  return (
    <Paper withBorder p={{ base: 'sm', sm: 'md' }} component="section" aria-label="View Details">
      <Group justify="space-between" align="flex-start" mb="sm" wrap="nowrap">
        <div>
          <Group gap="sm">
            <Title order={4}>{rule.name}</Title>
            <StatusOf r={rule} />
          </Group>
          <Text size="sm" c="dimmed" mt={4}>
            To {rule.endpoint}, under <span className="mono">{rule.targetRegistry}/</span> · {rule.filters}
            {rule.checkedAt && (
              <>
                {' '}
                · checked <DateTime value={rule.checkedAt} relative />
              </>
            )}
          </Text>
        </div>
        <CloseButton aria-label="Close details" onClick={onClose} />
      </Group>
      <Tabs value="history" variant="outline">
        <Tabs.List mb="md">
          <Tabs.Tab value="history" leftSection={<IconHistory size={16} />}>
            Replication History
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="history">
          <Stack gap="md">
            {q.isPending ? (
              <LoadingRows />
            ) : q.isError ? (
              <LoadError error={q.error} retry={() => q.refetch()} what="the replication history" />
            ) : q.data.items.length === 0 ? (
              <EmptyState my="lg" variant="light" icon={<IconHistory size={26} />} title="No runs yet" description="Each push copied to the target, and each Run Replication, adds a run here." />
            ) : (
              <RunsTable
                label="Replication History"
                runs={q.data.items}
                selected={run}
                onSelect={onSelectRun}
                type={kindOf}
                result={resultText}
                startedBy={(e) => (e.trigger === 'event' ? 'a push' : (e.createdBy ?? '—'))}
              />
            )}
            {q.data && <Pager page={page} perPage={perPage} total={q.data.total} onChange={setPage} noun="run" />}
            {run && selected && <RunDetails registry={registry} rule={rule} run={selected} onClose={() => onSelectRun(undefined)} />}
          </Stack>
        </Tabs.Panel>
      </Tabs>
    </Paper>
  );
}

function RunDetails({ registry, rule, run, onClose }: { registry: string; rule: Replication; run: ReplicationRun; onClose: () => void }) {
  const [page, setPage] = useState(1);
  const perPage = 50;
  const tasks = useReplicationTasks(registry, rule.id, run.id, run.status, { page, perPage });
  const stop = useStopReplicationRun(registry, rule.id);
  const { canWrite } = usePermissions();
  useEffect(() => setPage(1), [run.id]);
  const c = run.counts ?? {};
  const done = (c.copied ?? 0) + (c.skipped ?? 0) + (c.failed ?? 0);
  return (
    <Paper withBorder p={{ base: 'sm', sm: 'md' }} component="section" aria-label="Run details">
      <RunHeader
        run={run}
        title={kindOf(run)}
        order={5}
        stop={canWrite && isActive(run) ? { onStop: () => stop.mutate(run.id), pending: stop.isPending } : undefined}
        onClose={onClose}
      />
      <RunMessage run={run} />
      {isActive(run) && c.artifacts ? <Progress value={(100 * done) / c.artifacts} mb="md" aria-label="Progress" /> : null}
      <SimpleGrid cols={{ base: 3, sm: 5 }} spacing="md" mb="md">
        <Stat label="Artifacts" value={String(c.artifacts ?? '—')} />
        <Stat label="Copied" value={String(c.copied ?? 0)} color="teal.8" />
        <Stat label="Skipped" value={String(c.skipped ?? 0)} />
        <Stat label="Failed" value={String(c.failed ?? 0)} color={c.failed ? 'red.8' : undefined} />
        <Stat label="Sent" value={formatBytes(c.bytes ?? 0)} />
      </SimpleGrid>
      {tasks.isPending ? (
        <LoadingRows />
      ) : tasks.isError ? (
        <LoadError error={tasks.error} retry={() => tasks.refetch()} what="the artifacts of the run" />
      ) : tasks.data.items.length === 0 ? (
        <Text size="sm" c="dimmed">
          {isActive(run) ? 'No artifact copied yet.' : 'Nothing matched the filters.'}
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={820}>
          <Table aria-label="Artifacts of the run" verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Outcome</Table.Th>
                <Table.Th>Artifact</Table.Th>
                <Table.Th>Tags</Table.Th>
                <Table.Th>Sent</Table.Th>
                <Table.Th>Duration</Table.Th>
                <Table.Th>Details</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {tasks.data.items.map((t) => {
                const d = t.detail ?? {};
                const digest = d.digest ?? t.subject.split('@')[1] ?? '';
                return (
                  <Table.Tr key={t.id} data-outcome={OUTCOME_LABEL[t.status] ?? t.status}>
                    <Table.Td>
                      <Badge variant="light" color={OUTCOME_COLOR[t.status] ?? 'gray'} style={NO_SHRINK}>
                        {OUTCOME_LABEL[t.status] ?? t.status}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <ArtifactCell image={d.image ?? t.subject.split('@')[0]!} digest={digest} />
                    </Table.Td>
                    <Table.Td>
                      <TagBadges tags={d.tags} />
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
                        {d.bytes === undefined ? '—' : formatBytes(d.bytes)}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
                        {d.durationMs === undefined ? '—' : `${d.durationMs} ms`}
                      </Text>
                    </Table.Td>
                    <Table.Td maw={380}>
                      <Text size="sm" c={t.status === 'failed' ? 'red.8' : undefined}>
                        {t.message ?? ''}
                      </Text>
                      {d.accessories ? (
                        <Text size="xs" c="dimmed">
                          with {d.accessories} signature(s) or referrer(s)
                        </Text>
                      ) : null}
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {tasks.data && <Pager page={page} perPage={perPage} total={tasks.data.total} onChange={setPage} noun="artifact" />}
    </Paper>
  );
}
