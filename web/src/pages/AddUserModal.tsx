/** Add a user with a role (and a password for the console), and set another user's password. */
import { Alert, Button, Group, Modal, PasswordInput, Select, Stack, Text, TextInput } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { type FormEvent, useState } from 'react';
import { errorMessage } from '../api/client';
import type { Role, User } from '../api/types';
import { useCreateUser, useSetPassword } from '../api/users';
import { passwordProblem, usernameProblem } from '../lib/names';
import { ROLE_OPTIONS } from '../lib/roles';

function Failure({ error, title }: { error: Error | null; title: string }) {
  if (!error) return null;
  return (
    <Alert color="red" icon={<IconAlertTriangle size={18} />} title={title} role="alert">
      {errorMessage(error)}
    </Alert>
  );
}

export function AddUserModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const create = useCreateUser();
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [password, setPassword] = useState('');
  const uProblem = usernameProblem(username);
  const pProblem = password ? passwordProblem(password) : null;
  const close = () => {
    if (create.isPending) return;
    setUsername('');
    setPassword('');
    setRole('member');
    create.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (uProblem || pProblem) return;
    create.mutate({ username, role, password: password || undefined }, { onSuccess: close });
  };
  return (
    <Modal opened={opened} onClose={close} title="Add user" centered>
      <form onSubmit={submit} noValidate>
        <Stack gap="md">
          <TextInput label="Username" value={username} onChange={(e) => setUsername(e.currentTarget.value)} error={username ? uProblem : null} autoCapitalize="none" spellCheck={false} required data-autofocus />
          <Select label="Role" data={ROLE_OPTIONS} value={role} onChange={(v) => v && setRole(v as Role)} allowDeselect={false} comboboxProps={{ withinPortal: true }} />
          <PasswordInput
            label="Password"
            description="For the console. Leave empty for a user who only logs in with access keys."
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            error={pProblem}
            autoComplete="new-password"
          />
          <Failure error={create.error} title="The user was not added" />
          <Group justify="flex-end">
            <Button variant="default" onClick={close} disabled={create.isPending}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending} disabled={Boolean(uProblem || pProblem)}>
              Add user
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** A password form, for your own password ('me') or, for admins, another user's. */
export function PasswordForm({ username, onDone, submitLabel = 'Change password' }: { username: string; onDone?: () => void; submitLabel?: string }) {
  const set = useSetPassword();
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const problem = passwordProblem(password);
  const mismatch = repeat && repeat !== password ? 'The passwords differ.' : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (problem || mismatch || !repeat) return;
    set.mutate(
      { username, password },
      {
        onSuccess: () => {
          setPassword('');
          setRepeat('');
          onDone?.();
        },
      },
    );
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <PasswordInput label="New password" description="8 to 256 characters." value={password} onChange={(e) => setPassword(e.currentTarget.value)} error={password ? problem : null} autoComplete="new-password" required />
        <PasswordInput label="Repeat the new password" value={repeat} onChange={(e) => setRepeat(e.currentTarget.value)} error={mismatch} autoComplete="new-password" required />
        <Failure error={set.error} title="The password was not changed" />
        <Group justify="flex-end">
          <Button type="submit" loading={set.isPending} disabled={Boolean(problem || mismatch || !repeat)}>
            {submitLabel}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export function SetPasswordModal({ user, onClose }: { user: User | null; onClose: () => void }) {
  return (
    <Modal opened={Boolean(user)} onClose={onClose} title={`Set the password of ${user?.username ?? ''}`} centered>
      <Text size="sm" c="dimmed" mb="md">
        They sign in to the console with it. Their console sessions are signed out; their access keys keep working.
      </Text>
      {user && <PasswordForm username={user.username} onDone={onClose} submitLabel="Set password" />}
    </Modal>
  );
}
