/**
 * RPM package headers as the rpm database stores them (one blob per package in `rpmdb.sqlite`'s `Packages` table):
 * int32 index count, int32 data length, 16-byte index entries (tag, type, offset, count; big-endian), then the data.
 * Only the tags a scan needs are read: name, epoch, version, release, arch and the source rpm.
 */
export interface RpmPackage {
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
  /** e.g. openssl-3.0.7-24.el9.src.rpm */
  sourceRpm: string | null;
}

const TAG = { NAME: 1000, VERSION: 1001, RELEASE: 1002, EPOCH: 1003, ARCH: 1022, SOURCERPM: 1044 } as const;
const STRING = 6;
const INT32 = 4;
const I18NSTRING = 9;

export function parseRpmHeader(blob: Uint8Array): RpmPackage | undefined {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (b.length < 8) return undefined;
  const il = b.readInt32BE(0);
  const dl = b.readInt32BE(4);
  const dataStart = 8 + il * 16;
  if (il <= 0 || il > 100_000 || dl < 0 || dataStart + dl > b.length) return undefined;
  const values = new Map<number, string | number>();
  for (let i = 0; i < il; i++) {
    const at = 8 + i * 16;
    const tag = b.readInt32BE(at);
    const type = b.readInt32BE(at + 4);
    const off = b.readInt32BE(at + 8);
    if (!(Object.values(TAG) as number[]).includes(tag) || off < 0 || off >= dl) continue;
    const p = dataStart + off;
    if (type === STRING || type === I18NSTRING) {
      const end = b.indexOf(0, p);
      if (end > 0 && end <= dataStart + dl) values.set(tag, b.toString('utf8', p, end));
    } else if (type === INT32 && p + 4 <= dataStart + dl) values.set(tag, b.readInt32BE(p));
  }
  const name = values.get(TAG.NAME);
  const version = values.get(TAG.VERSION);
  const release = values.get(TAG.RELEASE);
  if (typeof name !== 'string' || typeof version !== 'string' || typeof release !== 'string') return undefined;
  const epoch = values.get(TAG.EPOCH);
  const src = values.get(TAG.SOURCERPM);
  return { name, version, release, epoch: typeof epoch === 'number' ? epoch : null, arch: String(values.get(TAG.ARCH) ?? ''), sourceRpm: typeof src === 'string' ? src : null };
}

/** `openssl-3.0.7-24.el9.src.rpm` → { name: openssl, version: 3.0.7, release: 24.el9 } */
export function parseSourceRpm(s: string): { name: string; version: string; release: string } | undefined {
  const m = /^(.+)-([^-]+)-([^-]+)\.(?:no)?src\.rpm$/.exec(s);
  return m ? { name: m[1]!, version: m[2]!, release: m[3]! } : undefined;
}
