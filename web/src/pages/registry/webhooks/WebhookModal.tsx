/**
 * The Create Webhook (and Edit) dialog: where to send (HTTP or Slack, the address), how (payload format, auth header,
 * signing secret, certificate check) and what (event types). Secrets are write-only: Edit shows whether one is set
 * and sends a new one only when typed.
 */
import { Alert, Button, Checkbox, Group, Modal, PasswordInput, SegmentedControl, SimpleGrid, Stack, Switch, Text, Textarea, TextInput } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { type FormEvent, useEffect, useState } from 'react';
import { errorMessage } from '../../../api/client';
import { type PayloadFormat, type TargetType, type Webhook, type WebhookSettings, useCreateWebhook, useEventTypes, useUpdateWebhook } from '../../../api/webhooks';

const blank = { name: '', description: '', targetType: 'http' as TargetType, address: '', authHeader: '', secret: '', skipCertVerify: false, payloadFormat: 'Default' as PayloadFormat, eventTypes: ['PUSH_ARTIFACT'], enabled: true };

function problemOf(f: typeof blank): string | null {
  if (!/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$/.test(f.name.trim())) return 'Give it a name: 1 to 63 letters, digits, spaces, ".", "_" or "-".';
  if (!/^https?:\/\/[^\s/]+/.test(f.address.trim())) return 'The address must be an http:// or https:// URL.';
  if (f.eventTypes.length === 0) return 'Choose at least one event type.';
  if (f.secret && (f.secret.length < 8 || f.secret.length > 256)) return 'The signing secret must be 8 to 256 characters.';
  return null;
}

export function WebhookModal({ registry, editing, opened, onClose }: { registry: string; editing: Webhook | null; opened: boolean; onClose: () => void }) {
  const create = useCreateWebhook(registry);
  const update = useUpdateWebhook(registry);
  const types = useEventTypes();
  const [f, setF] = useState(blank);
  const [touched, setTouched] = useState(false);
  const mutation = editing ? update : create;

  useEffect(() => {
    if (!opened) return;
    setTouched(false);
    setF(editing ? { ...blank, ...editing, authHeader: '', secret: '' } : blank);
  }, [opened, editing]);

  const set = <K extends keyof typeof blank>(k: K, v: (typeof blank)[K]) => {
    setF((prev) => ({ ...prev, [k]: v }));
    if (mutation.error) mutation.reset();
  };
  const problem = problemOf(f);
  const close = () => {
    if (mutation.isPending) return;
    create.reset();
    update.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (problem) return;
    const body: WebhookSettings = {
      name: f.name.trim(),
      description: f.description,
      targetType: f.targetType,
      address: f.address.trim(),
      skipCertVerify: f.skipCertVerify,
      payloadFormat: f.payloadFormat,
      eventTypes: f.eventTypes,
      ...(f.authHeader ? { authHeader: f.authHeader } : {}),
      ...(f.secret ? { secret: f.secret } : {}),
      ...(editing ? {} : { enabled: f.enabled }),
    };
    const done = { onSuccess: () => close() };
    if (editing) update.mutate({ id: editing.id, body }, done);
    else create.mutate(body, done);
  };

  const available = (types.data?.items ?? []).filter((t) => t.available);
  return (
    <Modal opened={opened} onClose={close} title={editing ? `Edit webhook ${editing.name}` : 'Create Webhook'} centered size="lg">
      <form onSubmit={submit} noValidate aria-label={editing ? 'Edit webhook' : 'Create Webhook'}>
        <Stack gap="md">
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput label="Name" placeholder="e.g. ci-deploy" value={f.name} onChange={(e) => set('name', e.currentTarget.value)} required data-autofocus />
            <div>
              <Text size="sm" fw={500} mb={4}>
                Notify type
              </Text>
              <SegmentedControl
                fullWidth
                aria-label="Notify type"
                value={f.targetType}
                onChange={(v) => set('targetType', v as TargetType)}
                data={[
                  { value: 'http', label: 'HTTP(S)' },
                  { value: 'slack', label: 'Slack' },
                ]}
              />
            </div>
          </SimpleGrid>
          <TextInput
            label={f.targetType === 'slack' ? 'Slack incoming-webhook URL' : 'Endpoint URL'}
            placeholder={f.targetType === 'slack' ? 'https://hooks.slack.com/services/…' : 'https://ci.example.com/hooks/registry'}
            value={f.address}
            onChange={(e) => set('address', e.currentTarget.value)}
            autoCapitalize="none"
            spellCheck={false}
            required
          />
          <Textarea label="Description" autosize minRows={1} maxRows={3} value={f.description} onChange={(e) => set('description', e.currentTarget.value)} />
          {f.targetType === 'http' && (
            <div>
              <Text size="sm" fw={500} mb={4}>
                Payload format
              </Text>
              <SegmentedControl
                aria-label="Payload format"
                value={f.payloadFormat}
                onChange={(v) => set('payloadFormat', v as PayloadFormat)}
                data={[
                  { value: 'Default', label: 'Default (Harbor)' },
                  { value: 'CloudEvents', label: 'CloudEvents 1.0' },
                ]}
              />
            </div>
          )}
          <Checkbox.Group label="Event types" description="What this webhook is told about." value={f.eventTypes} onChange={(v) => set('eventTypes', v)} withAsterisk>
            <SimpleGrid cols={{ base: 1, sm: 2 }} mt="xs" spacing={6}>
              {available.map((t) => (
                <Checkbox key={t.type} value={t.type} label={`${t.title} (${t.type})`} />
              ))}
            </SimpleGrid>
          </Checkbox.Group>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <PasswordInput
              label="Auth header"
              description={editing?.authHeaderSet ? 'Set. Type a new value to replace it.' : 'Sent as the Authorization header.'}
              placeholder={editing?.authHeaderSet ? '••••••••' : 'e.g. Bearer abc123'}
              value={f.authHeader}
              onChange={(e) => set('authHeader', e.currentTarget.value)}
              autoComplete="off"
            />
            <PasswordInput
              label="Signing secret"
              description={editing?.secretSet ? 'Set. Type a new one to replace it.' : 'Signs each body: X-Ncr-Signature-256.'}
              placeholder={editing?.secretSet ? '••••••••' : 'optional, 8+ characters'}
              value={f.secret}
              onChange={(e) => set('secret', e.currentTarget.value)}
              autoComplete="off"
            />
          </SimpleGrid>
          <Group gap="xl">
            <Switch label="Verify the remote certificate" checked={!f.skipCertVerify} onChange={(e) => set('skipCertVerify', !e.currentTarget.checked)} />
            {!editing && <Switch label="Enabled" checked={f.enabled} onChange={(e) => set('enabled', e.currentTarget.checked)} />}
          </Group>
          {touched && problem && (
            <Text c="red" size="sm" role="alert">
              {problem}
            </Text>
          )}
          {mutation.error && (
            <Alert color="red" icon={<IconAlertTriangle size={18} />} title={editing ? 'The webhook was not saved' : 'The webhook was not created'} role="alert">
              {errorMessage(mutation.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close} disabled={mutation.isPending}>
              Cancel
            </Button>
            <Button type="submit" loading={mutation.isPending}>
              Confirm
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
