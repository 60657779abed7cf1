/** The guide's Authentication column: whether an artifact is signed, and whether a registered key verifies it. */
import { Badge, Tooltip } from '@mantine/core';
import { IconShieldCheck, IconShieldOff, IconShieldQuestion, IconShieldX } from '@tabler/icons-react';
import type { TrustStatus } from '../api/trust';

const LOOK: Record<TrustStatus, { label: string; color: string; icon: typeof IconShieldCheck; hint: string }> = {
  verified: { label: 'Verified', color: 'teal', icon: IconShieldCheck, hint: 'A cosign signature of exactly this digest is verified by a registered key' },
  unverified: { label: 'Signed, unverified', color: 'yellow', icon: IconShieldQuestion, hint: 'Signed, but no registered key verifies the signature: add the public key in the Image Trust tab' },
  invalid: { label: 'Invalid', color: 'red', icon: IconShieldX, hint: 'A signature is there but broken: its payload was changed or it signs another digest' },
  unsigned: { label: 'Unsigned', color: 'gray', icon: IconShieldOff, hint: 'No signature: sign it with cosign sign --key cosign.key IMAGE (or ncr sign)' },
};

export function AuthenticationBadge({ status, keys }: { status: TrustStatus; keys?: string[] }) {
  const l = LOOK[status];
  const label = status === 'verified' && keys?.length ? `Verified (${keys.join(', ')})` : l.label;
  return (
    <Tooltip label={l.hint} multiline w={280} withArrow>
      <Badge color={l.color} variant={status === 'unsigned' ? 'outline' : 'light'} radius="sm" tt="none" leftSection={<l.icon size={12} />} aria-label={`Authentication: ${label}`}>
        {label}
      </Badge>
    </Tooltip>
  );
}
