/**
 * The registry's Image Scan tab (Image Scan Settings): auto scan on push, prevent pull by severity (and what happens
 * to images not scanned yet), and the registry's own CVE allow list, which replaces the common one.
 */
import { Alert, Button, Group, Paper, Radio, Select, Stack, Switch, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { errorMessage } from '../../api/client';
import { type ScanSettings, SEVERITIES, useScanSettings, useSetScanSettings } from '../../api/scanning';
import { usePermissions } from '../../api/session';
import type { Registry } from '../../api/types';
import { LoadError, LoadingRows } from '../../components/QueryState';

export function ScanTab({ registry }: { registry: Registry }) {
  const { canWrite } = usePermissions();
  const q = useScanSettings(registry.name);
  const save = useSetScanSettings(registry.name);
  const [form, setForm] = useState<ScanSettings | null>(null);
  const [allowText, setAllowText] = useState('');
  const [expires, setExpires] = useState('');
  useEffect(() => {
    if (q.data) {
      setForm(q.data);
      setAllowText(q.data.allowlist.join('\n'));
      setExpires(q.data.allowlistExpiresAt ? q.data.allowlistExpiresAt.slice(0, 10) : '');
    }
  }, [q.data]);

  if (q.isPending || !form) return q.isError ? <LoadError error={q.error} retry={() => q.refetch()} what="the scan settings" /> : <LoadingRows rows={4} />;
  const set = (patch: Partial<ScanSettings>) => setForm({ ...form, ...patch });
  return (
    <Paper withBorder p="md">
      <form
        aria-label="Image scan settings"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate({ autoScan: form.autoScan, preventSeverity: form.preventSeverity, unscanned: form.unscanned, useOwnAllowlist: form.useOwnAllowlist, allowlist: allowText, allowlistExpiresAt: expires ? new Date(`${expires}T00:00:00Z`).toISOString() : null });
        }}
      >
        <Stack>
          <Title order={4}>Image Scan Settings</Title>
          <Switch label="Auto Scan When Push" description="Scan every image pushed to this registry" checked={form.autoScan} onChange={(e) => set({ autoScan: e.currentTarget.checked })} disabled={!canWrite} />
          <Select
            label="Prevent Pull"
            description="Images with vulnerabilities of this severity or worse cannot be pulled; vulnerabilities on the CVE allow list are ignored"
            data={[{ value: '', label: 'Allow every image' }, ...SEVERITIES.filter((s) => s !== 'None' && s !== 'Unknown').map((s) => ({ value: s, label: `${s} and above` }))]}
            value={form.preventSeverity ?? ''}
            onChange={(v) => set({ preventSeverity: (v || null) as ScanSettings['preventSeverity'] })}
            allowDeselect={false}
            disabled={!canWrite}
            w={340}
          />
          {form.preventSeverity && (
            <Radio.Group label="Images not scanned yet" value={form.unscanned} onChange={(v) => set({ unscanned: v as 'allow' | 'refuse' })}>
              <Group mt={4}>
                <Radio value="allow" label="Can be pulled" disabled={!canWrite} />
                <Radio value="refuse" label="Cannot be pulled until scanned" disabled={!canWrite} />
              </Group>
            </Radio.Group>
          )}
          <Switch
            label="Use this registry's own CVE allow list"
            description="When on, the common allow list (Scan Settings) is no longer used for this registry"
            checked={form.useOwnAllowlist}
            onChange={(e) => set({ useOwnAllowlist: e.currentTarget.checked })}
            disabled={!canWrite}
          />
          {form.useOwnAllowlist && (
            <>
              <Textarea label="Allow CVE" description="CVE IDs to ignore, separated by commas or line breaks" placeholder={'CVE-2023-4911\nCVE-2021-44228'} value={allowText} onChange={(e) => setAllowText(e.currentTarget.value)} autosize minRows={3} disabled={!canWrite} />
              <TextInput label="Expires on (UTC)" description="Empty: never" type="date" value={expires} onChange={(e) => setExpires(e.currentTarget.value)} w={220} disabled={!canWrite} />
            </>
          )}
          {save.error && (
            <Alert color="red" title="The settings were not saved">
              {errorMessage(save.error)}
            </Alert>
          )}
          {canWrite ? (
            <Group>
              <Button type="submit" loading={save.isPending}>
                Save
              </Button>
            </Group>
          ) : (
            <Text size="sm" c="dimmed">
              Members and admins can change these settings.
            </Text>
          )}
        </Stack>
      </form>
    </Paper>
  );
}
