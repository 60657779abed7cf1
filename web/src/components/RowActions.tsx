import { ActionIcon, Menu, Table } from '@mantine/core';
import { IconDots } from '@tabler/icons-react';
import type { ReactNode } from 'react';

/** The trailing "…" cell of a table row: a menu of actions on the row named `what` (for screen readers). */
export function RowActions({ what, children }: { what: string; children: ReactNode }) {
  return (
    <Table.Td>
      <Menu position="bottom-end" withinPortal>
        <Menu.Target>
          <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${what}`}>
            <IconDots size={16} />
          </ActionIcon>
        </Menu.Target>
        <Menu.Dropdown>{children}</Menu.Dropdown>
      </Menu>
    </Table.Td>
  );
}
