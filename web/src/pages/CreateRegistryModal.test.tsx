// @vitest-environment jsdom
import { cleanup, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderWithProviders } from '../test/render';
import { CreateRegistryModal } from './CreateRegistryModal';

describe('CreateRegistryModal', () => {
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  it("checks the name as you type and shows the server's refusal", async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ errors: [{ code: 'CONFLICT', message: 'registry "team" already exists', detail: null }] }), { status: 409 }));
    vi.stubGlobal('fetch', fetchMock);
    const user = userEvent.setup();
    renderWithProviders(<CreateRegistryModal opened onClose={() => undefined} />);
    const input = await screen.findByRole('textbox', { name: /Registry name/ });
    const create = screen.getByRole('button', { name: 'Create' }) as HTMLButtonElement;

    await user.type(input, 'Team');
    expect(screen.getByText('Use lowercase letters only.')).toBeTruthy();
    expect(create.disabled).toBe(true);

    await user.clear(input);
    await user.type(input, 'team');
    expect(screen.queryByText('Use lowercase letters only.')).toBeNull();
    expect(screen.getByText(/\/team\/IMAGE:TAG$/)).toBeTruthy();
    await user.click(create);
    expect((await screen.findByRole('alert')).textContent).toContain('Registry "team" already exists');
    const post = (fetchMock.mock.calls as unknown as [string, RequestInit][]).find(([, init]) => init.method === 'POST');
    expect(post?.[0]).toBe('/api/v1/registries');
    expect(post?.[1].body).toBe('{"name":"team"}');
  });
});
