/**
 * Confirmation for anything that deletes: says what will be lost, shows progress and the server's refusal, and may
 * ask for an extra acknowledgement (a checkbox) before the red button works.
 */
import { Alert, Button, Checkbox, Group, Modal, Stack } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { type ReactNode, useState } from 'react';
import { errorMessage } from '../api/client';

export interface ConfirmModalProps {
  opened: boolean;
  onClose: () => void;
  title: string;
  /** what will be lost, in words */
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
  /** a checkbox that must be ticked first, e.g. "Also delete its 3 images" */
  acknowledge?: string;
}

export function ConfirmModal({ opened, onClose, title, children, confirmLabel, onConfirm, acknowledge }: ConfirmModalProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [ack, setAck] = useState(false);
  const close = () => {
    if (busy) return;
    setError(null);
    setAck(false);
    onClose();
  };
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      setBusy(false);
      setAck(false);
      onClose();
    } catch (err) {
      setBusy(false);
      setError(errorMessage(err));
    }
  };
  return (
    <Modal opened={opened} onClose={close} title={title} centered size="md">
      <Stack gap="md">
        <div>{children}</div>
        {acknowledge && <Checkbox label={acknowledge} checked={ack} onChange={(e) => setAck(e.currentTarget.checked)} color="red" />}
        {error && (
          <Alert color="red" icon={<IconAlertTriangle size={18} />} title="Not deleted" role="alert">
            {error}
          </Alert>
        )}
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={close} disabled={busy}>
            Cancel
          </Button>
          <Button color="red" onClick={confirm} loading={busy} disabled={Boolean(acknowledge) && !ack} data-autofocus>
            {confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
