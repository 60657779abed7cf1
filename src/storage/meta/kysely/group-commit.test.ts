import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KyselyBlobMetaStore } from './artifact.repo.js';
import { openMetaDb, type MetaDb } from './connect.js';
import { GroupCommit } from './group-commit.js';
import { KyselyRegistryStore, KyselyRepositoryStore } from './registry.repo.js';

// A real SQLite file: the batching is about real commits.
let dir: string;
let meta: MetaDb;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ncr-group-commit-'));
  meta = await openMetaDb({ dataDir: dir });
});

afterEach(async () => {
  await meta.close();
  rmSync(dir, { recursive: true, force: true });
});

const digest = (i: number) => `sha256:${i.toString(16).padStart(64, '0')}`;

describe('GroupCommit', () => {
  it('runs writes submitted in the same turn in one transaction, and each caller settles after it commits', async () => {
    const batches: number[][] = [];
    const gc = new GroupCommit<number>(meta.db, async (_tx, items) => {
      batches.push(items);
    });
    await Promise.all([1, 2, 3, 4, 5].map((i) => gc.submit(i)));
    await gc.submit(6);
    expect(batches).toEqual([[1, 2, 3, 4, 5], [6]]);
  });

  it('fails only the item that cannot be written when a batch fails', async () => {
    const gc = new GroupCommit<number>(meta.db, async (_tx, items) => {
      if (items.includes(3)) throw new Error('item 3 is bad');
    });
    const results = await Promise.allSettled([1, 2, 3, 4].map((i) => gc.submit(i)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason.message).toBe('item 3 is bad');
  });
});

describe('KyselyBlobMetaStore.link (group-committed)', () => {
  it('links a burst of blobs, rolls back none of them for one bad link, and is idempotent', async () => {
    await new KyselyRegistryStore(meta.db).create({ id: 'r0000000-0000-0000-0000-000000000000', name: 'team', createdAt: 1, createdBy: 'admin', kind: 'standard' });
    const repo = await new KyselyRepositoryStore(meta.db).ensure('r0000000-0000-0000-0000-000000000000', 'team/app', 1);
    const blobs = new KyselyBlobMetaStore(meta.db);
    const links = [0, 1, 2, 3].map((i) => blobs.link(repo.id, digest(i), 100 + i, 2));
    // a repository that does not exist: the foreign key refuses this link, and only this one
    links.push(blobs.link('00000000-0000-0000-0000-00000000dead', digest(9), 9, 2));
    // the same blob twice in one batch
    links.push(blobs.link(repo.id, digest(0), 100, 2));
    const results = await Promise.allSettled(links);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    for (const i of [0, 1, 2, 3]) expect(await blobs.linkedSize(repo.id, digest(i))).toBe(100 + i);
    expect(await blobs.linkedSizeByName('team/app', digest(9))).toBeUndefined();
  });
});
