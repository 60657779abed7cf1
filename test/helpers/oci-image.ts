/**
 * Builds test container images locally, with no network and no container tooling, as OCI image layouts on disk
 * (`oci-layout`, `index.json`, `blobs/sha256/<hex>`), usable by skopeo (`oci:<dir>:<tag>`), umoci and podman.
 *
 * Every layer is a gzip'd POSIX (ustar) tar holding a few files of pseudo-random content derived from `seed`, so
 * different seeds give different digests and the same seed gives the same bytes. Only node built-ins are used.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const OCI_LAYOUT_VERSION = '1.0.0';
export const MT_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MT_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MT_OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const MT_OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const REF_NAME = 'org.opencontainers.image.ref.name';

export interface BuiltImage {
  layoutDir: string;
  /** "oci:<layoutDir>:<tag>", for skopeo. */
  ref: string;
  /** The tag under which the image is recorded in the layout's index.json. */
  tag: string;
  manifestDigest: string;
  manifest: Uint8Array;
  config: Uint8Array;
  configDigest: string;
  layers: { digest: string; size: number; bytes: Uint8Array }[];
  /** sha256 digests of the uncompressed layer tars (rootfs.diff_ids), in layer order. */
  diffIds: string[];
  platform: Platform;
}

export interface Platform {
  os: string;
  arch: string;
  variant?: string;
}

export interface BuiltIndex {
  layoutDir: string;
  /** "oci:<layoutDir>:<tag>", for skopeo (use `skopeo copy --all`). */
  ref: string;
  tag: string;
  indexDigest: string;
  index: Uint8Array;
  /** The per-platform images, in the index's order; each is also tagged `<tag>-<os>-<arch>[-<variant>]`. */
  children: BuiltImage[];
}

export function sha256Digest(bytes: Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

/** Canonical-enough JSON bytes (stable key order as written, no trailing newline). */
function jsonBytes(value: unknown): Uint8Array {
  return new Uint8Array(Buffer.from(JSON.stringify(value), 'utf8'));
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic pseudo-random bytes

/** `length` pseudo-random bytes, a pure function of (seed, label): AES-256-CTR keystream over zeros. */
export function pseudoRandomBytes(seed: string, label: string, length: number): Buffer {
  const key = createHash('sha256').update(`key\0${seed}\0${label}`).digest();
  const iv = createHash('sha256').update(`iv\0${seed}\0${label}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

// ---------------------------------------------------------------------------------------------------------------
// Minimal ustar writer

export interface TarEntry {
  /** Path inside the archive, relative (no leading slash); directories end with "/". */
  name: string;
  type: 'file' | 'dir' | 'symlink';
  data?: Uint8Array;
  linkname?: string;
  mode?: number;
  /** Seconds since the epoch. */
  mtime?: number;
}

const BLOCK = 512;

function writeString(buf: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`tar: field too long (${bytes.length} > ${length}): ${value}`);
  bytes.copy(buf, offset);
}

/** Octal number, zero-padded to length-1 digits and NUL-terminated. */
function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  const s = Math.trunc(value).toString(8);
  if (s.length > length - 1) throw new Error(`tar: number ${value} does not fit in ${length} bytes`);
  writeString(buf, offset, length, s.padStart(length - 1, '0') + '\0');
}

function splitName(name: string): { name: string; prefix: string } {
  if (Buffer.byteLength(name) <= 100) return { name, prefix: '' };
  // ustar: prefix (<=155) + "/" + name (<=100), split at a slash.
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest.length > 0) return { name: rest, prefix };
  }
  throw new Error(`tar: path too long for ustar: ${name}`);
}

function tarHeader(entry: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const { name, prefix } = splitName(entry.name);
  const typeflag = entry.type === 'file' ? '0' : entry.type === 'dir' ? '5' : '2';
  const mode = entry.mode ?? (entry.type === 'dir' ? 0o755 : entry.type === 'symlink' ? 0o777 : 0o644);
  writeString(h, 0, 100, name);
  writeOctal(h, 100, 8, mode);
  writeOctal(h, 108, 8, 0); // uid
  writeOctal(h, 116, 8, 0); // gid
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, entry.mtime ?? 0);
  h.fill(0x20, 148, 156); // checksum placeholder: 8 spaces
  writeString(h, 156, 1, typeflag);
  if (entry.linkname) writeString(h, 157, 100, entry.linkname);
  writeString(h, 257, 6, 'ustar\0');
  writeString(h, 263, 2, '00');
  writeString(h, 265, 32, 'root');
  writeString(h, 297, 32, 'root');
  writeOctal(h, 329, 8, 0); // devmajor
  writeOctal(h, 337, 8, 0); // devminor
  writeString(h, 345, 155, prefix);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i];
  // Conventional format: six octal digits, NUL, space.
  writeString(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

/** A complete ustar archive (entries, then two zero blocks, padded to a 10 KiB record like GNU tar). */
export function createTar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = entry.type === 'file' ? Buffer.from(entry.data ?? new Uint8Array()) : Buffer.alloc(0);
    parts.push(tarHeader(entry, data.length));
    if (data.length > 0) {
      parts.push(data);
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  let total = parts.reduce((n, p) => n + p.length, 0);
  const RECORD = BLOCK * 20;
  const recordPad = (RECORD - (total % RECORD)) % RECORD;
  if (recordPad) {
    parts.push(Buffer.alloc(recordPad));
    total += recordPad;
  }
  return Buffer.concat(parts, total);
}

// ---------------------------------------------------------------------------------------------------------------
// Layout I/O

async function writeBlob(layoutDir: string, bytes: Uint8Array): Promise<string> {
  const digest = sha256Digest(bytes);
  const dir = join(layoutDir, 'blobs', 'sha256');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, digest.slice('sha256:'.length)), bytes);
  return digest;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

/** Creates the layout if needed and records `desc` under `tag` in index.json, replacing an entry with that tag. */
async function tagInLayout(layoutDir: string, tag: string, desc: Descriptor): Promise<void> {
  await mkdir(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: OCI_LAYOUT_VERSION }));
  let manifests: Descriptor[] = [];
  try {
    const existing = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as { manifests?: Descriptor[] };
    manifests = (existing.manifests ?? []).filter((m) => m.annotations?.[REF_NAME] !== tag);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  manifests.push({ ...desc, annotations: { ...desc.annotations, [REF_NAME]: tag } });
  const index = { schemaVersion: 2, mediaType: MT_OCI_INDEX, manifests };
  await writeFile(join(layoutDir, 'index.json'), JSON.stringify(index, null, 2));
}

function validateTag(tag: string): void {
  // OCI tag grammar; also keeps `oci:<dir>:<tag>` parseable.
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) throw new Error(`invalid tag: ${tag}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Images

export interface BuildImageOptions {
  /** The OCI layout directory (created if missing; an existing layout gets the image added under `tag`). */
  dir: string;
  tag?: string;
  /** Number of layers, default 2. */
  layers?: number;
  /** Approximate uncompressed payload bytes per layer, default 4096. Content is random, so gzip barely shrinks it. */
  layerSize?: number;
  arch?: string;
  os?: string;
  variant?: string;
  /** Determines all content; a random seed is used when omitted, so every build differs. */
  seed?: string;
}

const FIXED_CREATED = '2024-01-01T00:00:00Z';
const FIXED_MTIME = Date.parse(FIXED_CREATED) / 1000;

function layerEntries(seed: string, layerIndex: number, layerSize: number): TarEntry[] {
  const dir = `opt/ncr-test/layer${layerIndex}/`;
  const entries: TarEntry[] = [
    { name: 'opt/', type: 'dir', mtime: FIXED_MTIME },
    { name: 'opt/ncr-test/', type: 'dir', mtime: FIXED_MTIME },
    { name: dir, type: 'dir', mtime: FIXED_MTIME },
  ];
  // A few files sharing layerSize between them (at least 1 byte each).
  const fileCount = Math.max(1, Math.min(4, Math.ceil(layerSize / 1024)));
  let remaining = Math.max(fileCount, layerSize);
  for (let f = 0; f < fileCount; f++) {
    const size = f === fileCount - 1 ? remaining : Math.floor(remaining / (fileCount - f));
    remaining -= size;
    entries.push({
      name: `${dir}data-${f}.bin`,
      type: 'file',
      data: pseudoRandomBytes(seed, `layer${layerIndex}/file${f}`, size),
      mtime: FIXED_MTIME,
    });
  }
  entries.push({
    name: `${dir}README`,
    type: 'file',
    data: Buffer.from(`ncr test image layer ${layerIndex}, seed ${seed}\n`),
    mtime: FIXED_MTIME,
  });
  if (layerIndex === 0) {
    entries.push({ name: 'etc/', type: 'dir', mtime: FIXED_MTIME });
    entries.push({ name: 'etc/ncr-test-release', type: 'file', data: Buffer.from(`seed=${seed}\n`), mtime: FIXED_MTIME });
    entries.push({ name: 'opt/ncr-test/current', type: 'symlink', linkname: 'layer0', mtime: FIXED_MTIME });
  }
  return entries;
}

/** Writes an image's blobs into the layout (no index.json entry) and returns it. */
async function writeImageBlobs(
  layoutDir: string,
  tag: string,
  opts: { layers: number; layerSize: number; platform: Platform; seed: string },
): Promise<BuiltImage> {
  const { platform, seed } = opts;
  if (!Number.isInteger(opts.layers) || opts.layers < 1) throw new Error(`layers must be a positive integer, got ${opts.layers}`);
  const layers: BuiltImage['layers'] = [];
  const diffIds: string[] = [];
  for (let i = 0; i < opts.layers; i++) {
    const tar = createTar(layerEntries(`${seed}/${platform.os}/${platform.arch}/${platform.variant ?? ''}`, i, opts.layerSize));
    diffIds.push(sha256Digest(tar));
    const gz = new Uint8Array(gzipSync(tar, { level: 6 }));
    const digest = await writeBlob(layoutDir, gz);
    layers.push({ digest, size: gz.length, bytes: gz });
  }
  const configObj: Record<string, unknown> = {
    created: FIXED_CREATED,
    architecture: platform.arch,
    ...(platform.variant ? { variant: platform.variant } : {}),
    os: platform.os,
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `NCR_TEST_SEED=${seed}`],
      Cmd: ['/bin/sh', '-c', 'cat /etc/ncr-test-release'],
      WorkingDir: '/',
      Labels: { 'org.opencontainers.image.title': 'ncr-test', 'ncr.test.seed': seed },
    },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map((_, i) => ({
      created: FIXED_CREATED,
      created_by: `ncr test helper: layer ${i}`,
    })),
  };
  const config = jsonBytes(configObj);
  const configDigest = await writeBlob(layoutDir, config);
  const manifestObj = {
    schemaVersion: 2,
    mediaType: MT_OCI_MANIFEST,
    config: { mediaType: MT_OCI_CONFIG, digest: configDigest, size: config.length },
    layers: layers.map((l) => ({ mediaType: MT_OCI_LAYER_GZIP, digest: l.digest, size: l.size })),
    annotations: { 'org.opencontainers.image.created': FIXED_CREATED },
  };
  const manifest = jsonBytes(manifestObj);
  const manifestDigest = await writeBlob(layoutDir, manifest);
  return {
    layoutDir,
    ref: `oci:${layoutDir}:${tag}`,
    tag,
    manifestDigest,
    manifest,
    config,
    configDigest,
    layers,
    diffIds,
    platform,
  };
}

function platformDescriptor(p: Platform): NonNullable<Descriptor['platform']> {
  return { architecture: p.arch, os: p.os, ...(p.variant ? { variant: p.variant } : {}) };
}

/** A single-platform OCI image in the layout at `opts.dir`, tagged `opts.tag` (default "latest"). */
export async function buildImage(opts: BuildImageOptions): Promise<BuiltImage> {
  const tag = opts.tag ?? 'latest';
  validateTag(tag);
  const platform: Platform = { os: opts.os ?? 'linux', arch: opts.arch ?? 'amd64', ...(opts.variant ? { variant: opts.variant } : {}) };
  const image = await writeImageBlobs(opts.dir, tag, {
    layers: opts.layers ?? 2,
    layerSize: opts.layerSize ?? 4096,
    platform,
    seed: opts.seed ?? randomBytes(8).toString('hex'),
  });
  await tagInLayout(opts.dir, tag, {
    mediaType: MT_OCI_MANIFEST,
    digest: image.manifestDigest,
    size: image.manifest.length,
    platform: platformDescriptor(platform),
  });
  return image;
}

export interface BuildIndexOptions {
  dir: string;
  tag?: string;
  platforms: Platform[];
  seed?: string;
  layers?: number;
  layerSize?: number;
}

/**
 * A multi-platform OCI image index in the layout at `opts.dir`, tagged `opts.tag` (default "latest"), whose children
 * are images as built by buildImage (each with its platform in the index descriptor). Each child is also tagged
 * `<tag>-<os>-<arch>[-<variant>]` in index.json so it can be addressed on its own.
 */
export async function buildIndex(opts: BuildIndexOptions): Promise<BuiltIndex> {
  const tag = opts.tag ?? 'latest';
  validateTag(tag);
  if (opts.platforms.length === 0) throw new Error('buildIndex: at least one platform is required');
  const seed = opts.seed ?? randomBytes(8).toString('hex');
  const children: BuiltImage[] = [];
  for (const platform of opts.platforms) {
    const childTag = [tag, platform.os, platform.arch, platform.variant].filter(Boolean).join('-');
    validateTag(childTag);
    const child = await writeImageBlobs(opts.dir, childTag, {
      layers: opts.layers ?? 2,
      layerSize: opts.layerSize ?? 4096,
      platform,
      seed,
    });
    await tagInLayout(opts.dir, childTag, {
      mediaType: MT_OCI_MANIFEST,
      digest: child.manifestDigest,
      size: child.manifest.length,
      platform: platformDescriptor(platform),
    });
    children.push(child);
  }
  const indexObj = {
    schemaVersion: 2,
    mediaType: MT_OCI_INDEX,
    manifests: children.map((c) => ({
      mediaType: MT_OCI_MANIFEST,
      digest: c.manifestDigest,
      size: c.manifest.length,
      platform: platformDescriptor(c.platform),
    })),
  };
  const index = jsonBytes(indexObj);
  const indexDigest = await writeBlob(opts.dir, index);
  await tagInLayout(opts.dir, tag, { mediaType: MT_OCI_INDEX, digest: indexDigest, size: index.length });
  return { layoutDir: opts.dir, ref: `oci:${opts.dir}:${tag}`, tag, indexDigest, index, children };
}

/** Reads a blob back from a layout (e.g. one written by `skopeo copy ... oci:<dir>:<tag>`). */
export async function readLayoutBlob(layoutDir: string, digest: string): Promise<Uint8Array> {
  const [alg, hex] = digest.split(':');
  return new Uint8Array(await readFile(join(layoutDir, 'blobs', alg, hex)));
}

/** The descriptor index.json records for `tag` in a layout, or undefined. */
export async function readLayoutTag(layoutDir: string, tag: string): Promise<Descriptor | undefined> {
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as { manifests?: Descriptor[] };
  return (index.manifests ?? []).find((m) => m.annotations?.[REF_NAME] === tag);
}
