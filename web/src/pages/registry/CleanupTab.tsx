/**
 * The Image Cleanup tab. Policy Setting: the cleanup policies (add, enable/disable, delete), Test Run, Run
 * Immediately and the Cleanup Cycle Setting. View History (?view=history, a run: &run=ID): the runs and their details.
 */
import { Alert, Button, Group, Paper, Stack, Tabs, Text, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconFlask, IconHistory, IconInfoCircle, IconListCheck, IconPlayerPlay, IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { errorMessage } from '../../api/client';
import { MAX_POLICIES, usePolicies, useStartCleanup } from '../../api/policies';
import { usePermissions } from '../../api/session';
import type { Registry } from '../../api/types';
import { ConfirmModal } from '../../components/ConfirmModal';
import { AddCleanupPolicyModal } from './AddPolicyModal';
import { CleanupCycle } from './CleanupCycle';
import { CleanupHistory } from './CleanupHistory';
import { PolicyTable } from './PolicyTable';

/** What a cleanup deletes, said once and always visible on the tab. */
export const CLEANUP_RULES =
  "Only artifacts in images a policy's image filter matches are touched. An artifact is deleted when a policy selects it and no policy keeps it; protected artifacts are never deleted. Never-pulled artifacts count as pulled when pushed; pulls by digest count.";

export function CleanupTab({ registry }: { registry: Registry }) {
  const [params, setParams] = useSearchParams();
  const view = params.get('view') === 'history' ? 'history' : 'policies';
  const run = params.get('run') ?? undefined;
  const show = (next: { view: 'policies' | 'history'; run?: string }) =>
    setParams(() => {
      const p = new URLSearchParams();
      if (next.view === 'history') p.set('view', 'history');
      if (next.run) p.set('run', next.run);
      return p;
    });

  return (
    <Tabs value={view} onChange={(v) => show({ view: v === 'history' ? 'history' : 'policies', run: v === 'history' ? run : undefined })} variant="pills" keepMounted={false}>
      <Tabs.List mb="md" aria-label="Image Cleanup">
        <Tabs.Tab value="policies" leftSection={<IconListCheck size={16} />}>
          Policy Setting
        </Tabs.Tab>
        <Tabs.Tab value="history" leftSection={<IconHistory size={16} />}>
          View History
        </Tabs.Tab>
      </Tabs.List>
      <Tabs.Panel value="policies">
        <PolicySetting registry={registry.name} onStarted={(id) => show({ view: 'history', run: id })} />
      </Tabs.Panel>
      <Tabs.Panel value="history">
        <CleanupHistory registry={registry.name} selected={run} onSelect={(id) => show({ view: 'history', run: id })} />
      </Tabs.Panel>
    </Tabs>
  );
}

function PolicySetting({ registry, onStarted }: { registry: string; onStarted: (executionId: string) => void }) {
  const { canWrite } = usePermissions();
  const q = usePolicies(registry, 'cleanup');
  const start = useStartCleanup(registry);
  const [adding, setAdding] = useState(false);
  const [confirmRun, setConfirmRun] = useState(false);
  const count = q.data?.items.length ?? 0;
  const enabled = q.data?.items.filter((p) => p.enabled).length ?? 0;

  const begin = async (dryRun: boolean) => {
    const e = await start.mutateAsync({ dryRun });
    notifications.show({
      color: 'teal',
      title: dryRun ? 'Test run started' : 'Cleanup started',
      message: dryRun ? 'Nothing is deleted. Its verdicts for every artifact are in View History.' : 'Its progress and what it deletes are in View History.',
    });
    onStarted(e.id);
  };

  return (
    <Stack gap="lg">
      <Alert variant="light" color="blue" icon={<IconInfoCircle size={18} />} title="What cleanup deletes">
        {CLEANUP_RULES}
      </Alert>
      <Paper withBorder p={{ base: 'sm', sm: 'md' }}>
        <Group justify="space-between" align="flex-start" mb="md" gap="sm">
          <div style={{ flex: '1 1 320px' }}>
            <Title order={4}>Cleanup policies</Title>
            <Text size="sm" c="dimmed">
              {count} of {MAX_POLICIES}, {enabled} enabled. Image, tag and rule are AND conditions; changes count from the next run.
            </Text>
          </div>
          {canWrite && (
            <Group gap="sm">
              <Button variant="default" leftSection={<IconFlask size={16} />} onClick={() => void begin(true).catch((err: unknown) => notifications.show({ color: 'red', title: 'The test run did not start', message: errorMessage(err), autoClose: 8000 }))} loading={start.isPending && start.variables?.dryRun === true} disabled={enabled === 0}>
                Test Run
              </Button>
              <Button variant="light" color="red" leftSection={<IconPlayerPlay size={16} />} onClick={() => setConfirmRun(true)} disabled={enabled === 0}>
                Run Immediately
              </Button>
              <Button leftSection={<IconPlus size={16} />} onClick={() => setAdding(true)} disabled={count >= MAX_POLICIES}>
                Add Cleanup Policy
              </Button>
            </Group>
          )}
        </Group>
        <PolicyTable registry={registry} kind="cleanup" />
      </Paper>
      <CleanupCycle registry={registry} />
      <AddCleanupPolicyModal registry={registry} opened={adding} onClose={() => setAdding(false)} />
      <ConfirmModal opened={confirmRun} onClose={() => setConfirmRun(false)} title="Run cleanup now?" confirmLabel="Run Immediately" onConfirm={() => begin(false)}>
        <Text size="sm">
          {enabled === 1 ? 'The enabled policy deletes the artifacts it selects and does not keep' : `The ${enabled} enabled policies delete the artifacts one of them selects and none keeps`}, with their tags. Protected artifacts stay.
          Deleted artifacts cannot be restored: use <b>Test Run</b> first to see exactly which ones.
        </Text>
      </ConfirmModal>
    </Stack>
  );
}
