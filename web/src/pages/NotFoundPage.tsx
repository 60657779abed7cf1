/** Any other path. */
import { Button, EmptyState } from '@mantine/core';
import { IconMapQuestion } from '@tabler/icons-react';
import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <EmptyState mt={80} icon={<IconMapQuestion size={28} />} variant="light" title="Page not found" description="The address does not match any page of the console.">
      <EmptyState.Actions>
        <Button component={Link} to="/registries">
          Go to registries
        </Button>
      </EmptyState.Actions>
    </EmptyState>
  );
}
