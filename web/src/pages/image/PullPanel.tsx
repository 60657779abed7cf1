/** The exact pull commands: by each tag, and by digest (immutable). */
import { Stack, Text } from '@mantine/core';
import type { ArtifactDetail } from '../../api/types';
import { CommandBlock } from '../../components/CommandBlock';

export function PullPanel({ artifact: a }: { artifact: ArtifactDetail }) {
  return (
    <Stack gap="md">
      <div>
        <Text size="sm" fw={600} mb={6}>
          By tag
        </Text>
        {a.pullCommands.byTag.length > 0 ? (
          <CommandBlock label="Pull by tag" lines={a.pullCommands.byTag} />
        ) : (
          <Text size="sm" c="dimmed">
            This artifact has no tags: pull it by digest, or create a tag on the Tags tab.
          </Text>
        )}
      </div>
      <div>
        <Text size="sm" fw={600} mb={6}>
          By digest{' '}
          <Text span size="sm" c="dimmed" fw={400}>
            — always this exact artifact, even if tags move
          </Text>
        </Text>
        <CommandBlock label="Pull by digest" lines={[a.pullCommands.byDigest]} />
      </div>
    </Stack>
  );
}
