/** Registry settings: what it is, its storage quota (admins set it), and the danger zone (delete). */
import { Button, Group, NumberInput, Paper, Select, Stack, Text, Title } from '@mantine/core';
import { IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { useSetQuota } from '../../api/registries';
import { usePermissions } from '../../api/session';
import { formatBytes } from '../../lib/format';
import type { Registry } from '../../api/types';
import { DeleteRegistryModal } from '../DeleteRegistryModal';

export function SettingsTab({ registry }: { registry: Registry }) {
  const { canWrite, isAdmin } = usePermissions();
  const [deleting, setDeleting] = useState(false);
  const navigate = useNavigate();
  return (
    <Stack gap="lg">
      <Paper withBorder p="md">
        <Title order={4} mb={4}>
          General
        </Title>
        <Text size="sm" c="dimmed">
          The name <b>{registry.name}</b> is part of every image address ({registry.address}/IMAGE:TAG) and cannot be changed. Registries are visible to every user;
          admins and members push and delete, viewers pull.
        </Text>
      </Paper>
      <QuotaSection registry={registry} isAdmin={isAdmin} />
      {canWrite && (
        <Paper withBorder p="md" style={{ borderColor: 'var(--mantine-color-red-3)' }}>
          <Group justify="space-between" gap="md">
            <div>
              <Title order={4} c="red.8">
                Delete this registry
              </Title>
              <Text size="sm" c="dimmed" maw={560}>
                {registry.imageCount > 0
                  ? `Deletes its ${registry.imageCount} image(s) with every artifact and tag. This cannot be undone.`
                  : 'The registry is empty: deleting it only frees the name.'}
              </Text>
            </div>
            <Button color="red" variant="light" leftSection={<IconTrash size={16} />} onClick={() => setDeleting(true)}>
              Delete registry
            </Button>
          </Group>
        </Paper>
      )}
      <DeleteRegistryModal registry={deleting ? registry : null} onClose={() => setDeleting(false)} onDeleted={() => navigate('/registries')} />
    </Stack>
  );
}

const UNITS = { MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 } as const;
type Unit = keyof typeof UNITS;

function QuotaSection({ registry, isAdmin }: { registry: Registry; isAdmin: boolean }) {
  const setQuota = useSetQuota();
  const initial: { amount: number; unit: Unit } =
    registry.quotaBytes === null ? { amount: 10, unit: 'GB' } : registry.quotaBytes >= UNITS.TB ? { amount: registry.quotaBytes / UNITS.TB, unit: 'TB' } : registry.quotaBytes >= UNITS.GB ? { amount: registry.quotaBytes / UNITS.GB, unit: 'GB' } : { amount: registry.quotaBytes / UNITS.MB, unit: 'MB' };
  const [amount, setAmount] = useState<number | string>(Number(initial.amount.toFixed(2)));
  const [unit, setUnit] = useState<Unit>(initial.unit);
  const bytes = typeof amount === 'number' && amount > 0 ? Math.round(amount * UNITS[unit]) : null;
  return (
    <Paper withBorder p="md">
      <Title order={4} mb={4}>
        Storage quota
      </Title>
      <Text size="sm" c="dimmed" mb="sm" maw={640}>
        {registry.quotaBytes === null ? 'No limit.' : `Up to ${formatBytes(registry.quotaBytes)}; ${formatBytes(registry.storageBytes)} used.`} Each layer counts once however many images use it.
        A push that would go over is refused; webhooks hear QUOTA_WARNING at 85% and QUOTA_EXCEED on a refusal. Deleting images frees space after garbage collection.
        {!isAdmin && ' Only admins change the quota.'}
      </Text>
      {isAdmin && (
        <Group gap="sm" align="flex-end">
          <NumberInput label="Quota" value={amount} onChange={setAmount} min={1} decimalScale={2} w={140} />
          <Select label="Unit" data={Object.keys(UNITS)} value={unit} onChange={(v) => v && setUnit(v as Unit)} w={90} allowDeselect={false} />
          <Button disabled={bytes === null} loading={setQuota.isPending} onClick={() => setQuota.mutate({ name: registry.name, quotaBytes: bytes })}>
            Set quota
          </Button>
          {registry.quotaBytes !== null && (
            <Button variant="default" loading={setQuota.isPending} onClick={() => setQuota.mutate({ name: registry.name, quotaBytes: null })}>
              Remove quota
            </Button>
          )}
        </Group>
      )}
    </Paper>
  );
}
