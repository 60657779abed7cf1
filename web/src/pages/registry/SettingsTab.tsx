/** Registry settings: what it is, and the danger zone (delete). Later capabilities add their own tabs beside this. */
import { Button, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { usePermissions } from '../../api/session';
import type { Registry } from '../../api/types';
import { DeleteRegistryModal } from '../DeleteRegistryModal';

export function SettingsTab({ registry }: { registry: Registry }) {
  const { canWrite } = usePermissions();
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
