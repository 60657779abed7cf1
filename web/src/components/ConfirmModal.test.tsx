// @vitest-environment jsdom
import { cleanup, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/client';
import { renderWithProviders } from '../test/render';
import { ConfirmModal } from './ConfirmModal';

describe('ConfirmModal', () => {
  afterEach(cleanup);

  it('needs the acknowledgement before deleting, and shows why the server refused', async () => {
    const user = userEvent.setup();
    const onClose = vi.fn();
    const onConfirm = vi.fn().mockRejectedValueOnce(new ApiError(409, 'CONFLICT', 'registry "a" still holds 2 image(s)')).mockResolvedValueOnce(undefined);
    renderWithProviders(
      <ConfirmModal opened onClose={onClose} title="Delete registry a?" confirmLabel="Delete registry" acknowledge="Also delete its 2 images" onConfirm={onConfirm}>
        Deletes 2 images.
      </ConfirmModal>,
    );
    const button = (await screen.findByRole('button', { name: 'Delete registry' })) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    await user.click(screen.getByRole('checkbox', { name: 'Also delete its 2 images' }));
    expect(button.disabled).toBe(false);
    await user.click(button);
    expect((await screen.findByRole('alert')).textContent).toContain('Registry "a" still holds 2 image(s)');
    expect(onClose).not.toHaveBeenCalled();
    await user.click(button);
    await waitFor(() => expect(onClose).toHaveBeenCalledOnce());
    expect(onConfirm).toHaveBeenCalledTimes(2);
  });
});
