/** Shell commands in a dark block, each line with its own copy button. */
import { Box, Group, Text } from '@mantine/core';
import { CopyButton } from './CopyButton';
import classes from './CommandBlock.module.css';

export function CommandBlock({ lines, label }: { lines: string[]; label?: string }) {
  return (
    <Box className={classes.block} role="group" aria-label={label}>
      {lines.map((line) => (
        <Group key={line} gap="xs" wrap="nowrap" className={classes.line}>
          <Text component="code" className={classes.code}>
            <span className={classes.prompt} aria-hidden>
              ${' '}
            </span>
            {line}
          </Text>
          <CopyButton value={line} label={`Copy command: ${line}`} size="sm" />
        </Group>
      ))}
    </Box>
  );
}
