/** Your account: who you are, your role, and changing your password. */
import { Badge, Group, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useSession } from '../api/session';
import { DateTime } from '../components/DateTime';
import { PageHeader } from '../components/PageHeader';
import { ROLE_COLOR } from '../lib/roles';
import { PasswordForm } from './AddUserModal';

const ROLE_TEXT = {
  admin: 'You may do everything, including managing users.',
  member: 'You may create and delete registries, push, pull, tag and delete images.',
  viewer: 'You may view registries and images and pull them.',
};

export function AccountPage() {
  const user = useSession().data?.user;
  if (!user) return null;
  return (
    <>
      <PageHeader title="Account" subtitle="Your sign-in for this console." />
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
        <Paper withBorder p="md">
          <Title order={4} mb="md">
            Profile
          </Title>
          <Stack gap="sm">
            <Group justify="space-between">
              <Text size="sm" c="dimmed">
                Username
              </Text>
              <Text fw={600}>{user.username}</Text>
            </Group>
            <Group justify="space-between">
              <Text size="sm" c="dimmed">
                Role
              </Text>
              <Badge variant="light" color={ROLE_COLOR[user.role]}>
                {user.role}
              </Badge>
            </Group>
            <Group justify="space-between">
              <Text size="sm" c="dimmed">
                Member since
              </Text>
              <DateTime value={user.createdAt} />
            </Group>
            <Text size="sm" c="dimmed" mt="xs">
              {ROLE_TEXT[user.role]}
            </Text>
          </Stack>
        </Paper>
        <Paper withBorder p="md">
          <Title order={4} mb="md">
            Change password
          </Title>
          <PasswordForm username="me" />
        </Paper>
      </SimpleGrid>
    </>
  );
}
