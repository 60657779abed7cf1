/** Reads the entries of a zip held in memory (a jar inside a layer, an OSV `all.zip`), never touching the disk. */
import yauzl from 'yauzl';

/** The entries whose names `want` accepts, as bytes; rejects on a malformed zip. `maxEntryBytes` bounds each entry. */
export function zipEntries(buf: Uint8Array, want: (name: string) => boolean, maxEntryBytes = 64 * 1024 * 1024): Promise<{ name: string; data: Buffer }[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), { lazyEntries: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('not a zip'));
      const out: { name: string; data: Buffer }[] = [];
      zip.on('error', reject);
      zip.on('end', () => resolve(out));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/') || !want(entry.fileName) || entry.uncompressedSize > maxEntryBytes) return zip.readEntry();
        zip.openReadStream(entry, (e, s) => {
          if (e || !s) return reject(e ?? new Error(`cannot read ${entry.fileName}`));
          const chunks: Buffer[] = [];
          s.on('data', (c: Buffer) => chunks.push(c));
          s.on('error', reject);
          s.on('end', () => {
            out.push({ name: entry.fileName, data: Buffer.concat(chunks) });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}
