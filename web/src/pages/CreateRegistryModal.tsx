/** Create a registry: the guide's name rules checked as you type, the address it will have, the server's refusal. */
import { Alert, Button, Checkbox, Code, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
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
  const problem = registryNameProblem(name, host);

  const close = () => {
    if (create.isPending) return;
    setName('');
    setTouched(false);
    setAutoScan(false);
    create.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (problem) return;
    create.mutate(name, {
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
            error={touched && name !== '' ? problem : null}
            autoCapitalize="none"
            spellCheck={false}
            required
            data-autofocus
          />
          <div>
            <Text size="sm" fw={500} mb={4}>
              Address to push to
            </Text>
            <Code block c={problem && name ? 'dimmed' : undefined}>
              {host}/{name || 'NAME'}/IMAGE:TAG
            </Code>
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
