/**
 * View History: a registry's cleanup runs and test runs, newest first (refreshed while one is queued or running).
 * Click a run (?run=ID) to see its details below: counts, and every artifact it judged with its verdict (KEEP,
 * DELETE, PROTECTED), tags, digest, the deciding policy and the reason.
 */
import { Badge, EmptyState, Paper, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { IconHistory, IconShieldLock } from '@tabler/icons-react';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { type CleanupExecution, type CleanupTask, isActive, useCleanupExecutions, useExecution, useExecutionTasks, useStopExecution, type Verdict } from '../../api/policies';
import { usePermissions } from '../../api/session';
import { Pager } from '../../components/Pager';
import { LoadError, LoadingRows } from '../../components/QueryState';
import { ArtifactCell, NO_SHRINK, RunHeader, RunMessage, RunsTable, RunStat as Stat, TagBadges } from '../../components/Runs';
import { formatBytes } from '../../lib/format';
import { countsText } from './policyText';

export const VERDICT_COLOR: Record<Verdict, string> = { KEEP: 'teal', DELETE: 'red', PROTECTED: 'indigo' };

export function VerdictBadge({ verdict }: { verdict: Verdict }) {
  return (
    <Badge variant={verdict === 'KEEP' ? 'light' : 'filled'} color={VERDICT_COLOR[verdict] ?? 'gray'} style={NO_SHRINK} leftSection={verdict === 'PROTECTED' ? <IconShieldLock size={12} /> : undefined}>
      {verdict}
    </Badge>
  );
}

const runName = (e: CleanupExecution) => (e.dryRun ? 'Test run' : 'Run');
const startedBy = (e: CleanupExecution) => (e.trigger === 'schedule' ? 'the cleanup cycle' : (e.createdBy ?? '—'));

export function CleanupHistory({ registry, selected, onSelect }: { registry: string; selected?: string; onSelect: (id: string | undefined) => void }) {
  const [page, setPage] = useState(1);
  const perPage = 20;
  const q = useCleanupExecutions(registry, { page, perPage });
  const qc = useQueryClient();
  // When a real run ends while this page is open, the registry's images, sizes and artifacts have changed.
  const active = useRef(new Set<string>());
  const seenEnded = useRef(new Set<string>());
  const openedAt = useRef(Date.now());
  useEffect(() => {
    if (!q.data) return;
    let ended = false;
    for (const e of q.data.items) {
      if (isActive(e)) active.current.add(e.id);
      else if (!e.dryRun && !seenEnded.current.has(e.id)) {
        seenEnded.current.add(e.id);
        if (active.current.delete(e.id) || (e.endedAt && Date.parse(e.endedAt) >= openedAt.current - 60_000)) ended = true;
      }
    }
    if (ended) for (const key of [['images', registry], ['registry', registry], ['registries'], ['artifacts', registry]]) void qc.invalidateQueries({ queryKey: key });
  }, [q.data, qc, registry]);

  return (
    <Stack gap="lg">
      <Paper withBorder p={{ base: 'sm', sm: 'md' }}>
        <Title order={4}>Cleanup history</Title>
        <Text size="sm" c="dimmed" mb="md">
          Every run and test run of this registry, newest first. Click one to see what it did to each artifact.
        </Text>
        {q.isPending ? (
          <LoadingRows />
        ) : q.isError ? (
          <LoadError error={q.error} retry={() => q.refetch()} what="the cleanup history" />
        ) : q.data.items.length === 0 ? (
          <EmptyState my="lg" variant="light" icon={<IconHistory size={26} />} title="No runs yet" description="Test Run and Run Immediately (on Policy Setting), and the cleanup cycle, add runs here." />
        ) : (
          <RunsTable
            label="Cleanup history"
            runs={q.data.items}
            selected={selected}
            onSelect={onSelect}
            type={runName}
            typeLabel={(e) => `${runName(e)} of ${new Date(e.createdAt).toISOString()}`}
            result={countsText}
            startedBy={startedBy}
            minWidth={760}
          />
        )}
        {q.data && <Pager page={page} perPage={perPage} total={q.data.total} onChange={setPage} noun="run" />}
      </Paper>
      {selected && <RunDetails registry={registry} id={selected} onClose={() => onSelect(undefined)} />}
    </Stack>
  );
}

function outcome(t: CleanupTask, dryRun: boolean): string {
  const v = t.detail?.verdict;
  if (v === 'DELETE') {
    if (dryRun) return 'Would be deleted';
    if (t.status === 'succeeded') return 'Deleted';
    if (t.status === 'pending' || t.status === 'running') return 'Deleting…';
    if (t.status === 'stopped') return 'Not deleted: the run was stopped';
    if (t.status === 'failed') return 'Not deleted: failed';
  }
  if (v === 'PROTECTED') return 'Not deleted: protected';
  if (v === 'KEEP') return 'Kept';
  return t.status;
}

/** One run: what it counted, and each artifact with its verdict. */
export function RunDetails({ registry, id, onClose }: { registry: string; id: string; onClose: () => void }) {
  const e = useExecution(id);
  const [page, setPage] = useState(1);
  const perPage = 50;
  const tasks = useExecutionTasks(id, { page, perPage }, e.data?.status);
  const stop = useStopExecution(registry);
  const { canWrite } = usePermissions();

  useEffect(() => setPage(1), [id]);

  if (e.isPending) return <LoadingRows rows={3} />;
  if (e.isError) return <LoadError error={e.error} retry={() => e.refetch()} what="the run" />;
  const run = e.data;
  const c = run.counts ?? {};
  return (
    <Paper withBorder p={{ base: 'sm', sm: 'md' }} component="section" aria-label="Run details">
      <RunHeader
        run={run}
        title={`${runName(run)} details`}
        badges={
          run.dryRun && (
            <Badge variant="outline" color="gray">
              nothing deleted
            </Badge>
          )
        }
        lead={`Started by ${startedBy(run)}`}
        stop={canWrite && isActive(run) ? { onStop: () => stop.mutate(run.id), pending: stop.isPending } : undefined}
        onClose={onClose}
      />
      <RunMessage run={run} />
      <SimpleGrid cols={{ base: 3, sm: 6 }} spacing="md" mb="md">
        <Stat label="Artifacts" value={String(c.artifacts ?? '—')} />
        <Stat label="Kept" value={String(c.kept ?? '—')} color="teal.8" />
        <Stat label="Protected" value={String(c.protected ?? '—')} color="indigo.8" />
        {run.dryRun ? <Stat label="Would delete" value={String(c.wouldDelete ?? '—')} color="red.8" /> : <Stat label="Deleted" value={String(c.deleted ?? '—')} color="red.8" />}
        <Stat label="Failed" value={String(c.failed ?? '—')} />
        <Stat label={run.dryRun ? 'Would free' : 'Freed'} value={c.deletedBytes === undefined ? '—' : formatBytes(c.deletedBytes)} />
      </SimpleGrid>
      {tasks.isPending ? (
        <LoadingRows />
      ) : tasks.isError ? (
        <LoadError error={tasks.error} retry={() => tasks.refetch()} what="the artifacts of the run" />
      ) : tasks.data.items.length === 0 ? (
        <Text size="sm" c="dimmed">
          {isActive(run) ? 'The run has not judged any artifact yet.' : 'The registry held no artifacts.'}
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={900}>
          <Table aria-label="Artifacts of the run" verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Verdict</Table.Th>
                <Table.Th>Artifact</Table.Th>
                <Table.Th>Tags</Table.Th>
                <Table.Th>Size</Table.Th>
                <Table.Th>Why</Table.Th>
                <Table.Th>Outcome</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {tasks.data.items.map((t) => {
                const d = t.detail;
                const digest = d?.digest ?? t.subject.split('@')[1] ?? '';
                return (
                  <Table.Tr key={t.id} data-verdict={d?.verdict}>
                    <Table.Td>{d ? <VerdictBadge verdict={d.verdict} /> : '—'}</Table.Td>
                    <Table.Td>
                      <ArtifactCell image={d?.image ?? t.subject.split('@')[0]!} digest={digest} />
                    </Table.Td>
                    <Table.Td>
                      <TagBadges tags={d?.tags} />
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
                        {d ? formatBytes(d.size) : '—'}
                      </Text>
                    </Table.Td>
                    <Table.Td maw={360}>
                      <Text size="sm">{d?.reason ?? ''}</Text>
                      {d?.policy && (
                        <Text size="xs" c="dimmed">
                          {d.policy}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{outcome(t, run.dryRun)}</Text>
                      {t.status === 'failed' && t.message && (
                        <Text size="xs" c="red.8">
                          {t.message}
                        </Text>
                      )}
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {tasks.data && <Pager page={page} perPage={perPage} total={tasks.data.total} onChange={setPage} noun="artifact" />}
      {tasks.data && tasks.data.total > 0 && (
        <Text size="xs" c="dimmed" mt="xs">
          A run judges with the policies as they were when it began. An artifact never pulled counts as pulled when it was pushed.
        </Text>
      )}
    </Paper>
  );
}
