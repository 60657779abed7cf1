/**
 * The interleavings the race test can only hit by chance, made to happen, on both databases: garbage collection
 * marks something, the registry changes it, and the deletion (which re-checks under its lock) must then leave it be.
 * A second connection to the server's database plays GC's part step by step, while clients push over HTTP.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { FsBlobStore } from '../../src/storage/blob/fs/fs-blob-store.js';
import { KyselyBlobMetaStore } from '../../src/storage/meta/kysely/artifact.repo.js';
import { openMetaDb, type MetaDb } from '../../src/storage/meta/kysely/connect.js';
import { KyselyGcStore } from '../../src/storage/meta/kysely/gc.repo.js';
import { OciClient, sha256 } from '../helpers/oci-client.js';
import { DB_KINDS, startServer, type TestServer } from '../helpers/server.js';
import { imageManifest, pullProblems } from './gc-helpers.js';

const WINDOW = 7200_000;

describe.each(DB_KINDS)('GC deletions re-check what they marked (%s)', (db) => {
  const clock = new ManualClock();
  let s: TestServer;
  let meta: MetaDb;
  let gc: KyselyGcStore;
  let c: OciClient;

  beforeAll(async () => {
    s = await startServer({ db, adapters: { clock } });
    meta = await openMetaDb({ databaseUrl: s.app.config.database.url, dataDir: s.dataDir });
    gc = new KyselyGcStore(meta.db, meta.dialect);
    expect((await s.api('POST', '/api/v1/registries', { name: 'il' })).status).toBe(201);
  });
  afterAll(async () => {
    await meta?.close();
    await s?.close();
  });

  function age() {
    clock.advance(3 * WINDOW);
    c = new OciClient(s.url, s.admin);
    return clock.now() - WINDOW;
  }

  it('keeps a link marked as garbage that a manifest pushed meanwhile references', async () => {
    c = new OciClient(s.url, s.admin);
    const config = 'config of a slow push';
    const layer = 'layer of a slow push';
    for (const b of [config, layer]) await c.pushBlob('il/slow', b);
    const cutoff = age();
    const marked = (await gc.unreferencedLinks({ before: cutoff, limit: 1000 })).filter((l) => l.repository === 'il/slow');
    expect(marked.map((l) => l.digest).sort()).toEqual([sha256(config), sha256(layer)].sort());
    // the client's manifest arrives between the mark and the sweep
    const body = imageManifest(config, [layer]);
    expect((await c.pushManifest('il/slow', 'v1', body)).status).toBe(201);
    expect(await gc.deleteLinks(marked[0]!.repositoryId, marked.map((l) => l.digest), cutoff)).toBe(0);
    expect(await pullProblems(c, 'il/slow', 'v1')).toEqual([]);
  });

  it('keeps a link marked as garbage that was re-uploaded meanwhile (its time is renewed)', async () => {
    c = new OciClient(s.url, s.admin);
    const blob = 'a blob uploaded twice';
    await c.pushBlob('il/again', blob);
    const cutoff = age();
    const marked = (await gc.unreferencedLinks({ before: cutoff, limit: 1000 })).filter((l) => l.repository === 'il/again');
    expect(marked.map((l) => l.digest)).toEqual([sha256(blob)]);
    await c.pushBlob('il/again', blob);
    expect(await gc.deleteLinks(marked[0]!.repositoryId, [sha256(blob)], cutoff)).toBe(0);
  });

  it('keeps a blob row marked as garbage that got a new link meanwhile', async () => {
    c = new OciClient(s.url, s.admin);
    const blob = 'a blob unlinked and pushed again';
    const digest = await c.pushBlob('il/x', blob);
    expect((await c.req('DELETE', `/v2/il/x/blobs/${digest}`)).status).toBe(202);
    const cutoff = age();
    expect((await gc.unreferencedBlobs({ before: cutoff, limit: 10_000 })).map((b) => b.digest)).toContain(digest);
    await c.pushBlob('il/y', blob);
    expect(await gc.stillUnreferenced([digest], cutoff)).toEqual([]);
  });

  it('refuses to link a blob whose bytes garbage collection removed, and links nothing', async () => {
    const store = new FsBlobStore(join(s.dataDir, 'storage'));
    const looked: string[] = [];
    const exists = async (d: string) => (looked.push(d), (await store.stat(d)) !== undefined);
    const links = new KyselyBlobMetaStore(meta.db, { dialect: meta.dialect, exists, freshMs: 60_000 });
    c = new OciClient(s.url, s.admin);
    const present = await c.pushBlob('il/z', 'present bytes');
    const repo = (await meta.db.selectFrom('repositories').select('id').where('name', '=', 'il/z').executeTakeFirstOrThrow()).id;
    const gone = sha256('bytes that are gone');
    await expect(links.link(repo, gone, 19, clock.now())).rejects.toMatchObject({ code: 'BLOB_UPLOAD_INVALID' });
    // committed by the caller longer ago than freshMs: looked at too, and refused
    await expect(links.link(repo, gone, 19, clock.now(), clock.now() - 61_000)).rejects.toMatchObject({ code: 'BLOB_UPLOAD_INVALID' });
    expect(looked).toEqual([gone, gone]);
    expect(await links.missing(repo, [gone, present])).toEqual([gone]);
    // committed by the caller just now: GC cannot have taken bytes that young, so the store is not asked
    await links.link(repo, present, 13, clock.now(), clock.now() - 1_000);
    expect(looked).toEqual([gone, gone]);
  });
});
