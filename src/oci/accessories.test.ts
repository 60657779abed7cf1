import { describe, expect, it } from 'vitest';
import { accessoryTagSubject, accessoryTagsOf } from './accessories.js';

describe('accessory tags', () => {
  const hex = 'a'.repeat(64);
  it('reads the subject of cosign-style tags', () => {
    expect(accessoryTagSubject(`sha256-${hex}.sig`)).toEqual({ subject: `sha256:${hex}`, kind: 'sig' });
    expect(accessoryTagSubject(`sha256-${hex}.att`)?.kind).toBe('att');
    expect(accessoryTagSubject(`sha256-${hex}.sbom`)?.kind).toBe('sbom');
  });
  it('ignores everything else', () => {
    for (const t of ['latest', `sha256-${hex}`, `sha256-${hex}.sig2`, `sha256-${hex.slice(1)}.sig`, `SHA256-${hex}.sig`]) expect(accessoryTagSubject(t), t).toBeUndefined();
  });
  it('lists the tags a subject can have', () => {
    expect(accessoryTagsOf(`sha256:${hex}`)).toEqual([`sha256-${hex}.sig`, `sha256-${hex}.att`, `sha256-${hex}.sbom`]);
  });
});
