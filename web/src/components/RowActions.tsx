import { ActionIcon, Menu, Table } from '@mantine/core';
import { IconDots } from '@tabler/icons-react';
import type { ReactNode } from 'react';

/** A "…" menu of actions on the row named `what` (for screen readers), to place among other buttons of a cell. */
export function RowActionsMenu({ what, children }: { what: string; children: ReactNode }) {
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <ActionIcon variant="subtle" color="gray" aria-label={`Actions for ${what}`}>
          <IconDots size={16} />
        </ActionIcon>
      </Menu.Target>
      <Menu.Dropdown>{children}</Menu.Dropdown>
    </Menu>
  );
}

/** The trailing "…" cell of a table row: RowActionsMenu in a cell of its own. */
export function RowActions({ what, children }: { what: string; children: ReactNode }) {
  return (
    <Table.Td>
      <RowActionsMenu what={what}>{children}</RowActionsMenu>
    </Table.Td>
  );
}
