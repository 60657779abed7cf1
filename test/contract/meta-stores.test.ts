/**
 * Runs the metadata store contract suites (meta-stores.contract.ts) against the Kysely stores, on each of DB_KINDS:
 * SQLite in a temp data dir, PostgreSQL in a fresh database per suite (dropped afterwards).
 */
import { NO_GUARD } from '../../src/domain/registry/ports.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe } from 'vitest';
import { auditEntryOf } from '../../src/domain/audit/audit.js';
import type { DomainEvent } from '../../src/domain/events.js';
import { KyselyArtifactStore, KyselyBlobMetaStore, KyselyTagStore } from '../../src/storage/meta/kysely/artifact.repo.js';
import { KyselyAuditStore } from '../../src/storage/meta/kysely/audit.repo.js';
import { KyselyAccessKeyStore, KyselyLoginFailureStore, KyselySigningKeyStore, KyselyUserStore } from '../../src/storage/meta/kysely/auth.repo.js';
import { openMetaDb } from '../../src/storage/meta/kysely/connect.js';
import { KyselyExecutionStore } from '../../src/storage/meta/kysely/executions.repo.js';
import { KyselyOutboxStore } from '../../src/storage/meta/kysely/outbox.repo.js';
import { KyselyRegistryStore, KyselyRepositoryStore } from '../../src/storage/meta/kysely/registry.repo.js';
import { KyselySessionStore } from '../../src/storage/meta/kysely/session.repo.js';
import { KyselyUnitOfWork } from '../../src/storage/meta/kysely/uow.js';
import type { Db } from '../../src/storage/meta/kysely/util.js';
import { createPgDatabase, DB_KINDS, type DbKind, PG_ADMIN_URL } from '../helpers/server.js';
import {
  accessKeyStoreContract,
  artifactStoreContract,
  auditStoreContract,
  blobMetaContract,
  executionStoreContract,
  loginFailureStoreContract,
  type MetaFactory,
  type MetaStores,
  registryStoreContract,
  repositoryStoreContract,
  sessionStoreContract,
  signingKeyStoreContract,
  tagStoreContract,
  type TxStores,
  unitOfWorkContract,
  userStoreContract,
} from './meta-stores.contract.js';

/**
 * The pool's end() resolves before its backends have gone; a forced DROP DATABASE would kill them mid-goodbye and their
 * clients would report the error as uncaught. Wait until the database has no sessions left.
 */
async function untilNoSessions(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    for (let i = 0; i < 250; i++) {
      const r = await admin.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
      if (r.rows[0]!.n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await admin.end();
  }
}

function kyselyStores(kind: DbKind): MetaFactory {
  return async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ncr-meta-contract-'));
    const pgDb = kind === 'postgres' ? await createPgDatabase() : undefined;
    const meta = await openMetaDb({ databaseUrl: pgDb?.url, dataDir }).catch(async (err: unknown) => {
      await pgDb?.drop();
      throw err;
    });
    const { db, dialect } = meta;
    const core = (d: Db) => ({
      registries: new KyselyRegistryStore(d),
      repositories: new KyselyRepositoryStore(d),
      blobs: new KyselyBlobMetaStore(d),
      artifacts: new KyselyArtifactStore(d),
      tags: new KyselyTagStore(d),
      guard: NO_GUARD,
    });
    const committed: DomainEvent[] = [];
    const stores: MetaStores = {
      ...core(db),
      users: new KyselyUserStore(db),
      accessKeys: new KyselyAccessKeyStore(db),
      loginFailures: new KyselyLoginFailureStore(db),
      signingKeys: new KyselySigningKeyStore(db),
      sessions: new KyselySessionStore(db),
      audit: new KyselyAuditStore(db),
      executions: new KyselyExecutionStore(db, dialect),
      uow: new KyselyUnitOfWork<TxStores>(db, dialect, (d) => ({ ...core(d), users: new KyselyUserStore(d), executions: new KyselyExecutionStore(d, dialect) }), {
        auditOf: auditEntryOf,
        committed: (events) => void committed.push(...events),
      }),
      events: new KyselyOutboxStore(db, dialect),
      committed,
    };
    return {
      stores,
      async close() {
        await meta.close();
        if (pgDb) {
          await untilNoSessions(pgDb.url);
          await pgDb.drop();
        }
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  };
}

for (const kind of DB_KINDS) {
  describe(`metadata stores on ${kind}`, () => {
    const factory = kyselyStores(kind);
    registryStoreContract(factory);
    repositoryStoreContract(factory);
    blobMetaContract(factory);
    artifactStoreContract(factory);
    tagStoreContract(factory);
    userStoreContract(factory);
    accessKeyStoreContract(factory);
    loginFailureStoreContract(factory);
    signingKeyStoreContract(factory);
    sessionStoreContract(factory);
    auditStoreContract(factory);
    executionStoreContract(factory);
    unitOfWorkContract(factory, { concurrentTransactions: kind === 'postgres' });
  });
}
