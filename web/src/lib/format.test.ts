import { describe, expect, it } from 'vitest';
import { artifactKind, formatBytes, formatRelative, formatUtc, isIndex, plural, shortDigest } from './format';

describe('formatting for people', () => {
  it('sizes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.50 KB');
    expect(formatBytes(100_000)).toBe('97.7 KB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.00 GB');
  });

  it('times in UTC and relative', () => {
    expect(formatUtc('2026-11-29T23:04:12.345Z')).toBe('2026-11-29 23:04:12 UTC');
    const now = Date.parse('2026-11-29T12:00:00Z');
    expect(formatRelative('2026-11-29T11:59:50Z', now)).toBe('just now');
    expect(formatRelative('2026-11-29T11:55:00Z', now)).toBe('5 min ago');
    expect(formatRelative('2026-11-29T09:00:00Z', now)).toBe('3 h ago');
    expect(formatRelative('2026-11-28T12:00:00Z', now)).toBe('1 day ago');
    expect(formatRelative('2026-11-26T12:00:00Z', now)).toBe('3 days ago');
    expect(formatRelative('2026-08-29T12:00:00Z', now)).toBe('3 months ago');
    expect(formatRelative('2024-11-29T12:00:00Z', now)).toBe('2 years ago');
  });

  it('digests, media types and plurals', () => {
    expect(shortDigest('sha256:0123456789abcdef0123')).toBe('sha256:0123456789ab');
    expect(artifactKind('application/vnd.oci.image.manifest.v1+json')).toBe('OCI image');
    expect(artifactKind('application/vnd.oci.image.manifest.v1+json', 'application/vnd.example.sbom')).toBe('vnd.example.sbom');
    expect(isIndex('application/vnd.oci.image.index.v1+json')).toBe(true);
    expect(isIndex('application/vnd.docker.distribution.manifest.list.v2+json')).toBe(true);
    expect(plural(1, 'registry')).toBe('1 registry');
    expect(plural(3, 'registry')).toBe('3 registries');
    expect(plural(2, 'tag')).toBe('2 tags');
  });
});
