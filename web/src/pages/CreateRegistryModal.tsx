/**
 * Create a registry: the guide's name rules checked as you type, the address it will have, the server's refusal. The
 * purpose of use is Standard (push and pull) or Image Cache (pulls through from a source registry; no pushes).
 */
import { Alert, Anchor, Button, Checkbox, Code, Group, Modal, SegmentedControl, Select, Stack, Text, TextInput } from '@mantine/core';
import { Link } from 'react-router';
import { useEndpoints } from '../api/endpoints';
import { IconAlertTriangle } from '@tabler/icons-react';
import { type FormEvent, useState } from 'react';
import { api, errorMessage, seg } from '../api/client';
import { useCreateRegistry } from '../api/registries';
import { useSession } from '../api/session';
import type { Registry } from '../api/types';
import { REGISTRY_NAME_RULE, registryNameProblem } from '../lib/names';

export function CreateRegistryModal({ opened, onClose, onCreated }: { opened: boolean; onClose: () => void; onCreated?: (r: Registry) => void }) {
  const host = useSession().data?.registryHost ?? window.location.host;
  const create = useCreateRegistry();
  const [name, setName] = useState('');
  const [touched, setTouched] = useState(false);
  const [autoScan, setAutoScan] = useState(false);
  const [purpose, setPurpose] = useState<'standard' | 'cache'>('standard');
  const [endpoint, setEndpoint] = useState<string | null>(null);
  const endpoints = useEndpoints();
  const problem = registryNameProblem(name, host) ?? (purpose === 'cache' && !endpoint ? 'Select the image cache (source registry) to pull from.' : null);
  const nameProblem = registryNameProblem(name, host);

  const close = () => {
    if (create.isPending) return;
    setName('');
    setTouched(false);
    setAutoScan(false);
    setPurpose('standard');
    setEndpoint(null);
    create.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (problem) return;
    create.mutate(purpose === 'cache' ? { name, endpoint: endpoint! } : name, {
      onSuccess: async (r) => {
        // Auto Scan When Push is a scan setting of the registry, set right after it exists
        if (autoScan) await api('PUT', `/registries/${seg(r.name)}/scan/settings`, { autoScan: true }).catch(() => undefined);
        close();
        onCreated?.(r);
      },
    });
  };

  return (
    <Modal opened={opened} onClose={close} title="Create registry" centered>
      <form onSubmit={submit} noValidate>
        <Stack gap="md">
          <TextInput
            label="Registry name"
            description={REGISTRY_NAME_RULE}
            placeholder="e.g. team-backend"
            value={name}
            onChange={(e) => {
              setName(e.currentTarget.value);
              setTouched(true);
              if (create.error) create.reset();
            }}
            error={touched && name !== '' ? nameProblem : null}
            autoCapitalize="none"
            spellCheck={false}
            required
            data-autofocus
          />
          <div>
            <Text size="sm" fw={500} mb={4} id="purpose-label">
              Purpose of use
            </Text>
            <SegmentedControl
              aria-labelledby="purpose-label"
              value={purpose}
              onChange={(v) => setPurpose(v as 'standard' | 'cache')}
              data={[
                { value: 'standard', label: 'Standard' },
                { value: 'cache', label: 'Image Cache' },
              ]}
            />
          </div>
          {purpose === 'cache' && (
            <Select
              label="Image cache"
              description={
                <>
                  The source registry to pull from and cache. Pushes into this registry are refused; it starts with the cleanup policy “delete all except artifacts
                  pulled within 7 days”. Manage sources on the{' '}
                  <Anchor component={Link} to="/image-cache" size="xs" onClick={close}>
                    Image Cache
                  </Anchor>{' '}
                  tab.
                </>
              }
              placeholder={endpoints.data?.items.length === 0 ? 'No image cache yet: create one first' : 'Select an image cache'}
              data={(endpoints.data?.items ?? []).map((e) => ({ value: e.name, label: `${e.name} (${e.url})` }))}
              value={endpoint}
              onChange={setEndpoint}
              required
            />
          )}
          <div>
            <Text size="sm" fw={500} mb={4}>
              {purpose === 'cache' ? 'Address to pull through' : 'Address to push to'}
            </Text>
            <Code block c={nameProblem && name ? 'dimmed' : undefined}>
              {host}/{name || 'NAME'}/IMAGE:TAG
            </Code>
            {purpose === 'cache' && (
              <Text size="xs" c="dimmed" mt={4}>
                Docker Hub official images: {host}/{name || 'NAME'}/library/IMAGE:TAG
              </Text>
            )}
          </div>
          <Checkbox label="Auto Scan When Push" description="Scan every image pushed to this registry for vulnerabilities" checked={autoScan} onChange={(e) => setAutoScan(e.currentTarget.checked)} />
          {create.error && (
            <Alert color="red" icon={<IconAlertTriangle size={18} />} title="The registry was not created" role="alert">
              {errorMessage(create.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close} disabled={create.isPending}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending} disabled={Boolean(problem)}>
              Create
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
