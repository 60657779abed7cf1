/**
 * The artifact's Image Scan tab: its scan status with Scan / Stop scanning, and the last report's vulnerabilities with
 * filters (severity, fixable only, package) and a search over IDs, packages and descriptions.
 */
import { Alert, Anchor, Badge, Button, Checkbox, Group, MultiSelect, Select, Stack, Table, Text, TextInput } from '@mantine/core';
import { IconPlayerStop, IconSearch, IconShieldSearch } from '@tabler/icons-react';
import { useMemo, useState } from 'react';
import type { ImageRef } from '../../api/images';
import { SEVERITIES, SEVERITY_COLOR, type Severity, useScanOverview, useScanReport, useStartScan, useStopScan } from '../../api/scanning';
import { usePermissions } from '../../api/session';
import { DateTime } from '../../components/DateTime';
import { LoadError, LoadingRows } from '../../components/QueryState';
import { VulnerabilityBadge } from '../../components/VulnerabilityBadge';

export function ScanPanel({ imageRef, digest }: { imageRef: ImageRef; digest: string }) {
  const { canWrite } = usePermissions();
  const o = useScanOverview(imageRef, digest);
  const report = useScanReport(imageRef, digest, o.data?.status === 'Success');
  const start = useStartScan(imageRef);
  const stop = useStopScan(imageRef);
  const [severities, setSeverities] = useState<string[]>([]);
  const [fixable, setFixable] = useState(false);
  const [pkg, setPkg] = useState<string | null>(null);
  const [q, setQ] = useState('');

  const vulns = report.data?.vulnerabilities ?? [];
  const packages = useMemo(() => [...new Set(vulns.map((v) => v.package))].sort(), [vulns]);
  const shown = vulns.filter(
    (v) =>
      (severities.length === 0 || severities.includes(v.severity)) &&
      (!fixable || v.fix_version) &&
      (!pkg || v.package === pkg) &&
      (!q || `${v.id} ${v.vendor_attributes.aliases.join(' ')} ${v.package} ${v.description}`.toLowerCase().includes(q.toLowerCase())),
  );

  if (o.isPending) return <LoadingRows rows={3} />;
  if (o.isError) return <LoadError error={o.error} retry={() => o.refetch()} what="the scan status" />;
  const status = o.data.status;
  return (
    <Stack gap="md" aria-label="Image scan">
      <Group justify="space-between">
        <Group gap="sm">
          <Text fw={600} size="sm">
            Vulnerability
          </Text>
          <VulnerabilityBadge o={o.data} />
          {o.data.endedAt && (
            <Text size="xs" c="dimmed">
              scanned <DateTime value={o.data.endedAt} />
            </Text>
          )}
        </Group>
        {canWrite &&
          (status === 'Scanning' ? (
            <Button variant="light" color="red" leftSection={<IconPlayerStop size={16} />} loading={stop.isPending} onClick={() => stop.mutate(digest)}>
              Stop scanning
            </Button>
          ) : (
            <Button leftSection={<IconShieldSearch size={16} />} loading={start.isPending} onClick={() => start.mutate(digest)}>
              Scan
            </Button>
          ))}
      </Group>
      {status === 'Error' && (
        <Alert color="red" title="The scan failed">
          {o.data.message}
        </Alert>
      )}
      {status === 'Not Scanned' && <Text size="sm" c="dimmed">This artifact has not been scanned yet.{canWrite ? ' Click Scan to look for known vulnerabilities in its packages.' : ''}</Text>}
      {status === 'Success' && report.isError && <LoadError error={report.error} retry={() => report.refetch()} what="the report" />}
      {status === 'Success' && report.data && (
        <>
          <Group gap="sm" align="flex-end">
            <MultiSelect label="Severity" placeholder={severities.length ? undefined : 'All'} data={SEVERITIES.filter((s) => s !== 'None')} value={severities} onChange={setSeverities} clearable w={260} />
            <Select label="Package" placeholder="All" data={packages} value={pkg} onChange={setPkg} clearable searchable w={240} />
            <TextInput label="Search" placeholder="CVE, package, description" leftSection={<IconSearch size={14} />} value={q} onChange={(e) => setQ(e.currentTarget.value)} w={240} />
            <Checkbox label="Fixable only" checked={fixable} onChange={(e) => setFixable(e.currentTarget.checked)} mb={8} />
          </Group>
          <Text size="xs" c="dimmed">
            {shown.length} of {vulns.length} vulnerabilities
          </Text>
          <Table.ScrollContainer minWidth={980}>
            <Table aria-label="Vulnerabilities" striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Vulnerability</Table.Th>
                  <Table.Th miw={130}>Severity</Table.Th>
                  <Table.Th>Package</Table.Th>
                  <Table.Th miw={120}>Current version</Table.Th>
                  <Table.Th miw={120}>Fixed in version</Table.Th>
                  <Table.Th>Description</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {shown.map((v) => (
                  <Table.Tr key={`${v.id} ${v.package} ${v.vendor_attributes.path}`}>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>
                      {v.links[0] ? (
                        <Anchor href={v.links[0]} target="_blank" rel="noreferrer" size="sm">
                          {v.id}
                        </Anchor>
                      ) : (
                        <Text size="sm">{v.id}</Text>
                      )}
                      {v.vendor_attributes.allowlisted && (
                        <Badge ml={6} size="xs" variant="outline" color="gray">
                          allowed
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <Badge color={SEVERITY_COLOR[v.severity as Severity]} variant="light" tt="none" style={{ flexShrink: 0, overflow: 'visible' }}>
                          {v.severity}
                        </Badge>
                        {v.preferred_cvss && (
                          <Text size="xs" c="dimmed" title={v.preferred_cvss.vector_v3}>
                            {v.preferred_cvss.score_v3.toFixed(1)}
                          </Text>
                        )}
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{v.package}</Text>
                      <Text size="xs" c="dimmed">
                        {v.vendor_attributes.ecosystem}
                      </Text>
                    </Table.Td>
                    <Table.Td className="mono">{v.version}</Table.Td>
                    <Table.Td className="mono">{v.fix_version || <Text size="sm" c="dimmed">-</Text>}</Table.Td>
                    <Table.Td>
                      <Text size="xs" lineClamp={2} maw={380}>
                        {v.description}
                      </Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </>
      )}
    </Stack>
  );
}
