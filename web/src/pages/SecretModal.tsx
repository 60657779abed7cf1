/** Shows a new secret key exactly once, with copy buttons and a warning; closing needs an explicit "I have stored it". */
import { Alert, Button, Code, Group, Modal, Stack, Text } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { useSession } from '../api/session';
import type { NewAccessKey } from '../api/types';
import { CopyButton } from '../components/CopyButton';

function Secret({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <Text size="sm" fw={600} mb={4}>
        {label}
      </Text>
      <Group gap={4} wrap="nowrap">
        <Code block style={{ flex: 1, fontSize: 14, wordBreak: 'break-all', whiteSpace: 'pre-wrap' }} data-testid={label === 'Secret key' ? 'secret-key' : 'access-key'}>
          {value}
        </Code>
        <CopyButton value={value} label={`Copy ${label.toLowerCase()}`} size="md" />
      </Group>
    </div>
  );
}

export function SecretModal({ secret, regenerated, onClose }: { secret: NewAccessKey | null; regenerated: boolean; onClose: () => void }) {
  const host = useSession().data?.registryHost ?? window.location.host;
  return (
    <Modal
      opened={Boolean(secret)}
      onClose={onClose}
      title={regenerated ? 'New secret key' : 'Access key created'}
      centered
      size="lg"
      closeOnClickOutside={false}
      closeOnEscape={false}
      withCloseButton={false}
    >
      {secret && (
        <Stack gap="md">
          <Alert color="orange" icon={<IconAlertTriangle size={18} />} title="Store the secret key now">
            This is the only time it is shown. If you lose it, regenerate the key: the secret cannot be shown again.
          </Alert>
          <Secret label="Access key" value={secret.accessKey} />
          <Secret label="Secret key" value={secret.secretKey} />
          <Text size="sm" c="dimmed">
            Log in with <code>docker login {host}</code>, the access key as the username and the secret key as the password.
          </Text>
          <Group justify="flex-end">
            <Button onClick={onClose}>I have stored the secret</Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
