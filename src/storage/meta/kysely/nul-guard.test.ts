import SQLite from 'better-sqlite3';
import { Kysely, sql, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { withNulGuard } from './nul-guard.js';

describe('withNulGuard', () => {
  const db = new Kysely<Record<string, never>>({ dialect: withNulGuard(new SqliteDialect({ database: new SQLite(':memory:') })) });
  afterAll(() => db.destroy());

  it('refuses text parameters holding NUL with VALIDATION_FAILED, before the query runs', async () => {
    await expect(sql`select ${'a\0b'} as v`.execute(db)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
    await expect(db.transaction().execute((tx) => sql`select ${'\0'} as v`.execute(tx))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('passes everything else through, bytes with zeros included', async () => {
    const r = await sql<{ s: string; b: Uint8Array }>`select ${'plain'} as s, ${new Uint8Array([0, 1, 0])} as b`.execute(db);
    expect(r.rows[0].s).toBe('plain');
    expect([...r.rows[0].b]).toEqual([0, 1, 0]);
  });
});
