/** Reads an rpm database (`rpmdb.sqlite`, rpm 4.16+) held in memory: the header blob of every installed package. */
import Database from 'better-sqlite3';
import type { RpmDbReader } from '../../domain/scanning/layers.js';

export const readRpmDbSqlite: RpmDbReader = async (bytes) => {
  // deserialised into a private in-memory database: nothing is written to disk
  const db = new Database(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  try {
    return db.prepare('SELECT blob FROM Packages').all().map((r) => (r as { blob: Buffer }).blob);
  } finally {
    db.close();
  }
};
