/**
 * PostgreSQL text cannot hold NUL (U+0000): a query with such a parameter fails whole ("invalid byte sequence for
 * encoding UTF8: 0x00"), which surfaced as a 500 for a username, search, `last` or tag with %00 in it (found by
 * fuzzing). No name, tag or key ncr stores can contain one, so such text is refused before the query runs, as the
 * caller's mistake (400 VALIDATION_FAILED), on both databases alike.
 *
 * The check reads the compiled query's flat parameter list (a Kysely plugin would walk the whole query tree, which
 * costs more than compiling it on the pull path), so it wraps each connection the driver hands out, once.
 */
import type { CompiledQuery, DatabaseConnection, Dialect } from 'kysely';
import { NcrError } from '../../../oci/errors.js';
import { withDriver } from './dialect-wrap.js';

const GUARDED = Symbol('ncr.nulGuard');

function check(q: CompiledQuery): void {
  for (const p of q.parameters) {
    if (typeof p === 'string' && p.includes('\0')) {
      throw new NcrError('VALIDATION_FAILED', `${JSON.stringify(p.slice(0, 100))} contains a NUL character (\\0), which no name, tag, key or search may hold: remove it`);
    }
  }
}

function guard(c: DatabaseConnection): DatabaseConnection {
  const marked = c as DatabaseConnection & { [GUARDED]?: true };
  if (marked[GUARDED]) return c;
  const executeQuery = c.executeQuery.bind(c);
  const streamQuery = c.streamQuery.bind(c);
  c.executeQuery = (q) => {
    check(q);
    return executeQuery(q);
  };
  c.streamQuery = (q, chunkSize) => {
    check(q);
    return streamQuery(q, chunkSize);
  };
  marked[GUARDED] = true;
  return c;
}

/** The dialect, with every query's parameters checked for NUL before it reaches the database. */
export function withNulGuard(dialect: Dialect): Dialect {
  return withDriver(dialect, (driver) => {
    const acquire = driver.acquireConnection.bind(driver);
    driver.acquireConnection = async () => guard(await acquire());
  });
}
