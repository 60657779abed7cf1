/** Users (admins only): list, add with a role, change role, set a password, remove. */
import { Badge, Button, Group, Menu, Paper, Select, Table, Text, Tooltip } from '@mantine/core';
import { IconLock, IconPlus, IconTrash } from '@tabler/icons-react';
import { useState } from 'react';
import { useSession } from '../api/session';
import type { Role, User } from '../api/types';
import { useDeleteUser, useSetRole, useUsers } from '../api/users';
import { ConfirmModal } from '../components/ConfirmModal';
import { DateTime } from '../components/DateTime';
import { PageHeader } from '../components/PageHeader';
import { Pager } from '../components/Pager';
import { LoadError, LoadingRows } from '../components/QueryState';
import { ROLE_OPTIONS } from '../lib/roles';
import { useListParams } from '../lib/useListParams';
import { AddUserModal, SetPasswordModal } from './AddUserModal';
import { RowActions } from '../components/RowActions';

export function UsersPage() {
  const list = useListParams(20);
  const q = useUsers({ page: list.page, perPage: list.perPage });
  const me = useSession().data?.user.username;
  const setRole = useSetRole();
  const del = useDeleteUser();
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState<User | null>(null);
  const [password, setPassword] = useState<User | null>(null);

  return (
    <>
      <PageHeader
        title="Users"
        subtitle="Admins manage users; members push, pull and delete; viewers view and pull."
        actions={
          <Button leftSection={<IconPlus size={16} />} onClick={() => setAdding(true)}>
            Add user
          </Button>
        }
      />
      <Paper withBorder p={{ base: 'sm', sm: 'md' }}>
        {q.isPending ? (
          <LoadingRows />
        ) : q.isError ? (
          <LoadError error={q.error} retry={() => q.refetch()} what="users" />
        ) : (
          <Table.ScrollContainer minWidth={640}>
            <Table aria-label="Users">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Username</Table.Th>
                  <Table.Th w={260}>Role</Table.Th>
                  <Table.Th>Console sign-in</Table.Th>
                  <Table.Th>Added</Table.Th>
                  <Table.Th w={56}>
                    <span className="visually-hidden">Actions</span>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {q.data.items.map((u) => (
                  <Table.Tr key={u.username}>
                    <Table.Td>
                      <Group gap={6}>
                        <Text fw={600} size="sm">
                          {u.username}
                        </Text>
                        {u.username === me && (
                          <Badge size="xs" variant="light">
                            you
                          </Badge>
                        )}
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <Select
                        aria-label={`Role of ${u.username}`}
                        data={ROLE_OPTIONS}
                        value={u.role}
                        allowDeselect={false}
                        size="xs"
                        disabled={setRole.isPending && setRole.variables?.username === u.username}
                        onChange={(v) => v && v !== u.role && setRole.mutate({ username: u.username, role: v as Role })}
                        comboboxProps={{ withinPortal: true }}
                      />
                    </Table.Td>
                    <Table.Td>
                      {u.hasPassword ? (
                        <Badge variant="light" color="teal">
                          Password set
                        </Badge>
                      ) : (
                        <Tooltip label="Set a password so they can sign in to the console">
                          <Badge variant="light" color="gray">
                            Keys only
                          </Badge>
                        </Tooltip>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <DateTime value={u.createdAt} />
                    </Table.Td>
                    <RowActions what={u.username}>
                          <Menu.Item leftSection={<IconLock size={16} />} onClick={() => setPassword(u)}>
                            Set password
                          </Menu.Item>
                          <Menu.Item color="red" leftSection={<IconTrash size={16} />} onClick={() => setRemoving(u)} disabled={u.username === me}>
                            Remove user
                          </Menu.Item>
                    </RowActions>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        {q.data && <Pager page={list.page} perPage={list.perPage} total={q.data.total} onChange={list.setPage} noun="user" />}
      </Paper>
      <AddUserModal opened={adding} onClose={() => setAdding(false)} />
      <SetPasswordModal user={password} onClose={() => setPassword(null)} />
      <ConfirmModal opened={Boolean(removing)} onClose={() => setRemoving(null)} title={`Remove ${removing?.username ?? ''}?`} confirmLabel="Remove user" onConfirm={() => del.mutateAsync(removing!.username)}>
        <Text size="sm">
          <b>{removing?.username}</b> can no longer sign in, and their access keys stop working at once. What they pushed stays.
        </Text>
      </ConfirmModal>
    </>
  );
}
