/**
 * Vulnerability data files as an admin brings them: an OSV record (`*.json`), a JSON array of them, an OSV
 * `all.zip` (one record per entry), or the Debian security tracker's JSON. Told apart by content, not by name.
 */
import { NcrError } from '../../oci/errors.js';
import { parseDebianTracker, parseOsv, type Advisory, type AdvisorySource } from './advisories.js';
import { zipEntries } from './zip.js';

export interface ParsedVulnFile {
  source: AdvisorySource;
  advisories: Advisory[];
  /** records that were not advisories ncr can match (no affected package, withdrawn, GIT ranges only) */
  skipped: number;
}

function osvList(records: unknown[]): ParsedVulnFile {
  const advisories: Advisory[] = [];
  let skipped = 0;
  for (const r of records) {
    const a = parseOsv(r as Record<string, unknown>);
    if (a) advisories.push(a);
    else skipped++;
  }
  return { source: 'osv', advisories, skipped };
}

function parseJson(name: string, bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    throw new NcrError('VALIDATION_FAILED', `${name} is neither a zip nor JSON: ${(err as Error).message}`);
  }
}

export async function parseVulnFile(name: string, bytes: Uint8Array): Promise<ParsedVulnFile> {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
    const entries = await zipEntries(bytes, (n) => n.endsWith('.json')).catch((err: Error) => {
      throw new NcrError('VALIDATION_FAILED', `${name} is not a readable zip: ${err.message}`);
    });
    return osvList(entries.map((e) => parseJson(`${name}:${e.name}`, e.data)));
  }
  const j = parseJson(name, bytes);
  if (Array.isArray(j)) return osvList(j);
  if (j && typeof j === 'object' && typeof (j as { id?: unknown }).id === 'string') return osvList([j]);
  if (j && typeof j === 'object') {
    const advisories = parseDebianTracker(j as Record<string, unknown>);
    if (advisories.length || Object.keys(j).length === 0) return { source: 'debian', advisories, skipped: 0 };
  }
  throw new NcrError('VALIDATION_FAILED', `${name} is not OSV data (a record, an array of records or a zip of them) nor the Debian security tracker's JSON`);
}
