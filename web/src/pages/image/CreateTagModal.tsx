/** Create Tag: a name checked against the tag rules as you type; moving an existing tag is said out loud. */
import { Alert, Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { type FormEvent, useState } from 'react';
import { errorMessage } from '../../api/client';
import { type ImageRef, useCreateTag } from '../../api/images';
import { shortDigest } from '../../lib/format';
import { tagProblem } from '../../lib/names';

export function CreateTagModal({ opened, onClose, imageRef, digest }: { opened: boolean; onClose: () => void; imageRef: ImageRef; digest: string }) {
  const create = useCreateTag(imageRef);
  const [name, setName] = useState('');
  const problem = tagProblem(name);
  const close = () => {
    if (create.isPending) return;
    setName('');
    create.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (problem) return;
    create.mutate({ name, digest }, { onSuccess: close });
  };
  return (
    <Modal opened={opened} onClose={close} title="Create tag" centered>
      <form onSubmit={submit} noValidate>
        <Stack gap="md">
          <Text size="sm" c="dimmed">
            The tag will point at artifact <code>{shortDigest(digest)}</code> of {imageRef.registry}/{imageRef.image}. If the tag exists on another artifact, it moves here.
          </Text>
          <TextInput
            label="Tag name"
            description="Up to 128 letters, digits, _ . and -, starting with a letter, digit or _."
            placeholder="e.g. 1.0.1 or stable"
            value={name}
            onChange={(e) => {
              setName(e.currentTarget.value);
              if (create.error) create.reset();
            }}
            error={name !== '' ? problem : null}
            spellCheck={false}
            autoCapitalize="none"
            required
            data-autofocus
          />
          {name && !problem && (
            <Text size="sm">
              Pull with <code>{`docker pull …/${imageRef.registry}/${imageRef.image}:${name}`}</code>
            </Text>
          )}
          {create.error && (
            <Alert color="red" icon={<IconAlertTriangle size={18} />} title="The tag was not created" role="alert">
              {errorMessage(create.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close} disabled={create.isPending}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending} disabled={Boolean(problem)}>
              Create tag
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
