/** Sign-in with username and password; back to the page that asked for it. */
import { Alert, Anchor, Box, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { type FormEvent, useState } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { errorMessage } from '../api/client';
import { useSession, useSignIn } from '../api/session';
import { Logo } from '../components/Logo';

export function SignInPage() {
  const session = useSession();
  const signIn = useSignIn();
  const navigate = useNavigate();
  const from = (useLocation().state as { from?: string } | null)?.from ?? '/registries';
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [submitted, setSubmitted] = useState(false);

  if (session.data) return <Navigate to={from} replace />;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    if (!username || !password) return;
    signIn.mutate({ username: username.trim(), password }, { onSuccess: () => navigate(from, { replace: true }) });
  };

  return (
    <Center mih="100vh" p="md" style={{ background: 'linear-gradient(160deg, var(--mantine-color-indigo-0) 0%, var(--mantine-color-gray-0) 55%)' }}>
      <Box w="100%" maw={400}>
        <Center mb="lg">
          <Logo size={36} />
        </Center>
        <Paper withBorder shadow="md" p={{ base: 'lg', sm: 32 }} radius="lg">
          <form onSubmit={submit} noValidate>
            <Stack gap="md">
              <div>
                <Title order={3}>Sign in</Title>
                <Text size="sm" c="dimmed" mt={4}>
                  Manage registries, images, tags and access keys.
                </Text>
              </div>
              {signIn.error && (
                <Alert color="red" icon={<IconAlertTriangle size={18} />} role="alert" title="Could not sign in">
                  {errorMessage(signIn.error)}
                </Alert>
              )}
              <TextInput
                label="Username"
                name="username"
                autoComplete="username"
                autoCapitalize="none"
                spellCheck={false}
                value={username}
                onChange={(e) => setUsername(e.currentTarget.value)}
                error={submitted && !username ? 'Enter your username.' : null}
                required
                data-autofocus
                autoFocus
              />
              <PasswordInput
                label="Password"
                name="password"
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.currentTarget.value)}
                error={submitted && !password ? 'Enter your password.' : null}
                required
              />
              <Button type="submit" fullWidth size="md" loading={signIn.isPending}>
                Sign in
              </Button>
            </Stack>
          </form>
        </Paper>
        <Text size="xs" c="dimmed" ta="center" mt="md">
          The first admin&apos;s password is printed by <code>ncr serve</code> on first start. Docker and Podman log in with an access key instead:{' '}
          <Anchor size="xs" href="/api/v1/docs">
            API reference
          </Anchor>
          .
        </Text>
      </Box>
    </Center>
  );
}
