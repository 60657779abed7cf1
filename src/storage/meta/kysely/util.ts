import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import { NcrError } from '../../../oci/errors.js';
import type { Database } from './schema.js';

/** cosign-style accessory tags: `sha256-<hex>.sig` / `.att` / `.sbom` (oci/accessories.ts) */
export const accessoryTag = (eb: ExpressionBuilder<Database, 'tags'>) => eb.or([eb('tags.name', 'like', 'sha256-%.sig'), eb('tags.name', 'like', 'sha256-%.att'), eb('tags.name', 'like', 'sha256-%.sbom')]);

/** `%q%` with LIKE wildcards in q escaped (used with ESCAPE '\'). */
export function likePattern(q: string): string {
  return '%' + q.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
}

/** `column` contains `q`, ignoring case, the same on both databases (PostgreSQL's LIKE alone would not ignore it). */
export function containsLike(column: string, q: string) {
  return sql<boolean>`lower(${sql.ref(column)}) like lower(${likePattern(q)}) escape '\\'`;
}

/** True when err is a unique-constraint violation in either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** True when err is a foreign-key violation (a row still referred to) in either dialect. */
export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string };
  return e?.code === '23503' || e?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

export function conflict(what: string, cause: unknown): NcrError {
  return new NcrError('CONFLICT', what, { cause });
}

export async function countOf(q: { executeTakeFirstOrThrow(): Promise<{ n: number | string | bigint }> }): Promise<number> {
  return Number((await q.executeTakeFirstOrThrow()).n);
}

export type Db = Kysely<Database>;

/** Runs `fn` in the transaction `db` already is, or in a new one. */
export function withTx<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

/** JSON column helpers (text in both dialects). */
export const toJson = (v: unknown): string => JSON.stringify(v ?? null);
export const fromJson = <T = unknown>(s: string | null | undefined): T => (s == null ? (null as T) : (JSON.parse(s) as T));
