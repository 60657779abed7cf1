/** The column types that differ between SQLite and PostgreSQL, for migrations written once for both. */
export interface ColumnTypes {
  dialect: 'sqlite' | 'postgres';
  /** a 64-bit integer (times in ms, sizes) */
  bigint: 'bigint' | 'integer';
  bytes: 'bytea' | 'blob';
  /** an auto-incrementing 64-bit key */
  serial: 'bigserial' | 'integer';
}
