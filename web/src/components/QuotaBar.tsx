/** A registry's usage against its quota: "of 10 GB (42%)" and a bar that turns orange at 85% and red when full. */
import { Progress, Text } from '@mantine/core';
import { formatBytes } from '../lib/format';

export function QuotaBar({ used, quota }: { used: number; quota: number }) {
  const pct = Math.min(100, (used / quota) * 100);
  const color = pct >= 100 ? 'red' : pct >= 85 ? 'orange' : 'blue';
  return (
    <>
      <Text span size="xs" c="dimmed">
        {' '}
        of {formatBytes(quota)} ({pct.toFixed(0)}%)
      </Text>
      <Progress value={pct} color={color} size="sm" mt={6} aria-label={`Storage quota ${pct.toFixed(0)}% used`} />
    </>
  );
}
