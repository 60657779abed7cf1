import { ActionIcon, Table, Tooltip } from '@mantine/core';
import { IconTrash } from '@tabler/icons-react';

/** The trailing cell of a table row with a red delete icon; `what` names the row for the tooltip and screen readers. */
export function DeleteRowButton({ title, what, onDelete }: { title: string; what: string; onDelete: () => void }) {
  return (
    <Table.Td>
      <Tooltip label={title}>
        <ActionIcon
          variant="subtle"
          color="red"
          aria-label={`${title} ${what}`}
          onClick={(e) => {
            // Rows are clickable (they open the item); deleting must not also open it.
            e.stopPropagation();
            onDelete();
          }}
        >
          <IconTrash size={16} />
        </ActionIcon>
      </Tooltip>
    </Table.Td>
  );
}
