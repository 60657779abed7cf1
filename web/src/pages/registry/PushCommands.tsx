/** The exact commands to log in, tag and push into this registry, with the image name and tag filled in. */
import { Anchor, Group, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { IconTerminal2 } from '@tabler/icons-react';
import { useState } from 'react';
import { Link } from 'react-router';
import { useSession } from '../../api/session';
import type { Registry } from '../../api/types';
import { CommandBlock } from '../../components/CommandBlock';

export function PushCommands({ registry }: { registry: Registry }) {
  const host = useSession().data?.registryHost ?? registry.address.split('/')[0];
  const [local, setLocal] = useState('my-app:latest');
  const [target, setTarget] = useState('my-app:1.0');
  const src = local.trim() || 'my-app:latest';
  const dst = `${registry.address}/${target.trim() || 'my-app:1.0'}`;

  if (registry.kind === 'cache') {
    return (
      <Paper withBorder p="md" aria-labelledby="push-commands-title">
        <Group gap="xs" mb={4}>
          <IconTerminal2 size={18} />
          <Title order={4} id="push-commands-title">
            Pull through the image cache
          </Title>
        </Group>
        <Text size="sm" c="dimmed" mb="md">
          This registry is an image cache of{' '}
          <Anchor component={Link} to="/image-cache" size="sm">
            {registry.endpoint?.name ?? 'its source'}
          </Anchor>
          : pull REPOSITORY:TAG of the source through it (Docker Hub official images under library/). Pushes are refused.
        </Text>
        <CommandBlock label="Pull commands" lines={[`docker login ${host}`, `docker pull ${registry.address}/library/alpine:3.20`, `docker pull ${registry.address}/REPOSITORY:TAG`]} />
      </Paper>
    );
  }

  return (
    <Paper withBorder p="md" aria-labelledby="push-commands-title">
      <Group gap="xs" mb={4}>
        <IconTerminal2 size={18} />
        <Title order={4} id="push-commands-title">
          Push commands
        </Title>
      </Group>
      <Text size="sm" c="dimmed" mb="md">
        Log in with an access key as the username and its secret key as the password (create one under{' '}
        <Anchor component={Link} to="/access-keys" size="sm">
          API security
        </Anchor>
        ). Image names use lowercase letters, digits and - _ . /; tags up to 128 characters.
      </Text>
      <Group grow mb="md" align="flex-start" preventGrowOverflow={false} wrap="wrap">
        <TextInput label="Local image" size="xs" value={local} onChange={(e) => setLocal(e.currentTarget.value)} miw={180} spellCheck={false} />
        <TextInput label="Name and tag in this registry" size="xs" value={target} onChange={(e) => setTarget(e.currentTarget.value)} miw={180} spellCheck={false} />
      </Group>
      <Stack gap="xs">
        <CommandBlock label="Push commands" lines={[`docker login ${host}`, `docker tag ${src} ${dst}`, `docker push ${dst}`]} />
      </Stack>
    </Paper>
  );
}
