/**
 * The registry's Image Trust tab: the public keys signatures are verified with (cosign.pub), and the pull policy
 * "only verified images can be pulled". How to sign is shown with cosign's and ncr's commands.
 */
import { Alert, Button, Group, Modal, Paper, Stack, Switch, Table, Text, Textarea, TextInput, Title } from '@mantine/core';
import { IconKey, IconPlus } from '@tabler/icons-react';
import { useState } from 'react';
import { errorMessage } from '../../api/client';
import { usePermissions } from '../../api/session';
import { type TrustKey, useAddTrustKey, useDeleteTrustKey, useSetTrustPolicy, useTrustKeys, useTrustPolicy } from '../../api/trust';
import type { Registry } from '../../api/types';
import { CommandBlock } from '../../components/CommandBlock';
import { ConfirmModal } from '../../components/ConfirmModal';
import { DateTime } from '../../components/DateTime';
import { DeleteRowButton } from '../../components/DeleteRowButton';
import { LoadError, LoadingRows } from '../../components/QueryState';

function AddKeyModal({ registry, opened, onClose }: { registry: string; opened: boolean; onClose: () => void }) {
  const [name, setName] = useState('');
  const [pem, setPem] = useState('');
  const add = useAddTrustKey(registry);
  const close = () => {
    setName('');
    setPem('');
    add.reset();
    onClose();
  };
  return (
    <Modal opened={opened} onClose={close} title="Add public key" size="lg">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          add.mutate({ name: name.trim(), pem }, { onSuccess: close });
        }}
      >
        <Stack>
          <TextInput label="Name" description="Shown in the Authentication column of artifacts this key verifies" placeholder="release" value={name} onChange={(e) => setName(e.currentTarget.value)} required data-autofocus />
          <Textarea
            label="Public key (PEM)"
            description="The contents of cosign.pub: ECDSA P-256, RSA or Ed25519"
            placeholder={'-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----'}
            value={pem}
            onChange={(e) => setPem(e.currentTarget.value)}
            autosize
            minRows={5}
            styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 12 } }}
            required
          />
          {add.error && (
            <Alert color="red" title="The key was not added">
              {errorMessage(add.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button type="submit" loading={add.isPending} disabled={!name.trim() || !pem.trim()}>
              Add key
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

export function TrustTab({ registry }: { registry: Registry }) {
  const { canWrite } = usePermissions();
  const keys = useTrustKeys(registry.name);
  const policy = useTrustPolicy(registry.name);
  const setPolicy = useSetTrustPolicy(registry.name);
  const del = useDeleteTrustKey(registry.name);
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<TrustKey | null>(null);
  return (
    <Stack gap="lg">
      <Paper withBorder p="md">
        <Group justify="space-between" align="flex-start">
          <div>
            <Title order={4}>Pull policy</Title>
            <Text size="sm" c="dimmed" maw={620}>
              When on, an image can be pulled only if a cosign signature of its digest is verified by one of the keys below (or a global key). Others are refused with
              412 and a message saying which key would be needed. Signatures themselves can always be pulled, so cosign verify keeps working.
            </Text>
          </div>
          <Switch
            size="md"
            label="Only verified images can be pulled"
            checked={policy.data?.requireVerified ?? false}
            disabled={!canWrite || policy.isLoading || setPolicy.isPending}
            onChange={(e) => setPolicy.mutate(e.currentTarget.checked)}
          />
        </Group>
      </Paper>
      <Paper withBorder p="md">
        <Group justify="space-between" mb="sm">
          <Title order={4}>Public keys</Title>
          {canWrite && (
            <Button leftSection={<IconPlus size={16} />} onClick={() => setAdding(true)}>
              Add public key
            </Button>
          )}
        </Group>
        {keys.isLoading && <LoadingRows rows={2} />}
        {keys.error && <LoadError error={keys.error} retry={() => keys.refetch()} what="keys" />}
        {keys.data &&
            (keys.data.items.length === 0 ? (
              <Text size="sm" c="dimmed">
                No keys yet: signed artifacts show as "Signed, unverified" until the key that signed them is added here.
              </Text>
            ) : (
              <Table aria-label="Public keys">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    <Table.Th>Algorithm</Table.Th>
                    <Table.Th>Fingerprint (SHA-256)</Table.Th>
                    <Table.Th>Added</Table.Th>
                    {canWrite && <Table.Th />}
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {keys.data.items.map((k) => (
                    <Table.Tr key={k.id}>
                      <Table.Td>
                        <Group gap={6}>
                          <IconKey size={14} />
                          <Text fw={500}>{k.name}</Text>
                        </Group>
                      </Table.Td>
                      <Table.Td>{k.algorithm}</Table.Td>
                      <Table.Td className="mono" style={{ fontSize: 12 }}>
                        {k.fingerprint.slice(0, 32)}…
                      </Table.Td>
                      <Table.Td>
                        <DateTime value={k.createdAt} />
                        {k.createdBy && (
                          <Text size="xs" c="dimmed">
                            by {k.createdBy}
                          </Text>
                        )}
                      </Table.Td>
                      {canWrite && <DeleteRowButton title="Delete key" what={k.name} onDelete={() => setDeleting(k)} />}
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            ))}
      </Paper>
      <Paper withBorder p="md">
        <Title order={4} mb="xs">
          Sign an image
        </Title>
        <Text size="sm" c="dimmed" mb="xs">
          With cosign (or ncr, which writes the same key files and signatures):
        </Text>
        <CommandBlock lines={['cosign generate-key-pair', `cosign sign --key cosign.key ${registry.address}/IMAGE:TAG`, `ncr sign --key cosign.key ${registry.name}/IMAGE:TAG   # the same, without cosign`]} />
      </Paper>
      <AddKeyModal registry={registry.name} opened={adding} onClose={() => setAdding(false)} />
      <ConfirmModal opened={deleting !== null} onClose={() => setDeleting(null)} title="Delete public key" confirmLabel="Delete key" onConfirm={() => del.mutateAsync(deleting!)}>
        Signatures made with <b>{deleting?.name}</b> will show as "Signed, unverified"{policy.data?.requireVerified ? ', and images verified only by it can no longer be pulled' : ''}.
      </ConfirmModal>
    </Stack>
  );
}
