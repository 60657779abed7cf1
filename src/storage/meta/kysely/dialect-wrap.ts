/** A Kysely dialect whose driver is `patch`ed as it is made (nul-guard.ts, wal-sync.ts); all else is the dialect's own. */
import type { Dialect, Driver } from 'kysely';

export function withDriver(dialect: Dialect, patch: (driver: Driver) => void): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver() {
      const driver = dialect.createDriver();
      patch(driver);
      return driver;
    },
  };
}
