import { describe, it, expect } from 'vitest';
import { MAX_MANIFEST_BYTES, MAX_MANIFEST_DEPTH, parseManifest, platformsOf, referencedBlobs, type ParsedManifest } from './manifest.js';
import {
  DOCKER_IMAGE_CONFIG,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  DOCKER_SCHEMA1,
  DOCKER_SCHEMA1_SIGNED,
  OCI_EMPTY_CONFIG,
  OCI_IMAGE_CONFIG,
  OCI_INDEX,
  OCI_MANIFEST,
} from './media-types.js';
import { NcrError } from './errors.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

function caught(fn: () => unknown): NcrError {
  try {
    fn();
  } catch (err) {
    if (err instanceof NcrError) return err;
    throw err;
  }
  throw new Error('expected an NcrError');
}

const image = () => ({
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: { mediaType: OCI_IMAGE_CONFIG, digest: d('a'), size: 10 },
  layers: [
    { mediaType: LAYER, digest: d('b'), size: 100 },
    { mediaType: LAYER, digest: d('c'), size: 0, annotations: { 'org.opencontainers.image.title': 'x' } },
  ],
  annotations: { k: 'v' },
});

const index = () => ({
  schemaVersion: 2,
  mediaType: OCI_INDEX,
  manifests: [
    { mediaType: OCI_MANIFEST, digest: d('1'), size: 500, platform: { os: 'linux', architecture: 'amd64' } },
    { mediaType: OCI_MANIFEST, digest: d('2'), size: 500, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    { mediaType: OCI_MANIFEST, digest: d('3'), size: 500, platform: { os: 'linux', architecture: 'amd64' } },
    { mediaType: OCI_MANIFEST, digest: d('4'), size: 500, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } },
    {
      mediaType: OCI_MANIFEST,
      digest: d('5'),
      size: 500,
      platform: { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1' },
    },
  ],
});

describe('parseManifest: valid manifests', () => {
  it('parses an OCI image manifest', () => {
    const m = parseManifest(enc(image()), OCI_MANIFEST);
    expect(m.kind).toBe('image');
    expect(m.mediaType).toBe(OCI_MANIFEST);
    expect(m.config?.digest).toBe(d('a'));
    expect(m.layers).toHaveLength(2);
    expect(m.layers[1].annotations).toEqual({ 'org.opencontainers.image.title': 'x' });
    expect(m.manifests).toEqual([]);
    expect(m.annotations).toEqual({ k: 'v' });
    expect(m.artifactType).toBeUndefined();
    expect(m.subject).toBeUndefined();
  });

  it('parses an OCI index with platforms', () => {
    const m = parseManifest(enc(index()), `${OCI_INDEX}; charset=utf-8`);
    expect(m.kind).toBe('index');
    expect(m.manifests).toHaveLength(5);
    expect(m.manifests[4].platform).toEqual({ os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1' });
    expect(m.layers).toEqual([]);
    expect(m.config).toBeUndefined();
  });

  it('parses an artifact with subject, artifactType and empty layers', () => {
    const body = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: 'application/vnd.example.sbom',
      config: { mediaType: OCI_EMPTY_CONFIG, digest: d('4'), size: 2 },
      layers: [],
      subject: { mediaType: OCI_MANIFEST, digest: d('5'), size: 123 },
    };
    const m = parseManifest(enc(body));
    expect(m.artifactType).toBe('application/vnd.example.sbom');
    expect(m.subject).toEqual({ mediaType: OCI_MANIFEST, digest: d('5'), size: 123 });
    expect(m.layers).toEqual([]);
  });

  it('reads "manifests": null (how go-containerregistry sends an empty index) as an empty index, and "layers": null as no layers', () => {
    const empty = parseManifest(enc({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: null }), OCI_INDEX);
    expect(empty.kind).toBe('index');
    expect(empty.manifests).toEqual([]);
    expect(platformsOf(empty)).toEqual([]);
    expect(parseManifest(enc({ schemaVersion: 2, manifests: null })).mediaType).toBe(OCI_INDEX);
    const list = parseManifest(enc({ schemaVersion: 2, mediaType: DOCKER_MANIFEST_LIST, manifests: null }), DOCKER_MANIFEST_LIST);
    expect(list.manifests).toEqual([]);
    expect(parseManifest(enc({ ...image(), layers: null })).layers).toEqual([]);
  });

  it('parses Docker v2 manifests and manifest lists', () => {
    const dm = {
      schemaVersion: 2,
      mediaType: DOCKER_MANIFEST,
      config: { mediaType: DOCKER_IMAGE_CONFIG, digest: d('a'), size: 1 },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: d('b'), size: 2 }],
    };
    expect(parseManifest(enc(dm), DOCKER_MANIFEST).kind).toBe('image');
    const list = { ...index(), mediaType: DOCKER_MANIFEST_LIST };
    const m = parseManifest(enc(list), DOCKER_MANIFEST_LIST);
    expect(m.kind).toBe('index');
    expect(m.mediaType).toBe(DOCKER_MANIFEST_LIST);
  });

  it('takes the media type from Content-Type when the body omits it', () => {
    const { mediaType: _omit, ...body } = image();
    expect(parseManifest(enc(body), OCI_MANIFEST).mediaType).toBe(OCI_MANIFEST);
    const { mediaType: _omit2, ...list } = index();
    expect(parseManifest(enc(list), DOCKER_MANIFEST_LIST).kind).toBe('index');
  });

  it('infers the type when neither body nor Content-Type names one', () => {
    const { mediaType: _a, ...img } = image();
    const { mediaType: _b, ...idx } = index();
    expect(parseManifest(enc(img)).mediaType).toBe(OCI_MANIFEST);
    expect(parseManifest(enc(idx)).mediaType).toBe(OCI_INDEX);
    expect(parseManifest(enc(idx), 'application/json').mediaType).toBe(OCI_INDEX);
    expect(parseManifest(enc(image()), 'application/octet-stream').mediaType).toBe(OCI_MANIFEST);
  });

  it('accepts exactly MAX_MANIFEST_BYTES', () => {
    const base = JSON.stringify(image());
    const padded = base.slice(0, -1) + ' '.repeat(MAX_MANIFEST_BYTES - base.length) + '}';
    expect(enc(padded).length).toBe(MAX_MANIFEST_BYTES);
    expect(parseManifest(enc(padded)).kind).toBe('image');
  });
});

describe('parseManifest: rejections', () => {
  it('rejects oversized manifests with 413 and names the limit', () => {
    const err = caught(() => parseManifest(new Uint8Array(MAX_MANIFEST_BYTES + 1)));
    expect(err.code).toBe('MANIFEST_TOO_LARGE');
    expect(err.status).toBe(413);
    expect(err.message).toContain(String(MAX_MANIFEST_BYTES));
  });

  it.each([
    ['not JSON', 'not json'],
    ['an array', '[]'],
    ['null', 'null'],
    ['a number', '2'],
    ['empty', ''],
  ])('rejects a body that is %s', (_label, body) => {
    expect(caught(() => parseManifest(enc(body), OCI_MANIFEST)).code).toBe('MANIFEST_INVALID');
  });

  it('rejects invalid UTF-8', () => {
    expect(caught(() => parseManifest(new Uint8Array([0x7b, 0xff, 0x7d]))).code).toBe('MANIFEST_INVALID');
  });

  it.each([DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED, `${DOCKER_SCHEMA1_SIGNED}; charset=utf-8`])(
    'refuses schema 1 by Content-Type %s',
    (ct) => {
      const err = caught(() => parseManifest(enc({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }), ct));
      expect(err.code).toBe('MANIFEST_INVALID');
      expect(err.message).toMatch(/^Docker schema 1 manifests are not supported; .*skopeo copy --format v2s2/);
    },
  );

  it('refuses schema 1 by body', () => {
    const err = caught(() => parseManifest(enc({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] })));
    expect(err.message).toMatch(/schema 1/);
    expect(caught(() => parseManifest(enc({ schemaVersion: 1 }), 'application/json')).message).toMatch(/schema 1/);
  });

  it('rejects a body mediaType that differs from Content-Type, naming both', () => {
    const err = caught(() => parseManifest(enc(image()), DOCKER_MANIFEST));
    expect(err.code).toBe('MANIFEST_INVALID');
    expect(err.message).toContain(OCI_MANIFEST);
    expect(err.message).toContain(DOCKER_MANIFEST);
  });

  it('rejects unsupported media types, listing the supported ones', () => {
    const err = caught(() => parseManifest(enc({ ...image(), mediaType: 'application/vnd.example+json' })));
    expect(err.code).toBe('MANIFEST_INVALID');
    expect(err.message).toContain(OCI_INDEX);
    expect(err.message).toContain(DOCKER_MANIFEST_LIST);
    const { mediaType: _m, ...body } = image();
    expect(caught(() => parseManifest(enc(body), 'application/vnd.example+json')).message).toContain('not supported');
  });

  it('rejects nesting deeper than MAX_MANIFEST_DEPTH (found by fuzzing: reading it back overflowed the stack)', () => {
    const nested = (depth: number) => JSON.stringify(image()).replace(/\}$/, `,"x":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    // The manifest itself is one level; brackets inside strings do not count.
    expect(parseManifest(enc(nested(MAX_MANIFEST_DEPTH - 1))).kind).toBe('image');
    expect(parseManifest(enc({ ...image(), annotations: { k: '[[[['.repeat(100) } })).kind).toBe('image');
    const err = caught(() => parseManifest(enc(nested(MAX_MANIFEST_DEPTH))));
    expect(err.code).toBe('MANIFEST_INVALID');
    expect(err.message).toMatch(/nest more than 100 levels/);
    expect(caught(() => parseManifest(enc(nested(50_000)))).code).toBe('MANIFEST_INVALID');
  });

  it('rejects bodies whose type cannot be inferred', () => {
    expect(caught(() => parseManifest(enc({ schemaVersion: 2 }))).message).toMatch(/cannot tell the manifest type/);
  });

  it.each([
    ['missing schemaVersion', { ...image(), schemaVersion: undefined }, /schemaVersion/],
    ['schemaVersion 3', { ...image(), schemaVersion: 3 }, /schemaVersion/],
    ['schemaVersion "2"', { ...image(), schemaVersion: '2' }, /schemaVersion/],
    ['missing config', { ...image(), config: undefined }, /"config"/],
    ['missing layers', { ...image(), layers: undefined }, /"layers"/],
    ['layers not an array', { ...image(), layers: {} }, /"layers" must be an array/],
    ['index without manifests', { schemaVersion: 2, mediaType: OCI_INDEX }, /"manifests"/],
    ['non-string mediaType', { ...image(), mediaType: 5 }, /mediaType must be a string/],
    ['non-string artifactType', { ...image(), artifactType: 1 }, /artifactType/],
    ['non-string annotation', { ...image(), annotations: { a: 1 } }, /annotations/],
    ['config without mediaType', { ...image(), config: { digest: d('a'), size: 1 } }, /config\.mediaType/],
    ['negative size', { ...image(), config: { mediaType: OCI_IMAGE_CONFIG, digest: d('a'), size: -1 } }, /config\.size/],
    ['fractional size', { ...image(), config: { mediaType: OCI_IMAGE_CONFIG, digest: d('a'), size: 1.5 } }, /config\.size/],
    ['string size', { ...image(), config: { mediaType: OCI_IMAGE_CONFIG, digest: d('a'), size: '1' } }, /config\.size/],
    ['unsafe size', { ...image(), config: { mediaType: OCI_IMAGE_CONFIG, digest: d('a'), size: 2 ** 53 } }, /config\.size/],
    ['bad layer digest', { ...image(), layers: [{ mediaType: LAYER, digest: 'sha256:XYZ', size: 1 }] }, /layers\[0\]\.digest/],
    ['uppercase digest', { ...image(), layers: [{ mediaType: LAYER, digest: `sha256:${'A'.repeat(64)}`, size: 1 }] }, /uppercase/],
    ['missing digest', { ...image(), layers: [{ mediaType: LAYER, size: 1 }] }, /layers\[0\]\.digest/],
    ['layer not an object', { ...image(), layers: ['x'] }, /layers\[0\]/],
    ['bad subject', { ...image(), subject: { mediaType: OCI_MANIFEST, digest: 'nope', size: 1 } }, /subject\.digest/],
    ['bad urls', { ...image(), layers: [{ mediaType: LAYER, digest: d('b'), size: 1, urls: 'http://x' }] }, /urls/],
    [
      'bad platform',
      { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: d('1'), size: 1, platform: { os: 'linux' } }] },
      /manifests\[0\]\.platform/,
    ],
    [
      'bad index child digest',
      { schemaVersion: 2, mediaType: DOCKER_MANIFEST_LIST, manifests: [{ mediaType: DOCKER_MANIFEST, digest: 'md5:abc', size: 1 }] },
      /manifests\[0\]\.digest.*unsupported algorithm/,
    ],
  ])('rejects %s with MANIFEST_INVALID', (_label, body, message) => {
    const err = caught(() => parseManifest(enc(body)));
    expect(err.code).toBe('MANIFEST_INVALID');
    expect(err.message).toMatch(message);
  });
});

describe('platformsOf', () => {
  it('lists distinct platforms of an index in order', () => {
    expect(platformsOf(parseManifest(enc(index())))).toEqual(['linux/amd64', 'linux/arm64/v8', 'windows/amd64']);
  });

  it('is empty for image manifests and indexes without platforms', () => {
    expect(platformsOf(parseManifest(enc(image())))).toEqual([]);
    expect(platformsOf(parseManifest(enc({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] })))).toEqual([]);
  });
});

describe('referencedBlobs', () => {
  it('returns config then layers, deduplicated, skipping foreign layers and subject', () => {
    const m: ParsedManifest = parseManifest(
      enc({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_EMPTY_CONFIG, digest: d('a'), size: 2 },
        layers: [
          { mediaType: LAYER, digest: d('b'), size: 1 },
          { mediaType: LAYER, digest: d('a'), size: 2 },
          { mediaType: LAYER, digest: d('c'), size: 3, urls: ['https://example.com/layer'] },
          { mediaType: LAYER, digest: d('b'), size: 1 },
          { mediaType: LAYER, digest: d('d'), size: 4 },
        ],
        subject: { mediaType: OCI_MANIFEST, digest: d('e'), size: 5 },
      }),
    );
    expect(referencedBlobs(m).map((x) => x.digest)).toEqual([d('a'), d('b'), d('d')]);
  });

  it('returns nothing for an index', () => {
    expect(referencedBlobs(parseManifest(enc(index())))).toEqual([]);
  });
});
