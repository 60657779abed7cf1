/**
 * Scan Settings for the whole service (admins): Auto Scan cycle (None, Hourly, Daily, Weekly, Custom cron; UTC), the
 * common CVE allow list, and the vulnerability data scans match against (its sources and age).
 */
import { Alert, Button, Group, Paper, Select, Stack, Table, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { errorMessage } from '../api/client';
import { type ScanCycle, useCommonAllowlist, useScanSchedule, useSetCommonAllowlist, useSetScanSchedule, useVulnDb } from '../api/scanning';
import { CommandBlock } from '../components/CommandBlock';
import { DateTime } from '../components/DateTime';
import { PageHeader } from '../components/PageHeader';
import { LoadError, LoadingRows } from '../components/QueryState';

const CYCLES: { value: ScanCycle; label: string }[] = [
  { value: 'None', label: 'None: auto scan is not set' },
  { value: 'Hourly', label: 'Hourly: at the start of every hour' },
  { value: 'Daily', label: 'Daily: at midnight (UTC)' },
  { value: 'Weekly', label: 'Weekly: Saturday at midnight (UTC)' },
  { value: 'Custom', label: 'Custom: a cron expression (UTC)' },
];

const age = (s: number) => (s < 3600 ? `${Math.floor(s / 60)} min` : s < 172_800 ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 86400)} days`);

function ScheduleCard() {
  const q = useScanSchedule();
  const save = useSetScanSchedule();
  const [cycle, setCycle] = useState<ScanCycle>('None');
  const [cron, setCron] = useState('');
  useEffect(() => {
    if (q.data) {
      setCycle(q.data.cycle);
      setCron(q.data.cycle === 'Custom' ? (q.data.cron ?? '') : '');
    }
  }, [q.data]);
  if (q.isError) return <LoadError error={q.error} retry={() => q.refetch()} what="the schedule" />;
  return (
    <Paper withBorder p="md">
      <form aria-label="Auto scan" onSubmit={(e) => (e.preventDefault(), save.mutate({ cycle, cron: cycle === 'Custom' ? cron : null }))}>
        <Stack>
          <Title order={4}>Auto Scan</Title>
          <Text size="sm" c="dimmed">
            Scans every artifact of every registry on this cycle.
          </Text>
          <Group align="flex-end">
            <Select label="Cycle" data={CYCLES} value={cycle} onChange={(v) => setCycle((v ?? 'None') as ScanCycle)} allowDeselect={false} w={320} />
            {cycle === 'Custom' && <TextInput label="Cron (5 fields, UTC)" placeholder="0 3 * * *" value={cron} onChange={(e) => setCron(e.currentTarget.value)} w={200} required />}
            <Button type="submit" loading={save.isPending}>
              Save
            </Button>
          </Group>
          {q.data?.nextAt && (
            <Text size="sm">
              Next scan: <DateTime value={q.data.nextAt} />
            </Text>
          )}
          {save.error && <Alert color="red">{errorMessage(save.error)}</Alert>}
        </Stack>
      </form>
    </Paper>
  );
}

function AllowlistCard() {
  const q = useCommonAllowlist();
  const save = useSetCommonAllowlist();
  const [text, setText] = useState('');
  const [expires, setExpires] = useState('');
  useEffect(() => {
    if (q.data) {
      setText(q.data.allowlist.join('\n'));
      setExpires(q.data.expiresAt ? q.data.expiresAt.slice(0, 10) : '');
    }
  }, [q.data]);
  if (q.isError) return <LoadError error={q.error} retry={() => q.refetch()} what="the allow list" />;
  return (
    <Paper withBorder p="md">
      <form aria-label="Allow common registry CVE" onSubmit={(e) => (e.preventDefault(), save.mutate({ allowlist: text, expiresAt: expires ? new Date(`${expires}T00:00:00Z`).toISOString() : null }))}>
        <Stack>
          <Title order={4}>Allow Common Registry CVE</Title>
          <Text size="sm" c="dimmed">
            Ignored by prevent pull in every registry that has no allow list of its own.
          </Text>
          <Textarea label="Allow List" description="CVE IDs separated by commas or line breaks" value={text} onChange={(e) => setText(e.currentTarget.value)} autosize minRows={3} />
          <TextInput label="Expires on (UTC)" description="Empty: never" type="date" value={expires} onChange={(e) => setExpires(e.currentTarget.value)} w={220} />
          {save.error && <Alert color="red">{errorMessage(save.error)}</Alert>}
          <Group>
            <Button type="submit" loading={save.isPending}>
              Save
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

function VulnDbCard() {
  const q = useVulnDb();
  return (
    <Paper withBorder p="md">
      <Stack>
        <Title order={4}>Vulnerability data</Title>
        <Text size="sm" c="dimmed">
          Scans work offline, from data an admin imports: OSV records or all.zip files, and the Debian security tracker's JSON.
        </Text>
        {q.isPending ? (
          <LoadingRows rows={2} />
        ) : q.isError ? (
          <LoadError error={q.error} retry={() => q.refetch()} what="the vulnerability data" />
        ) : q.data.sources.length === 0 ? (
          <Alert color="yellow" title="No vulnerability data yet">
            Scans find packages but no vulnerabilities until data is imported.
          </Alert>
        ) : (
          <Table aria-label="Vulnerability data">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Source</Table.Th>
                <Table.Th ta="right">Advisories</Table.Th>
                <Table.Th>Imported</Table.Th>
                <Table.Th>Age</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {q.data.sources.map((s) => (
                <Table.Tr key={s.source}>
                  <Table.Td>{s.source === 'osv' ? 'OSV' : 'Debian security tracker'}</Table.Td>
                  <Table.Td ta="right">{s.advisories}</Table.Td>
                  <Table.Td>
                    <DateTime value={s.importedAt} />
                  </Table.Td>
                  <Table.Td>{age(s.ageSeconds)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        <CommandBlock label="Import" lines={['ncr vulndb import ./osv/all.zip ./debian-security-tracker.json']} />
      </Stack>
    </Paper>
  );
}

export function ScanSettingsPage() {
  return (
    <Stack gap="lg">
      <PageHeader title="Scan Settings" subtitle="Vulnerability scanning for every registry" />
      <ScheduleCard />
      <AllowlistCard />
      <VulnDbCard />
    </Stack>
  );
}
