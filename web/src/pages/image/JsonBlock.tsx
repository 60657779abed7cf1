/** Formatted JSON with a copy button, scrollable when long. */
import { Box, Code, ScrollArea } from '@mantine/core';
import { CopyButton } from '../../components/CopyButton';

export function JsonBlock({ value, label, maxHeight = 480 }: { value: unknown; label: string; maxHeight?: number }) {
  const text = JSON.stringify(value, null, 2);
  return (
    <Box pos="relative">
      <Box pos="absolute" top={8} right={8} style={{ zIndex: 1 }}>
        <CopyButton value={text} label={`Copy ${label}`} />
      </Box>
      <ScrollArea.Autosize mah={maxHeight} type="auto" aria-label={label}>
        <Code block style={{ fontSize: 12.5, lineHeight: 1.55 }}>
          {text}
        </Code>
      </ScrollArea.Autosize>
    </Box>
  );
}
