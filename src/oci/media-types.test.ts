import { describe, it, expect } from 'vitest';
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  DOCKER_SCHEMA1,
  MANIFEST_MEDIA_TYPES,
  OCI_INDEX,
  OCI_MANIFEST,
  acceptsMediaType,
  isIndexMediaType,
} from './media-types.js';

describe('MANIFEST_MEDIA_TYPES', () => {
  it('lists exactly the four supported manifest types', () => {
    expect([...MANIFEST_MEDIA_TYPES].sort()).toEqual([DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST].sort());
    expect(MANIFEST_MEDIA_TYPES).not.toContain(DOCKER_SCHEMA1);
  });
});

describe('isIndexMediaType', () => {
  it('is true only for OCI index and Docker manifest list', () => {
    expect(isIndexMediaType(OCI_INDEX)).toBe(true);
    expect(isIndexMediaType(DOCKER_MANIFEST_LIST)).toBe(true);
    expect(isIndexMediaType(OCI_MANIFEST)).toBe(false);
    expect(isIndexMediaType(DOCKER_MANIFEST)).toBe(false);
    expect(isIndexMediaType('')).toBe(false);
  });
});

describe('acceptsMediaType', () => {
  it('accepts everything when Accept is missing or empty', () => {
    expect(acceptsMediaType(undefined, OCI_INDEX)).toBe(true);
    expect(acceptsMediaType('', OCI_INDEX)).toBe(true);
    expect(acceptsMediaType([], OCI_INDEX)).toBe(true);
    expect(acceptsMediaType([' ', ''], OCI_INDEX)).toBe(true);
  });

  it('accepts wildcards', () => {
    expect(acceptsMediaType('*/*', OCI_MANIFEST)).toBe(true);
    expect(acceptsMediaType('application/*', OCI_MANIFEST)).toBe(true);
    expect(acceptsMediaType('text/*', OCI_MANIFEST)).toBe(false);
  });

  it('matches exact types in comma-separated lists and ignores parameters', () => {
    const accept = `${DOCKER_MANIFEST}, ${OCI_MANIFEST};q=0.5 , ${OCI_INDEX}; charset=utf-8`;
    expect(acceptsMediaType(accept, OCI_MANIFEST)).toBe(true);
    expect(acceptsMediaType(accept, OCI_INDEX)).toBe(true);
    expect(acceptsMediaType(accept, DOCKER_MANIFEST)).toBe(true);
    expect(acceptsMediaType(accept, DOCKER_MANIFEST_LIST)).toBe(false);
  });

  it('matches across several header values', () => {
    expect(acceptsMediaType([DOCKER_MANIFEST, `${OCI_INDEX},${OCI_MANIFEST}`], OCI_MANIFEST)).toBe(true);
    expect(acceptsMediaType([DOCKER_MANIFEST, OCI_INDEX], OCI_MANIFEST)).toBe(false);
  });

  it('is case-insensitive', () => {
    expect(acceptsMediaType(OCI_MANIFEST.toUpperCase(), OCI_MANIFEST)).toBe(true);
  });

  it('treats q=0 as not accepted', () => {
    expect(acceptsMediaType(`${OCI_MANIFEST};q=0`, OCI_MANIFEST)).toBe(false);
    expect(acceptsMediaType(`${OCI_MANIFEST}; q=0.0`, OCI_MANIFEST)).toBe(false);
    expect(acceptsMediaType(`${OCI_MANIFEST};q=0.001`, OCI_MANIFEST)).toBe(true);
    expect(acceptsMediaType(`${OCI_MANIFEST};Q=0`, OCI_MANIFEST)).toBe(false);
  });

  it('lets a specific q=0 override a wildcard, and a specific entry override a q=0 wildcard', () => {
    expect(acceptsMediaType(`*/*, ${OCI_INDEX};q=0`, OCI_INDEX)).toBe(false);
    expect(acceptsMediaType(`*/*, ${OCI_INDEX};q=0`, OCI_MANIFEST)).toBe(true);
    expect(acceptsMediaType(`application/*;q=0, ${OCI_INDEX}`, OCI_INDEX)).toBe(true);
    expect(acceptsMediaType(`application/*;q=0, ${OCI_INDEX}`, OCI_MANIFEST)).toBe(false);
  });
});
