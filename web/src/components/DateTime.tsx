/** A time in the browser's zone and locale; UTC on hover. Empty times read "never" (or the given text). */
import { Text, Tooltip } from '@mantine/core';
import { formatLocal, formatRelative, formatUtc } from '../lib/format';

export function DateTime({ value, empty = 'Never', relative = false }: { value: string | null | undefined; empty?: string; relative?: boolean }) {
  if (!value) {
    return (
      <Text span c="dimmed" size="sm">
        {empty}
      </Text>
    );
  }
  return (
    <Tooltip label={formatUtc(value)} openDelay={250} withArrow>
      <Text span size="sm" style={{ whiteSpace: 'nowrap' }}>
        <time dateTime={value}>{relative ? formatRelative(value) : formatLocal(value)}</time>
      </Text>
    </Tooltip>
  );
}
