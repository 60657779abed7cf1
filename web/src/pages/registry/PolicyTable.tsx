/**
 * The cleanup or protection policies of a registry: image filter, tag filter, rule (cleanup), an Enable/Disable
 * switch, and delete with a confirmation. Viewers see the same table without the write controls.
 */
import { Badge, Code, EmptyState, Group, Switch, Table, Text, Tooltip } from '@mantine/core';
import { IconShieldLock, IconTrashX } from '@tabler/icons-react';
import { useState } from 'react';
import { type NameFilter, type Policy, type PolicyKind, useDeletePolicy, usePolicies, useSetPolicyEnabled } from '../../api/policies';
import { usePermissions } from '../../api/session';
import { ConfirmModal } from '../../components/ConfirmModal';
import { DateTime } from '../../components/DateTime';
import { DeleteRowButton } from '../../components/DeleteRowButton';
import { LoadError, LoadingRows } from '../../components/QueryState';
import { filterText, isEverything, policySentence, ruleText, tagFilterText } from './policyText';

function Filter({ f, noun, untagged }: { f: NameFilter; noun: 'image' | 'tag'; untagged?: boolean }) {
  return (
    <Group gap={6} wrap="nowrap">
      {isEverything(f) ? (
        <Text size="sm">{noun === 'image' ? 'Every image' : 'Every tag'}</Text>
      ) : (
        <>
          <Badge size="xs" variant="light" color={f.mode === 'excluding' ? 'orange' : 'gray'}>
            {f.mode}
          </Badge>
          <Code>{f.pattern}</Code>
          {f.syntax === 'regex' && (
            <Badge size="xs" variant="outline" color="gray">
              regex
            </Badge>
          )}
        </>
      )}
      {untagged && (
        <Badge size="xs" variant="light" color="grape">
          + untagged
        </Badge>
      )}
    </Group>
  );
}

/** How a row is named to screen readers and in the delete confirmation. */
const policyName = (p: Policy) => `${filterText(p.imageFilter, 'image')} / ${tagFilterText(p.tagFilter)}${p.rule ? ` / ${ruleText(p.rule)}` : ''}`;

export function PolicyTable({ registry, kind }: { registry: string; kind: PolicyKind }) {
  const q = usePolicies(registry, kind);
  const { canWrite } = usePermissions();
  const toggle = useSetPolicyEnabled(registry, kind);
  const del = useDeletePolicy(registry, kind);
  const [deleting, setDeleting] = useState<Policy | null>(null);
  const label = kind === 'cleanup' ? 'Cleanup' : 'Protection';

  if (q.isPending) return <LoadingRows rows={3} />;
  if (q.isError) return <LoadError error={q.error} retry={() => q.refetch()} what={`${kind} policies`} />;
  if (q.data.items.length === 0) {
    return (
      <EmptyState
        my="lg"
        variant="light"
        icon={kind === 'cleanup' ? <IconTrashX size={26} /> : <IconShieldLock size={26} />}
        title={`No ${kind} policies`}
        description={
          kind === 'cleanup'
            ? canWrite
              ? 'Nothing is cleaned up. Add a policy to say which artifacts to delete, then try it with Test Run.'
              : 'Nothing is cleaned up in this registry.'
            : canWrite
              ? 'Nothing is protected. Add a policy to keep releases safe from deletion and cleanup.'
              : 'Nothing is protected in this registry.'
        }
      />
    );
  }
  return (
    <>
      <Table.ScrollContainer minWidth={kind === 'cleanup' ? 760 : 600}>
        <Table aria-label={`${label} policies`} verticalSpacing="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Image filter</Table.Th>
              <Table.Th>Tag filter</Table.Th>
              {kind === 'cleanup' && <Table.Th>Rule</Table.Th>}
              <Table.Th w={110}>Enabled</Table.Th>
              <Table.Th>Added</Table.Th>
              {canWrite && (
                <Table.Th w={56}>
                  <span className="visually-hidden">Actions</span>
                </Table.Th>
              )}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {q.data.items.map((p) => {
              const name = policyName(p);
              return (
                <Table.Tr key={p.id} style={p.enabled ? undefined : { opacity: 0.6 }}>
                  <Table.Td>
                    <Filter f={p.imageFilter} noun="image" />
                  </Table.Td>
                  <Table.Td>
                    <Filter f={p.tagFilter} noun="tag" untagged={p.tagFilter.untagged} />
                  </Table.Td>
                  {kind === 'cleanup' && (
                    <Table.Td>
                      <Text size="sm">{ruleText(p.rule)}</Text>
                    </Table.Td>
                  )}
                  <Table.Td>
                    <Tooltip label={canWrite ? (p.enabled ? 'Disable: it stops counting until enabled again' : 'Enable') : 'Members and admins change policies'} openDelay={300}>
                      <Switch
                        aria-label={`Enabled: ${name}`}
                        checked={p.enabled}
                        disabled={!canWrite || (toggle.isPending && toggle.variables?.id === p.id)}
                        onChange={(e) => toggle.mutate({ id: p.id, enabled: e.currentTarget.checked })}
                        label={p.enabled ? 'On' : 'Off'}
                        size="sm"
                      />
                    </Tooltip>
                  </Table.Td>
                  <Table.Td>
                    <DateTime value={p.createdAt} />
                    {p.createdBy && (
                      <Text size="xs" c="dimmed">
                        by {p.createdBy}
                      </Text>
                    )}
                  </Table.Td>
                  {canWrite && <DeleteRowButton title={`Delete ${label} Policy`} what={name} onDelete={() => setDeleting(p)} />}
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <ConfirmModal
        opened={Boolean(deleting)}
        onClose={() => setDeleting(null)}
        title={`Delete ${label.toLowerCase()} policy?`}
        confirmLabel={`Delete ${label} Policy`}
        onConfirm={() => del.mutateAsync(deleting!.id)}
      >
        <Text size="sm">
          {deleting && <b>{policySentence(deleting.imageFilter, deleting.tagFilter, deleting.rule)}</b>}
          <br />
          {kind === 'cleanup'
            ? 'Cleanup stops applying it from the next run; a run in progress finishes with the policies it began with. Nothing is deleted by removing it.'
            : 'What it covers is no longer protected: it can be deleted by people, and by cleanup policies that select it.'}
        </Text>
      </ConfirmModal>
    </>
  );
}
