/** An icon button that copies a value, says so, and is named for screen readers ("Copy digest"). */
import { ActionIcon, Tooltip } from '@mantine/core';
import { IconCheck, IconCopy } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { copyText } from '../lib/clipboard';

export function CopyButton({ value, label = 'Copy', size = 'sm' }: { value: string; label?: string; size?: 'xs' | 'sm' | 'md' }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const t = window.setTimeout(() => setState('idle'), 1500);
    return () => window.clearTimeout(t);
  }, [state]);
  const tip = state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed: select and copy by hand' : label;
  return (
    <Tooltip label={tip} withArrow position="top" opened={state !== 'idle' ? true : undefined}>
      <ActionIcon
        variant="subtle"
        color={state === 'copied' ? 'teal' : 'gray'}
        size={size}
        aria-label={label}
        onClick={async (e) => {
          e.stopPropagation();
          setState((await copyText(value)) ? 'copied' : 'failed');
        }}
      >
        {state === 'copied' ? <IconCheck size={14} /> : <IconCopy size={14} />}
      </ActionIcon>
    </Tooltip>
  );
}
