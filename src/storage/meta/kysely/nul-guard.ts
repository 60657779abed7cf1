/**
 * PostgreSQL text cannot hold NUL (U+0000): a query with such a parameter fails whole ("invalid byte sequence for
 * encoding UTF8: 0x00"), which surfaced as a 500 for a username, search, `last` or tag with %00 in it (found by
 * fuzzing). No name, tag or key ncr stores can contain one, so such text is refused before the query runs, as the
 * caller's mistake (400 VALIDATION_FAILED), on both databases alike.
 */
import type { KyselyPlugin, OperationNode } from 'kysely';
import { NcrError } from '../../../oci/errors.js';

/** Walks the query tree (plain objects and arrays; byte arrays such as manifest content are skipped). */
function assertNoNul(root: OperationNode): void {
  const stack: unknown[] = [root];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\0')) throw new NcrError('VALIDATION_FAILED', `${JSON.stringify(v.slice(0, 100))} contains a NUL character (\\0), which no name, tag, key or search may hold: remove it`);
    } else if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
    } else if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v) && !(v instanceof Date)) {
      for (const x of Object.values(v)) stack.push(x);
    }
  }
}

export const nulGuard: KyselyPlugin = {
  transformQuery(args) {
    assertNoNul(args.node);
    return args.node;
  },
  async transformResult(args) {
    return args.result;
  },
};
