/** Layers with sizes (an index: its platform manifests), and the image config in words. */
import { Badge, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import type { ArtifactDetail, ImageConfigSummary } from '../../api/types';
import { CopyButton } from '../../components/CopyButton';
import { DateTime } from '../../components/DateTime';
import { formatBytes, isIndex, shortDigest } from '../../lib/format';
import { JsonBlock } from './JsonBlock';

export function LayersPanel({ artifact: a }: { artifact: ArtifactDetail }) {
  if (isIndex(a.mediaType)) {
    return (
      <Table.ScrollContainer minWidth={520}>
        <Table aria-label="Platform manifests">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Platform</Table.Th>
              <Table.Th>Digest</Table.Th>
              <Table.Th ta="right">Manifest size</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {a.manifests.map((m) => (
              <Table.Tr key={m.digest}>
                <Table.Td>{m.platform ? [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join('/') : <Text c="dimmed">—</Text>}</Table.Td>
                <Table.Td>
                  <Group gap={2} wrap="nowrap">
                    <Text className="mono">{shortDigest(m.digest)}</Text>
                    <CopyButton value={m.digest} label="Copy digest" />
                  </Group>
                </Table.Td>
                <Table.Td ta="right">{formatBytes(m.size)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    );
  }
  const total = a.layers.reduce((s, l) => s + l.size, 0);
  return (
    <Table.ScrollContainer minWidth={560}>
      <Table aria-label="Layers">
        <Table.Thead>
          <Table.Tr>
            <Table.Th w={48}>#</Table.Th>
            <Table.Th>Digest</Table.Th>
            <Table.Th>Media type</Table.Th>
            <Table.Th ta="right">Size</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {a.layers.map((l, i) => (
            <Table.Tr key={`${l.digest}-${i}`}>
              <Table.Td c="dimmed">{i + 1}</Table.Td>
              <Table.Td>
                <Group gap={2} wrap="nowrap">
                  <Text className="mono">{shortDigest(l.digest)}</Text>
                  <CopyButton value={l.digest} label={`Copy digest of layer ${i + 1}`} />
                </Group>
              </Table.Td>
              <Table.Td>
                <Text size="sm" c="dimmed">
                  {l.mediaType}
                </Text>
              </Table.Td>
              <Table.Td ta="right" style={{ whiteSpace: 'nowrap' }}>
                {formatBytes(l.size)}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
        <Table.Tfoot>
          <Table.Tr>
            <Table.Th colSpan={3}>{a.layers.length === 1 ? '1 layer' : `${a.layers.length} layers`}</Table.Th>
            <Table.Th ta="right">{formatBytes(total)}</Table.Th>
          </Table.Tr>
        </Table.Tfoot>
      </Table>
    </Table.ScrollContainer>
  );
}

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" fw={600} tt="uppercase" lts={0.4}>
        {label}
      </Text>
      <Text size="sm" component="div" mt={2} style={{ wordBreak: 'break-word' }}>
        {children}
      </Text>
    </div>
  );
}

const joined = (v: string[] | null) => (v && v.length ? <code>{v.join(' ')}</code> : <Text span c="dimmed">—</Text>);

export function ConfigPanel({ config: c }: { config: ImageConfigSummary }) {
  const labels = Object.entries(c.labels ?? {});
  return (
    <Stack gap="lg">
      <SimpleGrid cols={{ base: 1, sm: 2, md: 3 }} spacing="md">
        <Field label="Platform">{[c.os, c.architecture].filter(Boolean).join('/') || '—'}</Field>
        <Field label="Created">{c.created ? <DateTime value={c.created} /> : '—'}</Field>
        <Field label="Author">{c.author ?? '—'}</Field>
        <Field label="Entrypoint">{joined(c.entrypoint)}</Field>
        <Field label="Command">{joined(c.cmd)}</Field>
      </SimpleGrid>
      {(c.env?.length ?? 0) > 0 && (
        <Field label="Environment">
          <Stack gap={2} mt={4}>
            {c.env!.map((e) => (
              <code key={e}>{e}</code>
            ))}
          </Stack>
        </Field>
      )}
      {labels.length > 0 && (
        <Field label="Labels">
          <Group gap={6} mt={4}>
            {labels.map(([k, v]) => (
              <Badge key={k} variant="light" color="gray" tt="none" radius="sm">
                {k}={v}
              </Badge>
            ))}
          </Group>
        </Field>
      )}
      <div>
        <Title order={5} mb="xs">
          Raw config
        </Title>
        <JsonBlock value={c.raw} label="Config JSON" maxHeight={360} />
      </div>
    </Stack>
  );
}
