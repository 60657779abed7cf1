/** The ncr mark and name. */
import { Group, Text } from '@mantine/core';

export function Logo({ size = 28 }: { size?: number }) {
  return (
    <Group gap={10} wrap="nowrap">
      <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden>
        <rect width="32" height="32" rx="8" fill="var(--mantine-color-indigo-6)" />
        <path d="M8 11.5 16 7l8 4.5v9L16 25l-8-4.5z" fill="none" stroke="#fff" strokeWidth="2" strokeLinejoin="round" />
        <path d="M8 11.5 16 16l8-4.5M16 16v9" fill="none" stroke="#fff" strokeWidth="2" strokeLinejoin="round" />
      </svg>
      <Group gap={6} wrap="nowrap" align="baseline">
        <Text fw={750} size="lg" lh={1}>
          ncr
        </Text>
        <Text size="sm" c="dimmed" lh={1} visibleFrom="xs">
          Container Registry
        </Text>
      </Group>
    </Group>
  );
}
