/**
 * The Create Replication dialog: a name, the target (an existing endpoint, or a new one: kind of registry, URL,
 * access id and secret), the target registry name (the path prefix there) and optional image and tag filters.
 */
import { Alert, Button, Checkbox, Group, Modal, PasswordInput, SegmentedControl, Select, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { type FormEvent, useEffect, useState } from 'react';
import { errorMessage } from '../../../api/client';
import { type ReplicationInput, useCreateReplication, useEndpoints, useProviders } from '../../../api/replication';

const blank = { name: '', mode: 'existing' as 'existing' | 'new', endpoint: '', epName: '', provider: 'ncr', url: '', accessId: '', secret: '', targetRegistry: '', image: '', tag: '', untagged: false };

function problemOf(f: typeof blank): string | null {
  if (!/^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/.test(f.name.trim())) return 'Give it a name: lowercase letters, digits, ".", "_" or "-" (up to 64).';
  if (f.mode === 'existing' && !f.endpoint) return 'Pick the target endpoint, or create a new one.';
  if (f.mode === 'new' && !f.epName.trim()) return 'Give the new endpoint a name.';
  if (f.mode === 'new' && !/^https?:\/\/[^\s/]+$/.test(f.url.trim())) return "The endpoint's URL is its address only: https://host[:port].";
  return null;
}

export function CreateReplicationModal({ registry, opened, onClose }: { registry: string; opened: boolean; onClose: () => void }) {
  const create = useCreateReplication(registry);
  const endpoints = useEndpoints();
  const providers = useProviders();
  const [f, setF] = useState(blank);
  const [touched, setTouched] = useState(false);

  useEffect(() => {
    if (!opened) return;
    setTouched(false);
    setF({ ...blank, targetRegistry: registry });
  }, [opened, registry]);
  useEffect(() => {
    // no endpoint yet: start with a new one
    if (opened && endpoints.data && endpoints.data.items.length === 0) setF((p) => ({ ...p, mode: 'new' }));
  }, [opened, endpoints.data]);

  const set = <K extends keyof typeof blank>(k: K, v: (typeof blank)[K]) => {
    setF((prev) => ({ ...prev, [k]: v }));
    if (create.error) create.reset();
  };
  const problem = problemOf(f);
  const provider = providers.data?.items.find((p) => p.provider === f.provider);
  const close = () => {
    if (create.isPending) return;
    create.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (problem) return;
    const body: ReplicationInput = {
      name: f.name.trim(),
      endpoint:
        f.mode === 'existing'
          ? f.endpoint
          : { name: f.epName.trim(), provider: f.provider, url: f.url.trim(), ...(f.accessId ? { accessId: f.accessId } : {}), ...(f.secret ? { secret: f.secret } : {}) },
      ...(f.targetRegistry.trim() ? { targetRegistry: f.targetRegistry.trim() } : {}),
      ...(f.image.trim() ? { imageFilter: { pattern: f.image.trim(), syntax: 'glob', mode: 'matching' } } : {}),
      ...(f.tag.trim() || f.untagged ? { tagFilter: { pattern: f.tag.trim() || '**', syntax: 'glob', mode: 'matching', untagged: f.untagged } } : {}),
    };
    create.mutate(body, { onSuccess: () => close() });
  };

  return (
    <Modal opened={opened} onClose={close} title="Create Replication" centered size="lg">
      <form onSubmit={submit} noValidate aria-label="Create Replication">
        <Stack gap="md">
          <TextInput label="Name" placeholder="e.g. to-seoul" value={f.name} onChange={(e) => set('name', e.currentTarget.value)} required data-autofocus />
          <div>
            <Text size="sm" fw={500} mb={4}>
              Target
            </Text>
            <SegmentedControl
              fullWidth
              value={f.mode}
              onChange={(v) => set('mode', v as 'existing' | 'new')}
              data={[
                { value: 'existing', label: 'Existing endpoint' },
                { value: 'new', label: 'New endpoint' },
              ]}
            />
          </div>
          {f.mode === 'existing' ? (
            <Select
              label="Endpoint"
              placeholder={endpoints.data?.items.length ? 'Pick a remote registry' : 'No endpoints yet: create a new one'}
              data={(endpoints.data?.items ?? []).map((e) => ({ value: e.id, label: `${e.name} (${e.url})` }))}
              value={f.endpoint || null}
              onChange={(v) => set('endpoint', v ?? '')}
              searchable
              required
            />
          ) : (
            <>
              <SimpleGrid cols={{ base: 1, sm: 2 }}>
                <TextInput label="Endpoint name" placeholder="e.g. seoul" value={f.epName} onChange={(e) => set('epName', e.currentTarget.value)} required />
                <Select label="Registry type" data={(providers.data?.items ?? []).map((p) => ({ value: p.provider, label: p.title }))} value={f.provider} onChange={(v) => set('provider', v ?? 'ncr')} allowDeselect={false} />
              </SimpleGrid>
              <TextInput label="URL" placeholder={provider?.urlExample ?? 'https://registry.example.com'} value={f.url} onChange={(e) => set('url', e.currentTarget.value)} required />
              <SimpleGrid cols={{ base: 1, sm: 2 }}>
                <TextInput label="Access ID" description={provider?.accessId} value={f.accessId} onChange={(e) => set('accessId', e.currentTarget.value)} autoComplete="off" />
                <PasswordInput label="Access Secret" description={provider?.secret} value={f.secret} onChange={(e) => set('secret', e.currentTarget.value)} autoComplete="new-password" />
              </SimpleGrid>
            </>
          )}
          <TextInput
            label="Target registry"
            description={`The path prefix at the target: ${registry}/app is copied to ${f.targetRegistry || registry}/app`}
            value={f.targetRegistry}
            onChange={(e) => set('targetRegistry', e.currentTarget.value)}
          />
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput label="Image filter (optional)" description="glob, e.g. team/** ; empty: every image" value={f.image} onChange={(e) => set('image', e.currentTarget.value)} />
            <TextInput label="Tag filter (optional)" description="glob, e.g. v* ; empty: every tag" value={f.tag} onChange={(e) => set('tag', e.currentTarget.value)} />
          </SimpleGrid>
          <Checkbox label="Also replicate untagged artifacts" checked={f.untagged} onChange={(e) => set('untagged', e.currentTarget.checked)} />
          {touched && problem && (
            <Alert color="orange" variant="light" icon={<IconAlertTriangle size={18} />} p="xs">
              {problem}
            </Alert>
          )}
          {create.error && (
            <Alert color="red" variant="light" icon={<IconAlertTriangle size={18} />} p="xs" title="Not created">
              {errorMessage(create.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close} disabled={create.isPending}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending}>
              Create
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
