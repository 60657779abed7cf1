/** One registry: its address and numbers, then tabs (images with push commands, settings, and later more). */
import { Group, Paper, SimpleGrid, Tabs, Text, ThemeIcon } from '@mantine/core';
import { IconBox } from '@tabler/icons-react';
import { useNavigate, useParams } from 'react-router';
import { useRegistry } from '../../api/registries';
import { CopyButton } from '../../components/CopyButton';
import { DateTime } from '../../components/DateTime';
import { PageHeader } from '../../components/PageHeader';
import { QuotaBar } from '../../components/QuotaBar';
import { LoadError, LoadingRows } from '../../components/QueryState';
import { formatBytes } from '../../lib/format';
import { NotFoundPage } from '../NotFoundPage';
import { REGISTRY_TABS } from './tabs';

function Stat({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600} lts={0.4}>
        {label}
      </Text>
      <Text size="lg" fw={600} mt={2} component="div">
        {children}
      </Text>
    </div>
  );
}

export function RegistryPage() {
  const { registry: name = '', tab = 'images' } = useParams();
  const navigate = useNavigate();
  const q = useRegistry(name);
  const current = REGISTRY_TABS.find((t) => t.value === tab);
  if (!current) return <NotFoundPage />;

  const crumbs = [{ label: 'Registries', to: '/registries' }, { label: name }];
  if (q.isPending) return <LoadingRows rows={6} />;
  if (q.isError) {
    return (
      <>
        <PageHeader title={name} crumbs={crumbs} />
        <LoadError error={q.error} what={`registry ${name}`} retry={() => q.refetch()} />
      </>
    );
  }
  const r = q.data;
  const base = `/registries/${encodeURIComponent(r.name)}`;

  return (
    <>
      <PageHeader
        crumbs={crumbs}
        icon={
          <ThemeIcon size={42} radius="md" variant="light">
            <IconBox size={24} />
          </ThemeIcon>
        }
        title={r.name}
        subtitle={
          <>
            <Group gap={4} wrap="nowrap">
              <Text span className="mono" c="dimmed">
                {r.address}
              </Text>
              <CopyButton value={r.address} label="Copy registry address" />
            </Group>
            {r.privateAddress && (
              <Group gap={4} wrap="nowrap">
                <Text span size="xs" c="dimmed">
                  Private URI
                </Text>
                <Text span className="mono" c="dimmed">
                  {r.privateAddress}
                </Text>
                <CopyButton value={r.privateAddress} label="Copy private address" />
              </Group>
            )}
          </>
        }
      />
      <Paper withBorder p="md" mb="lg">
        <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="lg">
          <Stat label="Images">{r.imageCount.toLocaleString()}</Stat>
          <Stat label="Storage used">
            {formatBytes(r.storageBytes)}
            {r.quotaBytes !== null && <QuotaBar used={r.storageBytes} quota={r.quotaBytes} />}
          </Stat>
          <Stat label="Created">
            <DateTime value={r.createdAt} />
          </Stat>
          <Stat label="Created by">{r.createdBy ?? '—'}</Stat>
        </SimpleGrid>
      </Paper>
      <Tabs value={current.value} onChange={(v) => navigate(v === 'images' ? base : `${base}/${v}`)} keepMounted={false}>
        <Tabs.List mb="md" aria-label={`Registry ${r.name}`}>
          {REGISTRY_TABS.map((t) => (
            <Tabs.Tab key={t.value} value={t.value} leftSection={<t.icon size={16} />}>
              {t.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        {REGISTRY_TABS.map((t) => (
          <Tabs.Panel key={t.value} value={t.value}>
            <t.Component registry={r} />
          </Tabs.Panel>
        ))}
      </Tabs>
    </>
  );
}
