/** The Image Protection tab: a registry's protection policies (add, enable/disable, delete). */
import { Alert, Button, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { IconPlus, IconShieldLock } from '@tabler/icons-react';
import { useState } from 'react';
import { MAX_POLICIES, usePolicies } from '../../api/policies';
import { usePermissions } from '../../api/session';
import type { Registry } from '../../api/types';
import { AddProtectionPolicyModal } from './AddPolicyModal';
import { PolicyTable } from './PolicyTable';

export function ProtectionTab({ registry }: { registry: Registry }) {
  const { canWrite } = usePermissions();
  const q = usePolicies(registry.name, 'protection');
  const [adding, setAdding] = useState(false);
  const count = q.data?.items.length ?? 0;
  return (
    <Stack gap="lg">
      <Alert variant="light" color="indigo" icon={<IconShieldLock size={18} />} title="What protection does">
        While a protection policy is enabled, the artifacts it covers cannot be deleted (by anyone, or by cleanup) and their tags cannot be moved or deleted. A
        protection policy wins over any cleanup policy: cleanup reports those artifacts as PROTECTED and leaves them.
      </Alert>
      <Paper withBorder p={{ base: 'sm', sm: 'md' }}>
        <Group justify="space-between" align="flex-start" mb="md" gap="sm">
          <div>
            <Title order={4}>Protection policies</Title>
            <Text size="sm" c="dimmed">
              {count} of {MAX_POLICIES}. An artifact is covered when the image filter matches its image and the tag filter selects one of its tags.
            </Text>
          </div>
          {canWrite && (
            <Button leftSection={<IconPlus size={16} />} onClick={() => setAdding(true)} disabled={count >= MAX_POLICIES} title={count >= MAX_POLICIES ? `At most ${MAX_POLICIES} protection policies` : undefined}>
              Add Protection Policy
            </Button>
          )}
        </Group>
        <PolicyTable registry={registry.name} kind="protection" />
      </Paper>
      <AddProtectionPolicyModal registry={registry.name} opened={adding} onClose={() => setAdding(false)} />
    </Stack>
  );
}
