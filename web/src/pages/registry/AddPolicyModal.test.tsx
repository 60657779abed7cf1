// @vitest-environment jsdom
import { cleanup, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderWithProviders } from '../../test/render';
import { AddCleanupPolicyModal, AddProtectionPolicyModal } from './AddPolicyModal';

const posts = (m: ReturnType<typeof vi.fn>) => (m.mock.calls as unknown as [string, RequestInit][]).filter(([, init]) => init.method === 'POST');

describe('AddPolicyModal', () => {
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  it('sends the filters and the rule, and shows the server’s refusal in the dialog', async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ errors: [{ code: 'LIMIT_EXCEEDED', message: 'a registry has at most 15 cleanup policies', detail: null }] }), { status: 409 }));
    vi.stubGlobal('fetch', fetchMock);
    const user = userEvent.setup();
    renderWithProviders(<AddCleanupPolicyModal registry="team" opened onClose={() => undefined} />);
    const image = await screen.findByRole('textbox', { name: /Image pattern/ });
    expect((image as HTMLInputElement).value).toBe('**');
    const tag = screen.getByRole('textbox', { name: /Tag pattern/ });
    await user.clear(tag);
    await user.type(tag, 'ci-*');
    await user.click(screen.getByLabelText('Include untagged artifacts'));
    const n = screen.getByRole('textbox', { name: 'Number of artifacts' });
    await user.clear(n);
    await user.type(n, '3');
    expect(screen.getByTestId('policy-sentence').textContent).toBe(
      'In every image, this policy selects the artifacts with a tag matching "ci-*", and every untagged artifact; it keeps the 3 most recently pushed (per image) and deletes the rest.',
    );
    await user.click(screen.getByRole('button', { name: 'Add policy' }));
    expect((await screen.findByRole('alert')).textContent).toContain('A registry has at most 15 cleanup policies');
    const [post] = posts(fetchMock);
    expect(post?.[0]).toBe('/api/v1/registries/team/cleanup-policies');
    expect(JSON.parse(String(post?.[1].body))).toEqual({
      imageFilter: { pattern: '**', syntax: 'glob', mode: 'matching' },
      tagFilter: { pattern: 'ci-*', syntax: 'glob', mode: 'matching', untagged: true },
      rule: { keep: 'latestPushed', n: 3 },
    });
  });

  it('checks a regex before sending, and a protection policy has no rule', async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ id: 'p1' }), { status: 201 }));
    vi.stubGlobal('fetch', fetchMock);
    const user = userEvent.setup();
    const onClose = vi.fn();
    renderWithProviders(<AddProtectionPolicyModal registry="team" opened onClose={onClose} />);
    const tag = await screen.findByRole('textbox', { name: /Tag pattern/ });
    expect(screen.queryByText('What to keep')).toBeNull();
    await user.clear(tag);
    await user.type(tag, 'release-(');
    await user.click(screen.getAllByText('Regex')[1]!);
    expect(screen.getByText('Not a valid regular expression.')).toBeTruthy();
    const add = screen.getByRole('button', { name: 'Add policy' }) as HTMLButtonElement;
    expect(add.disabled).toBe(true);
    await user.type(tag, '[[0-9]+)'); // '[[' types one '['
    expect(add.disabled).toBe(false);
    await user.click(add);
    await vi.waitFor(() => expect(onClose).toHaveBeenCalled());
    expect(JSON.parse(String(posts(fetchMock)[0]?.[1].body))).toEqual({
      imageFilter: { pattern: '**', syntax: 'glob', mode: 'matching' },
      tagFilter: { pattern: 'release-([0-9]+)', syntax: 'regex', mode: 'matching', untagged: false },
    });
  });
});
