/** What a list or detail shows while loading (skeleton rows) or after failing (the reason and a retry). */
import { Alert, Button, Skeleton, Stack } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { errorMessage } from '../api/client';

export function LoadingRows({ rows = 4, height = 36 }: { rows?: number; height?: number }) {
  return (
    <Stack gap={8} aria-busy="true" aria-label="Loading">
      {Array.from({ length: rows }, (_, i) => (
        <Skeleton key={i} height={height} radius="sm" />
      ))}
    </Stack>
  );
}

export function LoadError({ error, retry, what }: { error: unknown; retry?: () => void; what: string }) {
  return (
    <Alert color="red" icon={<IconAlertTriangle size={18} />} title={`Could not load ${what}`} role="alert">
      {errorMessage(error)}
      {retry && (
        <Button size="xs" variant="light" color="red" mt="sm" display="block" onClick={retry}>
          Try again
        </Button>
      )}
    </Alert>
  );
}
