/** Migration 0005_names_in_code_point_order (applied in name order; never edit one that has been applied). */
import { type Kysely, type Migration, sql } from 'kysely';
import type { ColumnTypes } from './types.js';

export function m0005NamesInCodePointOrder({ dialect }: ColumnTypes): Migration {
  return {
    async up(db: Kysely<any>) {
      // Names sort and compare by code point on both databases (the spec's lexical order for tags/list and the
      // catalog, and what `last` pages by): SQLite does by default; PostgreSQL would follow the database's locale.
      if (dialect !== 'postgres') return;
      for (const [table, column] of [['registries', 'name'], ['repositories', 'name'], ['tags', 'name']]) {
        await sql`alter table ${sql.table(table)} alter column ${sql.ref(column)} type text collate "C"`.execute(db);
      }
    },
  };
}
