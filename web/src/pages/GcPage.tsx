/**
 * Garbage collection (admins only): run now or a dry run, the schedule, and the history of runs with their progress
 * (blobs examined, deleted, bytes freed), refreshed every second while one is under way; each run's details list its
 * failed deletions, deleted untagged artifacts or (dry run) what it would delete.
 */
import { Button, Checkbox, Group, Modal, Paper, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { IconPlayerPlay, IconPlayerStop, IconTestPipe } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { type GcRun, useGcRuns, useGcSchedule, useGcTasks, useSetGcSchedule, useStartGc, useStopGc } from '../api/gc';
import { ConfirmModal } from '../components/ConfirmModal';
import { DateTime } from '../components/DateTime';
import { PageHeader } from '../components/PageHeader';
import { Pager } from '../components/Pager';
import { LoadError, LoadingRows } from '../components/QueryState';
import { StatusBadge } from '../components/Runs';
import { formatBytes } from '../lib/format';
import { useListParams } from '../lib/useListParams';
import { errorMessage } from '../api/client';


/** Each counter in words, in the order a person reads them; a counter not listed here is shown by its name. */
const COUNT_LABELS: Record<string, string> = {
  blobsExamined: 'Blobs examined',
  linksExamined: 'Repository links examined',
  filesExamined: 'Stored files examined',
  linksToDelete: 'Unreferenced links to remove',
  linksDeleted: 'Unreferenced links removed',
  blobsToDelete: 'Blobs to delete',
  blobsDeleted: 'Blobs deleted',
  blobsKept: 'Blobs kept (referenced again meanwhile)',
  orphansToDelete: 'Orphaned files to delete',
  orphansDeleted: 'Orphaned files deleted',
  artifactsToDelete: 'Untagged artifacts to delete',
  artifactsDeleted: 'Untagged artifacts deleted',
  artifactsProtected: 'Untagged artifacts kept (protected)',
  bytesToFree: 'Space to free',
  bytesFreed: 'Space freed',
  failed: 'Failed',
};
const countOrder = (k: string) => {
  const i = Object.keys(COUNT_LABELS).indexOf(k);
  return i < 0 ? 999 : i;
};

/** The counts a person reads first: what went (or would go), and how much space. */
function progress(r: GcRun): string {
  const c = r.counts;
  const dry = Boolean(r.params?.dryRun);
  const parts = dry
    ? [`${c.blobsToDelete ?? 0} blobs and ${c.orphansToDelete ?? 0} orphaned files would go`, `${formatBytes(c.bytesToFree ?? 0)} to free`, c.artifactsToDelete ? `${c.artifactsToDelete} untagged artifacts` : '']
    : [`${c.blobsDeleted ?? 0} blobs, ${c.orphansDeleted ?? 0} orphaned files and ${c.linksDeleted ?? 0} links deleted`, `${formatBytes(c.bytesFreed ?? 0)} freed`, c.artifactsDeleted ? `${c.artifactsDeleted} untagged artifacts` : ''];
  if (c.failed) parts.push(`${c.failed} failed`);
  return parts.filter(Boolean).join(' · ');
}

function RunDetails({ run, onClose }: { run: GcRun | null; onClose: () => void }) {
  const tasks = useGcTasks(run?.id);
  return (
    <Modal opened={Boolean(run)} onClose={onClose} title="Garbage collection run" size="lg">
      {run && (
        <Stack gap="sm">
          <Text size="sm">
            {run.params?.dryRun ? 'Dry run' : 'Run'} started by {run.createdBy ?? 'the schedule'} ({run.trigger}); safe window {run.params?.safeWindowSeconds ?? '?'} s
            {run.params?.deleteUntagged ? '; untagged artifacts too' : ''}.
          </Text>
          {run.message && <Text size="sm">{run.message}</Text>}
          <Table aria-label="Counts" withRowBorders={false}>
            <Table.Tbody>
              {Object.entries(run.counts)
                .sort(([a], [b]) => countOrder(a) - countOrder(b))
                .map(([k, v]) => (
                  <Table.Tr key={k}>
                    <Table.Td>{COUNT_LABELS[k] ?? k}</Table.Td>
                    <Table.Td>{k.startsWith('bytes') ? formatBytes(v) : v}</Table.Td>
                  </Table.Tr>
                ))}
            </Table.Tbody>
          </Table>
          <Title order={5}>Items</Title>
          {tasks.isPending ? (
            <LoadingRows rows={2} />
          ) : tasks.isError ? (
            <LoadError error={tasks.error} what="the run's items" />
          ) : tasks.data.items.length === 0 ? (
            <Text size="sm" c="dimmed">
              None: a run lists its failed deletions and deleted untagged artifacts; a dry run lists what it would delete.
            </Text>
          ) : (
            <Table.ScrollContainer minWidth={480}>
              <Table aria-label="Items">
                <Table.Tbody>
                  {tasks.data.items.map((t) => (
                    <Table.Tr key={t.id}>
                      <Table.Td style={{ wordBreak: 'break-all' }}>{t.subject}</Table.Td>
                      <Table.Td>{t.detail?.kind}</Table.Td>
                      <Table.Td>{t.detail?.size !== undefined ? formatBytes(t.detail.size) : ''}</Table.Td>
                      <Table.Td>{t.status === 'failed' ? <Text c="red" size="sm">{t.message}</Text> : t.message}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}
        </Stack>
      )}
    </Modal>
  );
}

function ScheduleCard() {
  const q = useGcSchedule();
  const set = useSetGcSchedule();
  const [cron, setCron] = useState('');
  const [untagged, setUntagged] = useState(false);
  useEffect(() => {
    if (q.data) {
      setCron(q.data.enabled ? (q.data.cron ?? '') : '');
      setUntagged(q.data.deleteUntagged);
    }
  }, [q.data]);
  if (q.isPending) return <LoadingRows rows={2} />;
  if (q.isError) return <LoadError error={q.error} retry={() => q.refetch()} what="the schedule" />;
  const s = q.data;
  return (
    <Stack gap="xs">
      <Title order={4}>Schedule</Title>
      <Text size="sm" c="dimmed">
        {s.enabled ? (
          <>
            Runs on <code>{s.cron}</code> (UTC); next <DateTime value={s.nextAt} />.
          </>
        ) : (
          'Off: garbage collection runs only when started here or with `ncr gc run`.'
        )}
      </Text>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          set.mutate({ cron: cron.trim(), deleteUntagged: untagged });
        }}
      >
        <Stack gap="xs">
          <TextInput label="Cron (5 fields, UTC)" placeholder="0 4 * * 0   (Sundays at 04:00)" value={cron} onChange={(e) => setCron(e.currentTarget.value)} error={set.isError ? errorMessage(set.error) : undefined} />
          <Checkbox label="Scheduled runs also delete untagged artifacts" checked={untagged} onChange={(e) => setUntagged(e.currentTarget.checked)} />
          <Group gap="xs">
            <Button type="submit" size="xs" loading={set.isPending} disabled={!cron.trim()}>
              Save schedule
            </Button>
            <Button size="xs" variant="default" disabled={!s.enabled || set.isPending} onClick={() => set.mutate({ cron: null, deleteUntagged: false })}>
              Turn off
            </Button>
          </Group>
        </Stack>
      </form>
    </Stack>
  );
}

export function GcPage() {
  const list = useListParams(20);
  const runs = useGcRuns({ page: list.page, perPage: list.perPage });
  const start = useStartGc();
  const stop = useStopGc();
  const [untagged, setUntagged] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [details, setDetails] = useState<GcRun | null>(null);
  const busy = runs.data?.items.some((r) => r.status === 'queued' || r.status === 'running') ?? false;

  return (
    <>
      <PageHeader
        title="Garbage collection"
        subtitle="Deletes the blobs no manifest references any more (after an image or artifact was deleted) and frees their space. Blobs, links and artifacts younger than the safe window are never touched, so pushes in progress are safe."
      />
      <SimpleGrid cols={{ base: 1, md: 2 }} mb="md">
        <Paper withBorder p="md">
          <Stack gap="xs">
            <Title order={4}>Run</Title>
            <Text size="sm" c="dimmed">
              A dry run deletes nothing: it counts and lists what a run would delete. One run at a time.
            </Text>
            <Checkbox
              label="Also delete untagged artifacts first (index children in use and signatures of images that are still there are kept; protected artifacts are never deleted)"
              checked={untagged}
              onChange={(e) => setUntagged(e.currentTarget.checked)}
            />
            <Group gap="xs">
              <Button leftSection={<IconTestPipe size={16} />} variant="default" disabled={busy} loading={start.isPending && start.variables?.dryRun} onClick={() => start.mutate({ dryRun: true, deleteUntagged: untagged })}>
                Dry run
              </Button>
              <Button leftSection={<IconPlayerPlay size={16} />} color="red" disabled={busy} onClick={() => setConfirming(true)}>
                Run now
              </Button>
            </Group>
          </Stack>
        </Paper>
        <Paper withBorder p="md">
          <ScheduleCard />
        </Paper>
      </SimpleGrid>
      <Paper withBorder p={{ base: 'sm', sm: 'md' }}>
        <Title order={4} mb="xs">
          History
        </Title>
        {runs.isPending ? (
          <LoadingRows />
        ) : runs.isError ? (
          <LoadError error={runs.error} retry={() => runs.refetch()} what="garbage collection runs" />
        ) : runs.data.items.length === 0 ? (
          <Text size="sm" c="dimmed">
            No runs yet.
          </Text>
        ) : (
          <Table.ScrollContainer minWidth={900}>
            <Table aria-label="Garbage collection runs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={190}>Started</Table.Th>
                  <Table.Th w={150}>Kind</Table.Th>
                  <Table.Th w={120}>Status</Table.Th>
                  <Table.Th>Progress</Table.Th>
                  <Table.Th>Ended</Table.Th>
                  <Table.Th w={170}>
                    <span className="visually-hidden">Actions</span>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {runs.data.items.map((r) => (
                  <Table.Tr key={r.id}>
                    <Table.Td>
                      <DateTime value={r.startedAt ?? r.createdAt} />
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">
                        {r.params?.dryRun ? 'Dry run' : 'Run'}
                        {r.params?.deleteUntagged ? ' + untagged' : ''} · {r.trigger}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <StatusBadge status={r.status} />
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{progress(r)}</Text>
                    </Table.Td>
                    <Table.Td>
                      <DateTime value={r.endedAt} empty="-" />
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <Button size="compact-xs" variant="subtle" onClick={() => setDetails(r)}>
                          Details
                        </Button>
                        {(r.status === 'queued' || r.status === 'running') && (
                          <Button size="compact-xs" variant="subtle" color="red" leftSection={<IconPlayerStop size={14} />} disabled={r.stopRequested} onClick={() => stop.mutate(r.id)}>
                            Stop
                          </Button>
                        )}
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        {runs.data && <Pager page={list.page} perPage={list.perPage} total={runs.data.total} onChange={list.setPage} noun="run" />}
      </Paper>
      <ConfirmModal
        opened={confirming}
        onClose={() => setConfirming(false)}
        title="Run garbage collection now?"
        confirmLabel="Run now"
        onConfirm={() => start.mutateAsync({ dryRun: false, deleteUntagged: untagged })}
      >
        <Text size="sm">
          Blobs no manifest references and that are older than the safe window are deleted for good, with their bytes.
          {untagged ? ' Untagged artifacts older than the window are deleted first.' : ''} Pushes and pulls go on meanwhile.
        </Text>
      </ConfirmModal>
      <RunDetails run={details ? (runs.data?.items.find((r) => r.id === details.id) ?? details) : null} onClose={() => setDetails(null)} />
    </>
  );
}
