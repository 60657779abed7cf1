/**
 * The build information Go (1.18 and later) embeds in every binary it links: the Go version and the modules compiled
 * in (`go version -m`). Format as Go's debug/buildinfo reads it: a 32-byte header starting "\xff Go buildinf:", the
 * pointer size, flags (bit 1: strings follow inline), then two varint-length strings, the version and the module info
 * (wrapped in 16-byte sentinels). Older binaries (pointers to strings) are not read.
 */
export interface GoModule {
  path: string;
  version: string;
}
export interface GoBuildInfo {
  goVersion: string;
  main: GoModule | null;
  deps: GoModule[];
}

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');

function uvarint(b: Buffer, at: number): [number, number] | undefined {
  let x = 0;
  let s = 0;
  for (let i = 0; i < 10 && at + i < b.length; i++) {
    const c = b[at + i]!;
    if (c < 0x80) return [x + c * 2 ** s, at + i + 1];
    x += (c & 0x7f) * 2 ** s;
    s += 7;
  }
  return undefined;
}

/** The build info of an ELF binary, or undefined when it has none this reader understands. */
export function readGoBuildInfo(bin: Buffer): GoBuildInfo | undefined {
  if (bin[0] !== 0x7f || bin[1] !== 0x45 || bin[2] !== 0x4c || bin[3] !== 0x46) return undefined; // \x7fELF
  let at = bin.indexOf(MAGIC);
  while (at >= 0 && at % 16 !== 0) at = bin.indexOf(MAGIC, at + 1);
  if (at < 0 || at + 32 > bin.length) return undefined;
  const flags = bin[at + 15]!;
  if ((flags & 0x2) === 0) return undefined;
  const v = uvarint(bin, at + 32);
  if (!v || v[1] + v[0] > bin.length) return undefined;
  const goVersion = bin.subarray(v[1], v[1] + v[0]).toString('utf8');
  const m = uvarint(bin, v[1] + v[0]);
  if (!m || m[1] + m[0] > bin.length) return undefined;
  let mod = bin.subarray(m[1], m[1] + m[0]).toString('latin1');
  if (mod.length >= 33 && mod[mod.length - 17] === '\n') mod = mod.slice(16, -16);
  const info: GoBuildInfo = { goVersion, main: null, deps: [] };
  for (const line of Buffer.from(mod, 'latin1').toString('utf8').split('\n')) {
    const f = line.split('\t');
    if (f[0] === 'mod' && f[1] && f[2]) info.main = { path: f[1], version: f[2] };
    else if (f[0] === 'dep' && f[1] && f[2]) info.deps.push({ path: f[1], version: f[2] });
    else if (f[0] === '=>' && f[1] && f[2] && info.deps.length) info.deps[info.deps.length - 1] = { path: f[1], version: f[2] }; // a replace
  }
  return info;
}
