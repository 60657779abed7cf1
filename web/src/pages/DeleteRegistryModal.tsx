/** Delete a registry: names what goes with it; a registry that holds images needs "delete them too" ticked (force). */
import { List, Text } from '@mantine/core';
import { useDeleteRegistry } from '../api/registries';
import type { Registry } from '../api/types';
import { ConfirmModal } from '../components/ConfirmModal';
import { formatBytes, plural } from '../lib/format';

export function DeleteRegistryModal({ registry, onClose, onDeleted }: { registry: Registry | null; onClose: () => void; onDeleted?: () => void }) {
  const del = useDeleteRegistry();
  const r = registry;
  const images = r?.imageCount ?? 0;
  return (
    <ConfirmModal
      opened={Boolean(r)}
      onClose={onClose}
      title={`Delete registry ${r?.name ?? ''}?`}
      confirmLabel="Delete registry"
      acknowledge={images > 0 ? `Also delete its ${plural(images, 'image')} (${formatBytes(r!.storageBytes)})` : undefined}
      onConfirm={async () => {
        await del.mutateAsync({ name: r!.name, force: images > 0 });
        onDeleted?.();
      }}
    >
      {images > 0 ? (
        <>
          <Text size="sm">This cannot be undone. Deleting the registry also deletes:</Text>
          <List size="sm" mt="xs" spacing={4}>
            <List.Item>
              {plural(images, 'image')} with all their artifacts and tags ({formatBytes(r!.storageBytes)})
            </List.Item>
            <List.Item>
              the address <code>{r!.address}</code>: pulls from it will fail
            </List.Item>
          </List>
        </>
      ) : (
        <Text size="sm">
          The registry <b>{r?.name}</b> is empty. Deleting it frees the name; nothing else is lost.
        </Text>
      )}
    </ConfirmModal>
  );
}
