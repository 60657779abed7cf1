/**
 * Reads one image layer as a stream (gzip, zstd or plain tar), never extracting to disk, and keeps only what the
 * detectors need: the text of package databases and metadata files, the Maven coordinates inside jars, symlinks,
 * and the layer's whiteouts. `mergeLayers` applies the layers in manifest order, whiteouts included.
 */
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import tar from 'tar-stream';
import { readGoBuildInfo, type GoBuildInfo } from './gobuildinfo.js';
import { zipEntries } from './zip.js';

export interface MavenCoord {
  groupId: string;
  artifactId: string;
  version: string;
}

/** What one layer contributes; small and plain, so it can be cached per layer digest. */
export interface LayerIndex {
  /** path (no leading slash) → text of an interesting file */
  files: Record<string, string>;
  /** path → symlink target, for the files detectors follow (os-release) */
  links: Record<string, string>;
  /** path of a jar/war/ear → the Maven coordinates of its pom.properties */
  jars: Record<string, MavenCoord[]>;
  /** path of an rpm sqlite database → its package header blobs */
  rpmdbs: Record<string, Uint8Array[]>;
  /** path of an executable → the Go build info in it */
  gobins: Record<string, GoBuildInfo>;
  /** paths a `.wh.<name>` file deletes from the layers below */
  whiteouts: string[];
  /** directories a `.wh..wh..opq` file empties of the layers below */
  opaque: string[];
}

const MAX_TEXT = 32 * 1024 * 1024;
const MAX_JAR = 256 * 1024 * 1024;
const MAX_BINARY = 256 * 1024 * 1024;

/** The files detectors read, by path. */
export function isInteresting(path: string): boolean {
  return (
    path === 'etc/os-release' ||
    path === 'usr/lib/os-release' ||
    path === 'etc/alpine-release' ||
    path === 'var/lib/dpkg/status' ||
    path.startsWith('var/lib/dpkg/status.d/') ||
    path === 'lib/apk/db/installed' ||
    /(^|\/)node_modules\/(@[^/]+\/)?[^/]+\/package\.json$/.test(path) ||
    /\.dist-info\/METADATA$/.test(path) ||
    /\.egg-info\/PKG-INFO$/.test(path)
  );
}
const isJar = (path: string) => /\.(jar|war|ear)$/i.test(path);

const normalise = (name: string) => name.replace(/^\.?\/+/, '').replace(/\/+$/, '');

function decompressor(first: Uint8Array): Transform | undefined {
  if (first[0] === 0x1f && first[1] === 0x8b) return createGunzip();
  if (first[0] === 0x28 && first[1] === 0xb5 && first[2] === 0x2f && first[3] === 0xfd) {
    let push: (c: Uint8Array) => void = () => undefined;
    const z = new Decompress((chunk) => push(chunk));
    return new Transform({
      transform(chunk: Buffer, _enc, cb) {
        push = (c) => this.push(Buffer.from(c));
        try {
          z.push(chunk);
          cb();
        } catch (err) {
          cb(err as Error);
        }
      },
      flush(cb) {
        try {
          z.push(new Uint8Array(0), true);
          cb();
        } catch (err) {
          cb(err as Error);
        }
      },
    });
  }
  return undefined;
}

/** Prepends the chunk already read (to sniff the compression) to the rest of the source. */
async function* rejoin(first: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield first;
  for (;;) {
    const r = await rest.next();
    if (r.done) return;
    yield r.value;
  }
}

async function readAll(s: AsyncIterable<Buffer>, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of s) {
    n += c.length;
    if (n <= max) chunks.push(c);
  }
  return n <= max ? Buffer.concat(chunks) : undefined;
}

/** The whole file when it starts as an ELF binary; otherwise its bytes are drained and undefined is returned. */
async function readElf(s: AsyncIterable<Buffer>, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let n = 0;
  let elf: boolean | undefined;
  for await (const c of s) {
    if (elf === undefined) elf = c.length >= 4 && c[0] === 0x7f && c[1] === 0x45 && c[2] === 0x4c && c[3] === 0x46;
    if (!elf) continue;
    n += c.length;
    if (n <= max) chunks.push(c);
  }
  return elf && n <= max ? Buffer.concat(chunks) : undefined;
}

function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([^#!=:\s][^=:]*?)\s*[=:]\s*(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

/** The Maven coordinates of a jar's `META-INF/maven/<group>/<artifact>/pom.properties` files. */
export async function jarCoordinates(jar: Uint8Array): Promise<MavenCoord[]> {
  const entries = await zipEntries(jar, (n) => /^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/.test(n), 1024 * 1024);
  const out: MavenCoord[] = [];
  for (const e of entries) {
    const p = parseProperties(e.data.toString('utf8'));
    if (p.groupId && p.artifactId && p.version) out.push({ groupId: p.groupId, artifactId: p.artifactId, version: p.version });
  }
  return out;
}

/** Indexes one layer's bytes. Rejects when the stream is not a (compressed) tar. */
/** Reads the package header blobs of an rpm sqlite database file (a port: SQLite is read outside the domain). */
export type RpmDbReader = (db: Uint8Array) => Promise<Uint8Array[]>;

const isRpmDb = (path: string) => /(^|\/)(var\/lib|usr\/lib\/sysimage)\/rpm\/rpmdb\.sqlite$/.test(path);

export async function indexLayer(source: AsyncIterable<Uint8Array>, rpmdb?: RpmDbReader): Promise<LayerIndex> {
  const out: LayerIndex = { files: {}, links: {}, jars: {}, rpmdbs: {}, gobins: {}, whiteouts: [], opaque: [] };
  const it = source[Symbol.asyncIterator]();
  const head = await it.next();
  if (head.done) return out;
  const input = Readable.from(rejoin(head.value, it), { objectMode: false });
  const dec = decompressor(head.value);
  const extract = tar.extract();
  const feeding = dec ? pipeline(input, dec, extract) : pipeline(input, extract);
  const reading = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      const body = entry as unknown as AsyncIterable<Buffer>;
      const path = normalise(h.name);
      const slash = path.lastIndexOf('/');
      const base = path.slice(slash + 1);
      const dir = slash >= 0 ? path.slice(0, slash + 1) : '';
      if (base === '.wh..wh..opq') out.opaque.push(dir);
      else if (base.startsWith('.wh.')) out.whiteouts.push(dir + base.slice(4));
      else if (h.type === 'symlink' && isInteresting(path)) out.links[path] = h.linkname ?? '';
      else if ((h.type === 'file' || h.type === 'contiguous-file') && isInteresting(path)) {
        const b = await readAll(body, MAX_TEXT);
        if (b) out.files[path] = b.toString('utf8');
        continue;
      } else if ((h.type === 'file' || h.type === 'contiguous-file') && isRpmDb(path) && rpmdb) {
        const b = await readAll(body, MAX_TEXT * 8);
        if (b) out.rpmdbs[path] = await rpmdb(b);
        continue;
      } else if ((h.type === 'file' || h.type === 'contiguous-file') && isJar(path)) {
        const b = await readAll(body, MAX_JAR);
        const coords = b ? await jarCoordinates(b).catch(() => []) : [];
        if (coords.length) out.jars[path] = coords;
        continue;
      } else if ((h.type === 'file' || h.type === 'contiguous-file') && ((h.mode ?? 0) & 0o111) !== 0 && (h.size ?? 0) > 1024 && (h.size ?? 0) <= MAX_BINARY) {
        // an executable: a Go binary says what it was built from (only ELF files are read to their end)
        const b = await readElf(body, MAX_BINARY);
        const info = b && readGoBuildInfo(b);
        if (info) out.gobins[path] = info;
        continue;
      }
      entry.resume();
    }
  })();
  await Promise.all([feeding, reading]);
  return out;
}

/** The union of the layers, bottom first, each layer's whiteouts hiding what the layers below it had. */
export interface MergedFs {
  files: Map<string, string>;
  links: Map<string, string>;
  jars: Map<string, MavenCoord[]>;
  gobins: Map<string, GoBuildInfo>;
  rpmdbs: Map<string, Uint8Array[]>;
}

export function mergeLayers(layers: LayerIndex[]): MergedFs {
  const fs: MergedFs = { files: new Map(), links: new Map(), jars: new Map(), gobins: new Map(), rpmdbs: new Map() };
  const maps = [fs.files, fs.links, fs.jars, fs.gobins, fs.rpmdbs] as Map<string, unknown>[];
  for (const layer of layers) {
    for (const dir of layer.opaque) for (const m of maps) for (const k of [...m.keys()]) if (k.startsWith(dir)) m.delete(k);
    for (const gone of layer.whiteouts) for (const m of maps) for (const k of [...m.keys()]) if (k === gone || k.startsWith(`${gone}/`)) m.delete(k);
    for (const [k, v] of Object.entries(layer.files)) {
      fs.links.delete(k);
      fs.files.set(k, v);
    }
    for (const [k, v] of Object.entries(layer.links)) {
      fs.files.delete(k);
      fs.links.set(k, v);
    }
    for (const [k, v] of Object.entries(layer.jars)) fs.jars.set(k, v);
    for (const [k, v] of Object.entries(layer.gobins ?? {})) fs.gobins.set(k, v);
    for (const [k, v] of Object.entries(layer.rpmdbs ?? {})) fs.rpmdbs.set(k, v);
  }
  return fs;
}
