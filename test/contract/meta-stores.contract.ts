/**
 * Contract suites for the metadata store ports (domain/registry, domain/auth, domain/audit, domain/executions and the
 * unit of work). Each suite takes a factory that opens a fresh, migrated database and hands back the stores bound to
 * it; meta-stores.test.ts runs every suite on each database. The suites know only the ports, never SQL.
 *
 * The tests of one suite share its database: every test names its own rows (see `uniq`), so none depends on another.
 * Where a port states no order, the suite pins the order the API and the console show.
 */
import { createHash, randomBytes } from 'node:crypto';
import { setImmediate as turn } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditStore } from '../../src/domain/audit/audit.js';
import type { AccessKeyStore, LoginFailureStore, SigningKeyStore, StoredSigningKey, UserStore } from '../../src/domain/auth/ports.js';
import type { Role } from '../../src/domain/auth/roles.js';
import type { SessionStore, StoredSession } from '../../src/domain/auth/session.service.js';
import type { DomainEvent, StoredEvent } from '../../src/domain/events.js';
import type { Execution, ExecutionStore, ExecutionTask } from '../../src/domain/executions/ports.js';
import type { NewArtifact, RegistryCoreStores, Repository } from '../../src/domain/registry/ports.js';
import type { UnitOfWork } from '../../src/domain/uow.js';
import { NcrError } from '../../src/oci/errors.js';

/** The stores a unit-of-work transaction is given in these suites. */
export interface TxStores extends RegistryCoreStores {
  users: UserStore;
  executions: ExecutionStore;
}

export interface MetaStores extends RegistryCoreStores {
  users: UserStore;
  accessKeys: AccessKeyStore;
  loginFailures: LoginFailureStore;
  signingKeys: SigningKeyStore;
  sessions: SessionStore;
  audit: AuditStore;
  executions: ExecutionStore;
  uow: UnitOfWork<TxStores>;
  /** The outbox as the dispatcher reads it: events after a cursor, in seq order. */
  events: { after(cursor: number, limit: number): Promise<StoredEvent[]> };
  /** Every event the unit of work reported as committed (its `committed` hook), in order. */
  committed: DomainEvent[];
}

export type MetaFactory = () => Promise<{ stores: MetaStores; close(): Promise<void> }>;

export interface DriverTraits {
  /** Transactions on different connections really run at the same time (PostgreSQL); SQLite runs them one by one. */
  concurrentTransactions: boolean;
}

// --- helpers ------------------------------------------------------------------------------------------------------

let counter = 0;
const RUN = randomBytes(3).toString('hex');
/** A name no other test uses (lowercase, so it is a valid registry, repository or tag name). */
const uniq = (prefix: string) => `${prefix}${++counter}x${RUN}`;

/** Declares nothing: for tests that only apply to some databases (a skipped test would count as missing). */
const none = (..._args: Parameters<typeof it>): void => undefined;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function digestOf(data: string | Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** Resolves once `n` callers have arrived (later arrivals pass straight through). */
function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return () => {
    if (++arrived >= n) open();
    return opened;
  };
}

async function expectNcr(p: Promise<unknown>, code: string): Promise<NcrError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected NcrError ${code}`).toBeInstanceOf(NcrError);
  expect((err as NcrError).code).toBe(code);
  return err as NcrError;
}

/** Opens the suite's database before its tests and closes it after; the getter returns the stores. */
function useStores(factory: MetaFactory): () => MetaStores {
  let h: Awaited<ReturnType<MetaFactory>> | undefined;
  beforeAll(async () => {
    h = await factory();
  });
  afterAll(async () => {
    await h?.close();
  });
  return () => {
    if (!h) throw new Error('the store factory did not open');
    return h.stores;
  };
}

function manifest(repositoryId: string, seed: string, over: Partial<NewArtifact> = {}): NewArtifact {
  const content = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', seed }));
  return {
    repositoryId,
    digest: digestOf(content),
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: null,
    size: content.length,
    subjectDigest: null,
    configDigest: null,
    platforms: [],
    totalSize: content.length,
    pushedAt: 1_000,
    pushedBy: null,
    content,
    blobDigests: [],
    childDigests: [],
    ...over,
  };
}

/** A new registry with one repository `<registry>/<image>`. */
async function newRepo(s: MetaStores, image = 'app'): Promise<{ registryId: string; registry: string; repo: Repository }> {
  const registry = uniq('reg');
  const registryId = uniq('rid');
  await s.registries.create({ id: registryId, name: registry, createdAt: 1, createdBy: null, kind: 'standard' });
  const repo = await s.repositories.ensure(registryId, `${registry}/${image}`, 10);
  return { registryId, registry, repo };
}

function execution(over: Partial<Execution> = {}): Execution {
  return {
    id: uniq('exec'),
    kind: 'cleanup',
    trigger: 'manual',
    status: 'queued',
    subject: null,
    params: { dryRun: true, policies: ['keep-last-3'] },
    counts: {},
    message: null,
    createdBy: 'admin',
    createdAt: 1_000,
    startedAt: null,
    endedAt: null,
    stopRequested: false,
    jobId: null,
    ...over,
  };
}

function task(executionId: string, subject: string, over: Partial<ExecutionTask> = {}): ExecutionTask {
  return { id: uniq('task'), executionId, subject, status: 'pending', message: null, detail: null, log: [], startedAt: null, endedAt: null, ...over };
}

async function newUser(s: MetaStores, role: Role = 'member', passwordHash: string | null = '$argon2id$fake') {
  const u = { id: uniq('uid'), username: uniq('user'), role, createdAt: 5_000, hasPassword: passwordHash !== null, passwordHash };
  await s.users.create(u);
  return u;
}

const event = (registry: string, type: 'RegistryCreated' | 'RegistryDeleted' = 'RegistryCreated', username: string | null = 'admin'): DomainEvent => ({
  type,
  at: 7_000,
  actor: { userId: null, username, remoteAddr: '192.0.2.7' },
  registry,
});

/** The outbox's current end: the cursor a new reader would start from. */
async function outboxEnd(s: MetaStores): Promise<number> {
  let cursor = 0;
  for (;;) {
    const batch = await s.events.after(cursor, 1000);
    if (batch.length === 0) return cursor;
    cursor = batch[batch.length - 1]!.seq;
  }
}

async function eventsAfter(s: MetaStores, cursor: number): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (;;) {
    const batch = await s.events.after(cursor, 1000);
    if (batch.length === 0) return out;
    out.push(...batch);
    cursor = batch[batch.length - 1]!.seq;
  }
}

const registryOf = (e: StoredEvent): string => (e.event as { registry?: string }).registry ?? '';

// --- registry core ------------------------------------------------------------------------------------------------

export function registryStoreContract(factory: MetaFactory): void {
  describe('RegistryStore', () => {
    const stores = useStores(factory);

    it('creates a registry and finds it by name (kind and quota too); an unknown name is undefined', async () => {
      const s = stores();
      const r = { id: uniq('rid'), name: uniq('reg'), createdAt: 1_700_000_000_123, createdBy: 'alice', kind: 'standard' as const, quotaBytes: null };
      await s.registries.create(r);
      expect(await s.registries.getByName(r.name)).toEqual(r);
      const anon = { id: uniq('rid'), name: uniq('reg'), createdAt: 2, createdBy: null, kind: 'cache' as const, quotaBytes: 5 * 1024 ** 4 };
      await s.registries.create(anon);
      expect(await s.registries.getByName(anon.name)).toEqual(anon);
      await s.registries.setQuota(anon.id, null);
      expect((await s.registries.getByName(anon.name))?.quotaBytes).toBeNull();
      expect(await s.registries.getByName(uniq('missing'))).toBeUndefined();
    });

    it('refuses a taken name with CONFLICT and keeps the first', async () => {
      const s = stores();
      const name = uniq('reg');
      await s.registries.create({ id: uniq('rid'), name, createdAt: 1, createdBy: 'first', kind: 'standard' });
      await expectNcr(s.registries.create({ id: uniq('rid'), name, createdAt: 2, createdBy: 'second', kind: 'standard' }), 'CONFLICT');
      expect((await s.registries.getByName(name))?.createdBy).toBe('first');
    });

    it('lists by name with the page shape, searching by substring with wildcards taken literally', async () => {
      const s = stores();
      const tok = uniq('lst');
      const names = [`${tok}-c`, `${tok}-a`, `${tok}_d`, `${tok}-b`];
      for (const name of names) await s.registries.create({ id: uniq('rid'), name, createdAt: 1, createdBy: null, kind: 'standard' });

      const p1 = await s.registries.list({ search: tok, page: 1, perPage: 3 });
      expect(p1).toMatchObject({ page: 1, perPage: 3, total: 4 });
      expect(p1.items.map((r) => r.name)).toEqual([`${tok}-a`, `${tok}-b`, `${tok}-c`]);
      const p2 = await s.registries.list({ search: tok, page: 2, perPage: 3 });
      expect(p2).toMatchObject({ page: 2, perPage: 3, total: 4 });
      expect(p2.items.map((r) => r.name)).toEqual([`${tok}_d`]);
      const past = await s.registries.list({ search: tok, page: 3, perPage: 3 });
      expect(past).toMatchObject({ items: [], total: 4 });

      expect((await s.registries.list({ search: `${tok}_`, page: 1, perPage: 10 })).items.map((r) => r.name)).toEqual([`${tok}_d`]);
      expect((await s.registries.list({ search: `${tok}%`, page: 1, perPage: 10 })).total).toBe(0);

      const all = await s.registries.list({ page: 1, perPage: 100 });
      expect(all.total).toBeGreaterThanOrEqual(4);
      expect(all.items.map((r) => r.name)).toEqual(expect.arrayContaining(names));
    });

    it('stats: image count and the bytes of its distinct blobs plus its manifests; zeros for an empty or unknown id', async () => {
      const s = stores();
      const { registryId, registry, repo: x } = await newRepo(s, 'x');
      const y = await s.repositories.ensure(registryId, `${registry}/y`, 10);
      const shared = digestOf(uniq('blob'));
      const own = digestOf(uniq('blob'));
      await Promise.all([s.blobs.link(x.id, shared, 100, 1), s.blobs.link(y.id, shared, 100, 1), s.blobs.link(x.id, own, 7, 1)]);
      await s.artifacts.put(manifest(x.id, 'mx', { size: 50 }), 'latest', 2);
      await s.artifacts.put(manifest(y.id, 'my', { size: 30 }), undefined, 2);
      // another registry holding the shared blob: counted there too, not twice here
      const other = await newRepo(s);
      await s.blobs.link(other.repo.id, shared, 100, 1);
      const empty = uniq('rid');
      await s.registries.create({ id: empty, name: uniq('reg'), createdAt: 1, createdBy: null, kind: 'standard' });
      const unknown = uniq('nope');

      const stats = await s.registries.stats([registryId, other.registryId, empty, unknown]);
      expect(stats.get(registryId)).toEqual({ imageCount: 2, storageBytes: 100 + 7 + 50 + 30 });
      // an image is a repository holding an artifact: other's repository holds only a blob
      expect(stats.get(other.registryId)).toEqual({ imageCount: 0, storageBytes: 100 });
      expect(stats.get(empty)).toEqual({ imageCount: 0, storageBytes: 0 });
      expect(stats.get(unknown)).toEqual({ imageCount: 0, storageBytes: 0 });
      expect((await s.registries.stats([])).size).toBe(0);
    });

    it('delete removes the registry and everything in it: repositories, artifacts, tags, references and blob links', async () => {
      const s = stores();
      const { registryId, registry, repo } = await newRepo(s);
      const layer = digestOf(uniq('layer'));
      await s.blobs.link(repo.id, layer, 11, 1);
      const child = manifest(repo.id, 'child', { blobDigests: [layer] });
      await s.artifacts.put(child, 'child', 2);
      const index = manifest(repo.id, 'index', { mediaType: 'application/vnd.oci.image.index.v1+json', childDigests: [child.digest] });
      await s.artifacts.put(index, 'latest', 3);
      const keep = await newRepo(s);
      await s.artifacts.put(manifest(keep.repo.id, 'kept'), 'latest', 2);

      await s.registries.delete(registryId);

      expect(await s.registries.getByName(registry)).toBeUndefined();
      expect(await s.repositories.getByName(repo.name)).toBeUndefined();
      expect(await s.repositories.countInRegistry(registryId)).toBe(0);
      expect(await s.artifacts.get(repo.id, child.digest)).toBeUndefined();
      expect(await s.artifacts.get(repo.id, index.digest)).toBeUndefined();
      expect(await s.artifacts.content(repo.id, index.digest)).toBeUndefined();
      expect(await s.artifacts.parents(repo.id, child.digest)).toEqual([]);
      expect(await s.tags.get(repo.id, 'latest')).toBeUndefined();
      expect(await s.tags.names(repo.id, {})).toEqual([]);
      expect(await s.blobs.linkedSize(repo.id, layer)).toBeUndefined();
      expect(await s.blobs.linkedSizeByName(repo.name, layer)).toBeUndefined();
      expect(await s.artifacts.lookup(repo.name, { tag: 'latest' })).toBeUndefined();
      expect(await s.repositories.catalog({ n: 10, registryNames: [registry] })).toEqual([]);
      // the name is free again, and nothing else was touched
      const again = await s.repositories.ensure(keep.registryId, repo.name, 20);
      expect(again.registryId).toBe(keep.registryId);
      expect((await s.tags.get(keep.repo.id, 'latest'))?.digest).toBeDefined();
      // deleting an unknown id is a no-op
      await s.registries.delete(uniq('nope'));
    });
  });
}

export function repositoryStoreContract(factory: MetaFactory): void {
  describe('RepositoryStore', () => {
    const stores = useStores(factory);

    it('ensure creates a repository once and then returns it unchanged; unknown names are undefined', async () => {
      const s = stores();
      const { registryId, registry } = await newRepo(s);
      const name = `${registry}/team/app`;
      const first = await s.repositories.ensure(registryId, name, 100);
      expect(first).toEqual({ id: expect.any(String), registryId, name, createdAt: 100, updatedAt: 100 });
      const second = await s.repositories.ensure(registryId, name, 200);
      expect(second).toEqual(first);
      expect(await s.repositories.getByName(name)).toEqual(first);
      expect(await s.repositories.getByName(`${registry}/nope`)).toBeUndefined();
    });

    it('ensure is safe under concurrent calls: one repository, every caller gets it', async () => {
      const s = stores();
      const { registryId, registry } = await newRepo(s);
      const name = `${registry}/raced`;
      const got = await Promise.all(Array.from({ length: 8 }, (_, i) => s.repositories.ensure(registryId, name, 100 + i)));
      expect(new Set(got.map((r) => r.id)).size).toBe(1);
      expect(await s.repositories.getByName(name)).toEqual(got[0]);
    });

    it('lists a registry’s repositories by name with artifact and tag counts and the latest pull', async () => {
      const s = stores();
      const { registryId, registry, repo: a } = await newRepo(s, 'a');
      const b = await s.repositories.ensure(registryId, `${registry}/b`, 10);
      const c = await s.repositories.ensure(registryId, `${registry}/c_x`, 10);
      const m1 = manifest(a.id, 'a1');
      const m2 = manifest(a.id, 'a2');
      await s.artifacts.put(m1, 'v1', 1);
      await s.artifacts.put(m2, 'v2', 2);
      await s.tags.put(a.id, 'latest', m2.digest, 3);
      await s.artifacts.put(manifest(b.id, 'b1'), undefined, 1);
      await s.artifacts.put(manifest(c.id, 'c1'), undefined, 1);
      await s.repositories.ensure(registryId, `${registry}/empty`, 10); // no artifact: not an image, not listed
      await s.artifacts.recordPulls([
        { repositoryId: a.id, digest: m1.digest, at: 500 },
        { repositoryId: a.id, digest: m2.digest, at: 900 },
      ]);
      await newRepo(s, 'a'); // another registry: not listed

      const page = await s.repositories.list({ registryId, page: 1, perPage: 2 });
      expect(page).toMatchObject({ page: 1, perPage: 2, total: 3 });
      expect(page.items.map((r) => [r.name, r.artifactCount, r.tagCount, r.pulledAt])).toEqual([
        [a.name, 2, 3, 900],
        [b.name, 1, 0, null],
      ]);
      expect(page.items[0]).toMatchObject({ id: a.id, registryId, createdAt: 10 });
      const rest = await s.repositories.list({ registryId, page: 2, perPage: 2 });
      expect(rest.items.map((r) => [r.name, r.artifactCount, r.tagCount, r.pulledAt])).toEqual([[c.name, 1, 0, null]]);
      const found = await s.repositories.list({ registryId, search: 'c_', page: 1, perPage: 10 });
      expect(found.items.map((r) => r.name)).toEqual([c.name]);
      expect(found.total).toBe(1);
      expect((await s.repositories.list({ registryId, search: 'a%', page: 1, perPage: 10 })).total).toBe(0);
    });

    it('catalog: names after `last` in lexical (code point) order, at most n, filtered by registry names', async () => {
      const s = stores();
      const { registryId, registry, repo } = await newRepo(s, 'a');
      const names = [repo.name];
      await s.artifacts.put(manifest(repo.id, 'c0'), undefined, 1);
      for (const image of ['ab', 'a-b', 'a.b', 'a_b', 'a/b', 'a0', 'b']) {
        const r = await s.repositories.ensure(registryId, `${registry}/${image}`, 1);
        await s.artifacts.put(manifest(r.id, `c-${image}`), undefined, 1);
        names.push(r.name);
      }
      await s.repositories.ensure(registryId, `${registry}/empty`, 1); // holds no artifact: not in the catalog
      const sorted = [...names].sort();
      const other = await newRepo(s, 'z');
      await s.artifacts.put(manifest(other.repo.id, 'cz'), undefined, 1);

      expect(await s.repositories.catalog({ n: 100, registryNames: [registry] })).toEqual(sorted);
      expect(await s.repositories.catalog({ n: 3, registryNames: [registry] })).toEqual(sorted.slice(0, 3));
      expect(await s.repositories.catalog({ n: 3, last: sorted[2], registryNames: [registry] })).toEqual(sorted.slice(3, 6));
      // paging to the end with `last` visits each name once
      const paged: string[] = [];
      let last: string | undefined;
      for (;;) {
        const page = await s.repositories.catalog({ n: 3, last, registryNames: [registry, other.registry] });
        if (page.length === 0) break;
        paged.push(...page);
        last = page[page.length - 1];
      }
      expect(paged).toEqual([...sorted, other.repo.name].sort());
      expect(await s.repositories.catalog({ n: 10, registryNames: [] })).toEqual([]);
      expect(await s.repositories.catalog({ n: 10, registryNames: [uniq('nope')] })).toEqual([]);
      const unfiltered = await s.repositories.catalog({ n: 1000 });
      expect(unfiltered).toEqual([...unfiltered].sort());
      expect(unfiltered).toEqual(expect.arrayContaining([...names, other.repo.name]));
    });

    it('counts, touches and deletes; deleting a repository removes its artifacts, tags and blob links', async () => {
      const s = stores();
      const { registryId, registry, repo } = await newRepo(s);
      const second = await s.repositories.ensure(registryId, `${registry}/second`, 10);
      expect(await s.repositories.countInRegistry(registryId)).toBe(0); // images are repositories holding artifacts
      await s.artifacts.put(manifest(second.id, 'second'), undefined, 10);
      await s.artifacts.put(manifest(repo.id, 'first'), undefined, 1);
      expect(await s.repositories.countInRegistry(registryId)).toBe(2);
      expect(await s.repositories.countInRegistry(uniq('nope'))).toBe(0);

      await s.repositories.touch(repo.id, 4_242);
      expect((await s.repositories.getByName(repo.name))?.updatedAt).toBe(4_242);
      expect((await s.repositories.getByName(repo.name))?.createdAt).toBe(10);

      const m = manifest(repo.id, 'gone');
      const layer = digestOf(uniq('layer'));
      await s.blobs.link(repo.id, layer, 3, 1);
      await s.artifacts.put(m, 'latest', 1);
      await s.repositories.delete(repo.id);
      expect(await s.repositories.getByName(repo.name)).toBeUndefined();
      expect(await s.repositories.countInRegistry(registryId)).toBe(1);
      expect(await s.artifacts.get(repo.id, m.digest)).toBeUndefined();
      expect(await s.tags.get(repo.id, 'latest')).toBeUndefined();
      expect(await s.blobs.linkedSize(repo.id, layer)).toBeUndefined();
      expect(await s.repositories.getByName(second.name)).toEqual(second);
    });
  });
}

export function blobMetaContract(factory: MetaFactory): void {
  describe('BlobStoreMeta', () => {
    const stores = useStores(factory);

    it('an unknown blob has no size anywhere', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const d = digestOf(uniq('unknown'));
      expect(await s.blobs.size(d)).toBeUndefined();
      expect(await s.blobs.linkedSize(repo.id, d)).toBeUndefined();
      expect(await s.blobs.linkedSizeByName(repo.name, d)).toBeUndefined();
      expect(await s.blobs.linkedSizeByName(uniq('no/repo'), d)).toBeUndefined();
    });

    it('link records the blob and links it into that repository only; linking twice is a no-op', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const { repo: other } = await newRepo(s);
      const d = digestOf(uniq('blob'));
      await s.blobs.link(repo.id, d, 1234, 1);
      await s.blobs.link(repo.id, d, 1234, 2);
      expect(await s.blobs.size(d)).toBe(1234);
      expect(await s.blobs.linkedSize(repo.id, d)).toBe(1234);
      expect(await s.blobs.linkedSizeByName(repo.name, d)).toBe(1234);
      expect(await s.blobs.linkedSize(other.id, d)).toBeUndefined();
      expect(await s.blobs.linkedSizeByName(other.name, d)).toBeUndefined();
      await s.blobs.link(other.id, d, 1234, 3);
      expect(await s.blobs.linkedSize(other.id, d)).toBe(1234);
    });

    it('links submitted together (the same blob twice, several repositories) all land', async () => {
      const s = stores();
      const repos = await Promise.all([newRepo(s), newRepo(s), newRepo(s)]);
      const shared = digestOf(uniq('shared'));
      const owns = repos.map(() => digestOf(uniq('own')));
      await Promise.all([
        ...repos.flatMap(({ repo }, i) => [s.blobs.link(repo.id, shared, 99, 1), s.blobs.link(repo.id, shared, 99, 1), s.blobs.link(repo.id, owns[i]!, i + 1, 1)]),
      ]);
      for (const [i, { repo }] of repos.entries()) {
        expect(await s.blobs.linkedSize(repo.id, shared)).toBe(99);
        expect(await s.blobs.linkedSize(repo.id, owns[i]!)).toBe(i + 1);
      }
    });

    it('a link that cannot be written fails only its own caller', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const good = [digestOf(uniq('g')), digestOf(uniq('g'))];
      const bad = digestOf(uniq('bad'));
      const results = await Promise.allSettled([s.blobs.link(repo.id, good[0]!, 1, 1), s.blobs.link(uniq('no-such-repo'), bad, 2, 1), s.blobs.link(repo.id, good[1]!, 3, 1)]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(await s.blobs.linkedSize(repo.id, good[0]!)).toBe(1);
      expect(await s.blobs.linkedSize(repo.id, good[1]!)).toBe(3);
    });

    it('unlink removes the link and says whether there was one', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const { repo: other } = await newRepo(s);
      const d = digestOf(uniq('blob'));
      await Promise.all([s.blobs.link(repo.id, d, 5, 1), s.blobs.link(other.id, d, 5, 1)]);
      expect(await s.blobs.unlink(repo.id, d)).toBe(true);
      expect(await s.blobs.unlink(repo.id, d)).toBe(false);
      expect(await s.blobs.unlink(repo.id, digestOf(uniq('never')))).toBe(false);
      expect(await s.blobs.linkedSize(repo.id, d)).toBeUndefined();
      expect(await s.blobs.linkedSize(other.id, d)).toBe(5);
      expect(await s.blobs.size(d)).toBe(5);
    });

    it('missing: the given digests not linked into the repository, each once', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const { repo: other } = await newRepo(s);
      const [a, b, c] = [digestOf(uniq('a')), digestOf(uniq('b')), digestOf(uniq('c'))];
      await s.blobs.link(repo.id, a, 1, 1);
      await s.blobs.link(other.id, b, 1, 1);
      expect(await s.blobs.missing(repo.id, [a, b, c, b, a])).toEqual([b, c]);
      expect(await s.blobs.missing(repo.id, [a])).toEqual([]);
      expect(await s.blobs.missing(repo.id, [])).toEqual([]);
    });
  });
}

export function artifactStoreContract(factory: MetaFactory): void {
  describe('ArtifactStore', () => {
    const stores = useStores(factory);

    it('put stores the artifact and its exact bytes; unknown digests are undefined', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const content = new Uint8Array([0, 1, 2, 127, 128, 254, 255, 10, 13, 0]);
      const subject = digestOf(uniq('subject'));
      const a = manifest(repo.id, 'x', {
        content,
        digest: digestOf(content),
        size: content.length,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.example.sbom',
        subjectDigest: subject,
        configDigest: digestOf('config'),
        platforms: ['linux/amd64', 'linux/arm64/v8'],
        totalSize: 123_456_789_012,
        pushedAt: 1_700_000_000_000,
        pushedBy: 'alice',
      });
      await s.artifacts.put(a, undefined, 1_700_000_000_000);
      expect(await s.artifacts.get(repo.id, a.digest)).toEqual({
        repositoryId: repo.id,
        digest: a.digest,
        mediaType: a.mediaType,
        artifactType: 'application/vnd.example.sbom',
        size: content.length,
        subjectDigest: subject,
        configDigest: a.configDigest,
        platforms: ['linux/amd64', 'linux/arm64/v8'],
        totalSize: 123_456_789_012,
        pushedAt: 1_700_000_000_000,
        pushedBy: 'alice',
        pulledAt: null,
      });
      const stored = await s.artifacts.content(repo.id, a.digest);
      expect(stored?.mediaType).toBe(a.mediaType);
      expect(Buffer.from(stored!.content).equals(Buffer.from(content))).toBe(true);
      expect(await s.artifacts.get(repo.id, digestOf(uniq('nope')))).toBeUndefined();
      expect(await s.artifacts.content(repo.id, digestOf(uniq('nope')))).toBeUndefined();
      const { repo: other } = await newRepo(s);
      expect(await s.artifacts.get(other.id, a.digest)).toBeUndefined();
    });

    it('put is idempotent for the same digest, and a tag given with it points at it (or moves to it)', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const a = manifest(repo.id, 'a', { pushedAt: 100, blobDigests: ['sha256:l1', 'sha256:l1'] });
      await s.artifacts.put(a, 'v1', 100);
      await s.artifacts.put({ ...a, pushedAt: 200 }, 'v1', 200);
      await s.artifacts.put({ ...a, pushedAt: 300 }, 'latest', 300);
      const page = await s.artifacts.list({ repositoryId: repo.id, page: 1, perPage: 10 });
      expect(page.total).toBe(1);
      expect(page.items[0]).toMatchObject({ digest: a.digest, pushedAt: 100, tags: ['latest', 'v1'] });
      expect(await s.tags.get(repo.id, 'latest')).toEqual({ repositoryId: repo.id, name: 'latest', digest: a.digest, pushedAt: 300, pulledAt: null });

      const b = manifest(repo.id, 'b', { pushedAt: 400 });
      await s.artifacts.put(b, 'latest', 400);
      expect(await s.tags.get(repo.id, 'latest')).toMatchObject({ digest: b.digest, pushedAt: 400 });
      expect((await s.tags.get(repo.id, 'v1'))?.digest).toBe(a.digest);
    });

    it('lookup: undefined for an unknown repository; otherwise its id and the artifact a tag or digest names', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const { repo: other } = await newRepo(s);
      const a = manifest(repo.id, 'a', { mediaType: 'application/vnd.oci.image.index.v1+json' });
      await s.artifacts.put(a, 'v1', 1);
      const elsewhere = manifest(other.id, 'elsewhere');
      await s.artifacts.put(elsewhere, 'v2', 1);

      expect(await s.artifacts.lookup(`${repo.name}-nope`, { tag: 'v1' })).toBeUndefined();
      expect(await s.artifacts.lookup(`${repo.name}-nope`, { digest: a.digest })).toBeUndefined();
      const found = { digest: a.digest, mediaType: 'application/vnd.oci.image.index.v1+json' };
      expect(await s.artifacts.lookup(repo.name, { tag: 'v1' })).toEqual({ repositoryId: repo.id, artifact: found });
      expect(await s.artifacts.lookup(repo.name, { digest: a.digest })).toEqual({ repositoryId: repo.id, artifact: found });
      const noTag = await s.artifacts.lookup(repo.name, { tag: 'v2' });
      expect(noTag?.repositoryId).toBe(repo.id);
      expect(noTag?.artifact).toBeUndefined();
      const noDigest = await s.artifacts.lookup(repo.name, { digest: elsewhere.digest });
      expect(noDigest?.repositoryId).toBe(repo.id);
      expect(noDigest?.artifact).toBeUndefined();
    });

    it('missing: the given manifest digests not in the repository, each once', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const a = manifest(repo.id, 'a');
      await s.artifacts.put(a, undefined, 1);
      const [x, y] = [digestOf(uniq('x')), digestOf(uniq('y'))];
      expect(await s.artifacts.missing(repo.id, [x, a.digest, y, x])).toEqual([x, y]);
      expect(await s.artifacts.missing(repo.id, [a.digest])).toEqual([]);
      expect(await s.artifacts.missing(repo.id, [])).toEqual([]);
    });

    it('lists a repository’s artifacts newest first with their tags, in pages', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const { repo: other } = await newRepo(s);
      const arts = [100, 300, 200].map((t, i) => manifest(repo.id, `a${i}`, { pushedAt: t }));
      for (const a of arts) await s.artifacts.put(a, undefined, a.pushedAt);
      await s.tags.put(repo.id, 'b', arts[1]!.digest, 1);
      await s.tags.put(repo.id, 'a', arts[1]!.digest, 1);
      await s.tags.put(repo.id, 'c', arts[0]!.digest, 1);
      await s.artifacts.put(manifest(other.id, 'other', { pushedAt: 999 }), 'x', 1);

      const p1 = await s.artifacts.list({ repositoryId: repo.id, page: 1, perPage: 2 });
      expect(p1).toMatchObject({ page: 1, perPage: 2, total: 3 });
      expect(p1.items.map((a) => [a.pushedAt, a.tags])).toEqual([
        [300, ['a', 'b']],
        [200, []],
      ]);
      const p2 = await s.artifacts.list({ repositoryId: repo.id, page: 2, perPage: 2 });
      expect(p2.items.map((a) => [a.digest, a.tags])).toEqual([[arts[0]!.digest, ['c']]]);
      expect(await s.artifacts.list({ repositoryId: uniq('nope'), page: 1, perPage: 2 })).toEqual({ items: [], page: 1, perPage: 2, total: 0 });
    });

    it('referrers and parents', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const child = manifest(repo.id, 'child');
      const sibling = manifest(repo.id, 'sibling');
      await s.artifacts.put(child, undefined, 1);
      await s.artifacts.put(sibling, undefined, 1);
      const sig = manifest(repo.id, 'sig', { subjectDigest: child.digest, artifactType: 'application/vnd.example.sig', pushedAt: 10 });
      const sbom = manifest(repo.id, 'sbom', { subjectDigest: child.digest, artifactType: 'application/vnd.example.sbom', pushedAt: 20 });
      await s.artifacts.put(sbom, undefined, 20);
      await s.artifacts.put(sig, undefined, 10);
      const i1 = manifest(repo.id, 'i1', { childDigests: [child.digest, sibling.digest] });
      const i2 = manifest(repo.id, 'i2', { childDigests: [child.digest, child.digest] });
      await s.artifacts.put(i1, undefined, 1);
      await s.artifacts.put(i2, undefined, 1);

      expect((await s.artifacts.referrers(repo.id, child.digest)).map((a) => [a.digest, a.artifactType])).toEqual([
        [sig.digest, 'application/vnd.example.sig'],
        [sbom.digest, 'application/vnd.example.sbom'],
      ]);
      expect(await s.artifacts.referrers(repo.id, sibling.digest)).toEqual([]);
      expect((await s.artifacts.parents(repo.id, child.digest)).sort()).toEqual([i1.digest, i2.digest].sort());
      expect(await s.artifacts.parents(repo.id, sibling.digest)).toEqual([i1.digest]);
      expect(await s.artifacts.parents(repo.id, i1.digest)).toEqual([]);
      await s.artifacts.delete(repo.id, i1.digest);
      expect(await s.artifacts.parents(repo.id, child.digest)).toEqual([i2.digest]);
      expect(await s.artifacts.parents(repo.id, sibling.digest)).toEqual([]);
    });

    it('delete removes the artifact and its tags and returns those tags; other artifacts keep theirs', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const a = manifest(repo.id, 'a');
      const b = manifest(repo.id, 'b');
      await s.artifacts.put(a, 'v1', 1);
      await s.tags.put(repo.id, 'latest', a.digest, 2);
      await s.artifacts.put(b, 'v2', 1);

      expect((await s.artifacts.delete(repo.id, a.digest)).sort()).toEqual(['latest', 'v1']);
      expect(await s.artifacts.get(repo.id, a.digest)).toBeUndefined();
      expect(await s.tags.get(repo.id, 'v1')).toBeUndefined();
      expect(await s.tags.get(repo.id, 'latest')).toBeUndefined();
      expect(await s.tags.names(repo.id, {})).toEqual(['v2']);
      expect(await s.artifacts.delete(repo.id, a.digest)).toEqual([]);
      expect(await s.artifacts.delete(repo.id, digestOf(uniq('never')))).toEqual([]);
      // the digest can be pushed again
      await s.artifacts.put(a, 'v1', 3);
      expect((await s.tags.get(repo.id, 'v1'))?.digest).toBe(a.digest);
    });

    it('recordPulls: latest time wins, within a batch and across batches, for artifacts and tags', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const a = manifest(repo.id, 'a');
      const b = manifest(repo.id, 'b');
      await s.artifacts.put(a, 'v1', 1);
      await s.artifacts.put(b, 'v2', 1);
      await s.artifacts.recordPulls([]);

      await s.artifacts.recordPulls([
        { repositoryId: repo.id, digest: a.digest, tag: 'v1', at: 200 },
        { repositoryId: repo.id, digest: a.digest, tag: 'v1', at: 100 },
        { repositoryId: repo.id, digest: b.digest, at: 50 },
      ]);
      expect((await s.artifacts.get(repo.id, a.digest))?.pulledAt).toBe(200);
      expect((await s.tags.get(repo.id, 'v1'))?.pulledAt).toBe(200);
      expect((await s.artifacts.get(repo.id, b.digest))?.pulledAt).toBe(50);
      expect((await s.tags.get(repo.id, 'v2'))?.pulledAt).toBeNull();

      await s.artifacts.recordPulls([{ repositoryId: repo.id, digest: a.digest, tag: 'v1', at: 150 }]);
      expect((await s.artifacts.get(repo.id, a.digest))?.pulledAt).toBe(200);
      expect((await s.tags.get(repo.id, 'v1'))?.pulledAt).toBe(200);
      await s.artifacts.recordPulls([{ repositoryId: repo.id, digest: a.digest, at: 300 }]);
      expect((await s.artifacts.get(repo.id, a.digest))?.pulledAt).toBe(300);
      expect((await s.tags.get(repo.id, 'v1'))?.pulledAt).toBe(200);
      expect((await s.artifacts.list({ repositoryId: repo.id, page: 1, perPage: 10 })).items.map((x) => x.pulledAt).sort()).toEqual([300, 50]);
    });

    it('recordPulls skips artifacts that are gone (deleted after the pull) and records the rest', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const a = manifest(repo.id, 'a');
      await s.artifacts.put(a, 'v1', 1);
      await s.artifacts.recordPulls([
        { repositoryId: repo.id, digest: digestOf(uniq('gone')), tag: 'gone', at: 10 },
        { repositoryId: uniq('gone-repo'), digest: a.digest, at: 10 },
        { repositoryId: repo.id, digest: a.digest, tag: 'v1', at: 20 },
      ]);
      expect((await s.artifacts.get(repo.id, a.digest))?.pulledAt).toBe(20);
    });
  });
}

export function tagStoreContract(factory: MetaFactory): void {
  describe('TagStore', () => {
    const stores = useStores(factory);

    it('put points a tag at an artifact, again moves it; unknown tags are undefined', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const a = manifest(repo.id, 'a');
      const b = manifest(repo.id, 'b');
      await s.artifacts.put(a, undefined, 1);
      await s.artifacts.put(b, undefined, 1);
      await s.tags.put(repo.id, 'v1', a.digest, 100);
      expect(await s.tags.get(repo.id, 'v1')).toEqual({ repositoryId: repo.id, name: 'v1', digest: a.digest, pushedAt: 100, pulledAt: null });
      await s.tags.put(repo.id, 'v1', b.digest, 200);
      expect(await s.tags.get(repo.id, 'v1')).toMatchObject({ digest: b.digest, pushedAt: 200 });
      expect(await s.tags.get(repo.id, 'v2')).toBeUndefined();
      const { repo: other } = await newRepo(s);
      expect(await s.tags.get(other.id, 'v1')).toBeUndefined();
    });

    it('refuses a tag for an artifact that is not in the repository', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const { repo: other } = await newRepo(s);
      const a = manifest(other.id, 'a');
      await s.artifacts.put(a, undefined, 1);
      await expect(s.tags.put(repo.id, 'v1', digestOf(uniq('missing')), 1)).rejects.toThrow();
      await expect(s.tags.put(repo.id, 'v1', a.digest, 1)).rejects.toThrow();
      expect(await s.tags.get(repo.id, 'v1')).toBeUndefined();
    });

    it('names: after `last` in lexical (code point) order, at most n', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const a = manifest(repo.id, 'a');
      await s.artifacts.put(a, undefined, 1);
      const names = ['latest', 'v1', 'v1.0', 'v1-rc', 'v1_x', 'v10', 'V2', '1.0', '_x', 'a'];
      for (const n of names) await s.tags.put(repo.id, n, a.digest, 1);
      const sorted = [...names].sort();
      expect(await s.tags.names(repo.id, {})).toEqual(sorted);
      expect(await s.tags.names(repo.id, { n: 4 })).toEqual(sorted.slice(0, 4));
      expect(await s.tags.names(repo.id, { last: sorted[3], n: 4 })).toEqual(sorted.slice(4, 8));
      expect(await s.tags.names(repo.id, { last: sorted[3] })).toEqual(sorted.slice(4));
      expect(await s.tags.names(repo.id, { last: sorted[sorted.length - 1] })).toEqual([]);
      expect(await s.tags.names(uniq('nope'), {})).toEqual([]);
    });

    it('lists by name in pages, filtered by digest and by substring', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const a = manifest(repo.id, 'a');
      const b = manifest(repo.id, 'b');
      await s.artifacts.put(a, undefined, 1);
      await s.artifacts.put(b, undefined, 1);
      for (const n of ['v3', 'v1', 'v2']) await s.tags.put(repo.id, n, a.digest, 1);
      for (const n of ['latest', 'v1_b']) await s.tags.put(repo.id, n, b.digest, 1);

      const p1 = await s.tags.list({ repositoryId: repo.id, page: 1, perPage: 2 });
      expect(p1).toMatchObject({ page: 1, perPage: 2, total: 5 });
      expect(p1.items.map((t) => t.name)).toEqual(['latest', 'v1']);
      expect((await s.tags.list({ repositoryId: repo.id, page: 3, perPage: 2 })).items.map((t) => t.name)).toEqual(['v3']);
      const byDigest = await s.tags.list({ repositoryId: repo.id, digest: a.digest, page: 1, perPage: 10 });
      expect(byDigest.items.map((t) => t.name)).toEqual(['v1', 'v2', 'v3']);
      expect(byDigest.total).toBe(3);
      expect(byDigest.items.every((t) => t.repositoryId === repo.id && t.digest === a.digest)).toBe(true);
      expect((await s.tags.list({ repositoryId: repo.id, search: 'v1', page: 1, perPage: 10 })).items.map((t) => t.name)).toEqual(['v1', 'v1_b']);
      expect((await s.tags.list({ repositoryId: repo.id, search: '1_', page: 1, perPage: 10 })).items.map((t) => t.name)).toEqual(['v1_b']);
      expect((await s.tags.list({ repositoryId: repo.id, search: 'v_', page: 1, perPage: 10 })).total).toBe(0);
      // search ignores case on both databases; names sort by code point (capitals first) on both
      await s.tags.put(repo.id, 'V9-RC', b.digest, 1);
      await s.tags.put(repo.id, 'a-low', b.digest, 1);
      expect((await s.tags.list({ repositoryId: repo.id, search: 'v9-rc', page: 1, perPage: 10 })).items.map((t) => t.name)).toEqual(['V9-RC']);
      expect((await s.tags.list({ repositoryId: repo.id, search: 'V1', page: 1, perPage: 10 })).items.map((t) => t.name)).toEqual(['v1', 'v1_b']);
      expect(await s.tags.names(repo.id, {})).toEqual(['V9-RC', 'a-low', 'latest', 'v1', 'v1_b', 'v2', 'v3']);
      expect(await s.tags.names(repo.id, { last: 'V9-RC', n: 2 })).toEqual(['a-low', 'latest']);
    });

    it("withoutAccessories leaves out cosign's sha256-<hex>.sig / .att / .sbom tags, in the page and the total", async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const a = manifest(repo.id, 'a');
      await s.artifacts.put(a, undefined, 1);
      const hex = a.digest.slice(7);
      for (const n of ['v1', `sha256-${hex}.sig`, `sha256-${hex}.att`, `sha256-${hex}.sbom`, 'sha256-notes', 'v2.sig']) await s.tags.put(repo.id, n, a.digest, 1);
      const plain = await s.tags.list({ repositoryId: repo.id, withoutAccessories: true, page: 1, perPage: 10 });
      expect(plain.items.map((t) => t.name)).toEqual(['sha256-notes', 'v1', 'v2.sig']);
      expect(plain.total).toBe(3);
      expect((await s.tags.list({ repositoryId: repo.id, page: 1, perPage: 10 })).total).toBe(6);
    });

    it('delete removes the tag, not the artifact, and says whether there was one', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const a = manifest(repo.id, 'a');
      await s.artifacts.put(a, 'v1', 1);
      expect(await s.tags.delete(repo.id, 'v1')).toBe(true);
      expect(await s.tags.delete(repo.id, 'v1')).toBe(false);
      expect(await s.tags.delete(repo.id, 'never')).toBe(false);
      expect(await s.tags.get(repo.id, 'v1')).toBeUndefined();
      expect(await s.artifacts.get(repo.id, a.digest)).toBeDefined();
    });
  });
}

// --- identity -----------------------------------------------------------------------------------------------------

export function userStoreContract(factory: MetaFactory): void {
  describe('UserStore', () => {
    const stores = useStores(factory);

    it('creates users and reads them by id and by username (the hash only by username); unknown ones are undefined', async () => {
      const s = stores();
      const u = await newUser(s, 'admin', '$argon2id$hash');
      const { passwordHash: _hash, ...user } = u;
      expect(await s.users.get(u.id)).toEqual(user);
      expect(await s.users.getByUsername(u.username)).toEqual({ ...user, passwordHash: '$argon2id$hash' });
      const noPassword = await newUser(s, 'viewer', null);
      expect(await s.users.get(noPassword.id)).toMatchObject({ role: 'viewer', hasPassword: false });
      expect(await s.users.getByUsername(noPassword.username)).toMatchObject({ hasPassword: false, passwordHash: null });
      expect(await s.users.get(uniq('nope'))).toBeUndefined();
      expect(await s.users.getByUsername(uniq('nope'))).toBeUndefined();
    });

    it('refuses a taken username with CONFLICT', async () => {
      const s = stores();
      const u = await newUser(s);
      await expectNcr(s.users.create({ ...u, id: uniq('uid'), role: 'admin' }), 'CONFLICT');
      expect((await s.users.getByUsername(u.username))?.id).toBe(u.id);
    });

    it('lists by username in pages; count and countByRole agree with it', async () => {
      const s = stores();
      await Promise.all([newUser(s, 'admin'), newUser(s, 'viewer'), newUser(s, 'member')]);
      const total = await s.users.count();
      const all = await s.users.list({ page: 1, perPage: 100 });
      expect(all.total).toBe(total);
      expect(all.items.length).toBe(total);
      const usernames = all.items.map((u) => u.username);
      expect(usernames).toEqual([...usernames].sort());
      const p2 = await s.users.list({ page: 2, perPage: 2 });
      expect(p2).toMatchObject({ page: 2, perPage: 2, total });
      expect(p2.items.map((u) => u.username)).toEqual(usernames.slice(2, 4));
      expect(all.items[0]).not.toHaveProperty('passwordHash');
      for (const role of ['admin', 'member', 'viewer'] as const) expect(await s.users.countByRole(role)).toBe(all.items.filter((u) => u.role === role).length);
    });

    it('update changes the role and the password hash; an empty patch changes nothing', async () => {
      const s = stores();
      const u = await newUser(s, 'member', null);
      await s.users.update(u.id, { role: 'admin' });
      expect(await s.users.getByUsername(u.username)).toMatchObject({ role: 'admin', passwordHash: null, hasPassword: false });
      await s.users.update(u.id, { passwordHash: '$new' });
      expect(await s.users.getByUsername(u.username)).toMatchObject({ role: 'admin', passwordHash: '$new', hasPassword: true });
      await s.users.update(u.id, {});
      expect(await s.users.getByUsername(u.username)).toMatchObject({ role: 'admin', passwordHash: '$new' });
    });

    it('delete removes the user with their access keys and sessions', async () => {
      const s = stores();
      const u = await newUser(s);
      const keep = await newUser(s);
      await s.accessKeys.create({ id: uniq('kid'), userId: u.id, accessKey: uniq('AK'), createdAt: 1, lastUsedAt: null, secretHash: 'h' });
      await s.sessions.create(session(u.id));
      const kept = session(keep.id);
      await s.sessions.create(kept);
      await s.users.delete(u.id);
      expect(await s.users.get(u.id)).toBeUndefined();
      expect(await s.accessKeys.countForUser(u.id)).toBe(0);
      expect(await s.sessions.deleteForUser(u.id)).toBe(0);
      expect(await s.sessions.get(kept.idHash)).toEqual(kept);
      await s.users.delete(uniq('nope'));
    });
  });
}

export function accessKeyStoreContract(factory: MetaFactory): void {
  describe('AccessKeyStore', () => {
    const stores = useStores(factory);
    const key = (userId: string, createdAt: number) => ({ id: uniq('kid'), userId, accessKey: uniq('AK'), createdAt, lastUsedAt: null, secretHash: uniq('hash') });

    it('creates keys and reads them by id and by access key (the hash only by access key); unknown ones are undefined', async () => {
      const s = stores();
      const u = await newUser(s);
      const k = key(u.id, 100);
      await s.accessKeys.create(k);
      const { secretHash, ...pub } = k;
      expect(await s.accessKeys.get(k.id)).toEqual(pub);
      expect(await s.accessKeys.getByAccessKey(k.accessKey)).toEqual({ ...pub, secretHash });
      expect(await s.accessKeys.get(uniq('nope'))).toBeUndefined();
      expect(await s.accessKeys.getByAccessKey(uniq('nope'))).toBeUndefined();
    });

    it('refuses a taken access key with CONFLICT', async () => {
      const s = stores();
      const u = await newUser(s);
      const k = key(u.id, 1);
      await s.accessKeys.create(k);
      await expectNcr(s.accessKeys.create({ ...key(u.id, 2), accessKey: k.accessKey }), 'CONFLICT');
      expect(await s.accessKeys.countForUser(u.id)).toBe(1);
    });

    it('lists and counts a user’s keys, oldest first', async () => {
      const s = stores();
      const u = await newUser(s);
      const other = await newUser(s);
      const keys = [key(u.id, 300), key(u.id, 100), key(u.id, 200)];
      for (const k of keys) await s.accessKeys.create(k);
      await s.accessKeys.create(key(other.id, 50));
      expect((await s.accessKeys.listForUser(u.id)).map((k) => k.createdAt)).toEqual([100, 200, 300]);
      expect(await s.accessKeys.countForUser(u.id)).toBe(3);
      expect(await s.accessKeys.listForUser(uniq('nope'))).toEqual([]);
      expect(await s.accessKeys.countForUser(uniq('nope'))).toBe(0);
    });

    it('replaceSecret swaps the hash and restarts the key; touch records last use for many keys at once', async () => {
      const s = stores();
      const u = await newUser(s);
      const [a, b, c] = [key(u.id, 1), key(u.id, 2), key(u.id, 3)];
      for (const k of [a, b, c]) await s.accessKeys.create(k);
      await s.accessKeys.touch([
        { id: a.id, at: 10 },
        { id: b.id, at: 20 },
      ]);
      await s.accessKeys.touch([]);
      expect((await s.accessKeys.get(a.id))?.lastUsedAt).toBe(10);
      expect((await s.accessKeys.get(b.id))?.lastUsedAt).toBe(20);
      expect((await s.accessKeys.get(c.id))?.lastUsedAt).toBeNull();

      await s.accessKeys.replaceSecret(a.id, 'new-hash', 500);
      expect(await s.accessKeys.getByAccessKey(a.accessKey)).toEqual({ id: a.id, userId: u.id, accessKey: a.accessKey, createdAt: 500, lastUsedAt: null, secretHash: 'new-hash' });
      expect((await s.accessKeys.getByAccessKey(b.accessKey))?.secretHash).toBe(b.secretHash);
    });

    it('delete removes one key; a key needs an existing user', async () => {
      const s = stores();
      const u = await newUser(s);
      const [a, b] = [key(u.id, 1), key(u.id, 2)];
      await s.accessKeys.create(a);
      await s.accessKeys.create(b);
      await s.accessKeys.delete(a.id);
      expect(await s.accessKeys.get(a.id)).toBeUndefined();
      expect(await s.accessKeys.getByAccessKey(a.accessKey)).toBeUndefined();
      expect(await s.accessKeys.get(b.id)).toBeDefined();
      await s.accessKeys.delete(uniq('nope'));
      await expect(s.accessKeys.create(key(uniq('no-user'), 1))).rejects.toThrow();
    });
  });
}

export function loginFailureStoreContract(factory: MetaFactory): void {
  describe('LoginFailureStore', () => {
    const stores = useStores(factory);

    it('counts failures per key inside the window, with the oldest; keys without any are absent', async () => {
      const s = stores();
      const [ip, user, quiet] = [uniq('ip:'), uniq('user:'), uniq('user:')];
      await s.loginFailures.add([ip, user], 1_000, 0);
      await s.loginFailures.add([ip], 2_000, 0);
      await s.loginFailures.add([ip, user], 3_000, 0);
      const all = await s.loginFailures.recent([ip, user, quiet], 0);
      expect(all.get(ip)).toEqual({ count: 3, oldest: 1_000 });
      expect(all.get(user)).toEqual({ count: 2, oldest: 1_000 });
      expect(all.has(quiet)).toBe(false);
      const window = await s.loginFailures.recent([ip, user], 1_500);
      expect(window.get(ip)).toEqual({ count: 2, oldest: 2_000 });
      expect(window.get(user)).toEqual({ count: 1, oldest: 3_000 });
      expect((await s.loginFailures.recent([ip, user], 5_000)).size).toBe(0);
    });

    it('add forgets the key’s failures older than forgetBefore', async () => {
      const s = stores();
      const k = uniq('ip:');
      await s.loginFailures.add([k], 100, 0);
      await s.loginFailures.add([k], 200, 0);
      await s.loginFailures.add([k], 1_000, 150);
      expect((await s.loginFailures.recent([k], 0)).get(k)).toEqual({ count: 2, oldest: 200 });
      await s.loginFailures.add([k], 2_000, 1_500);
      expect((await s.loginFailures.recent([k], 0)).get(k)).toEqual({ count: 1, oldest: 2_000 });
    });
  });
}

export function signingKeyStoreContract(factory: MetaFactory): void {
  describe('SigningKeyStore', () => {
    const stores = useStores(factory);
    const sk = (kid: string, createdAt: number): StoredSigningKey => ({ kid, alg: 'ES256', publicJwk: `{"kid":"${kid}"}`, sealedPrivateJwk: `sealed:${kid}`, createdAt });

    // runs first: it needs the suite's fresh, empty database
    it('lists keys newest first; adding an existing kid changes nothing; deleteOlderThan on no keys is 0', async () => {
      const s = stores();
      expect(await s.signingKeys.list()).toEqual([]);
      expect(await s.signingKeys.deleteOlderThan(Number.MAX_SAFE_INTEGER)).toBe(0);
      await s.signingKeys.add(sk('k-mid', 200));
      await s.signingKeys.add(sk('k-new', 300));
      await s.signingKeys.add(sk('k-old', 100));
      await s.signingKeys.add({ ...sk('k-old', 999), publicJwk: 'other' });
      expect(await s.signingKeys.list()).toEqual([sk('k-new', 300), sk('k-mid', 200), sk('k-old', 100)]);
    });

    it('deleteOlderThan deletes keys created before the time but always keeps the newest', async () => {
      const s = stores();
      expect(await s.signingKeys.deleteOlderThan(200)).toBe(1);
      expect((await s.signingKeys.list()).map((k) => k.kid)).toEqual(['k-new', 'k-mid']);
      expect(await s.signingKeys.deleteOlderThan(200)).toBe(0);
      expect(await s.signingKeys.deleteOlderThan(10_000)).toBe(1);
      expect((await s.signingKeys.list()).map((k) => k.kid)).toEqual(['k-new']);
      expect(await s.signingKeys.deleteOlderThan(10_000)).toBe(0);
      expect((await s.signingKeys.list()).map((k) => k.kid)).toEqual(['k-new']);
    });
  });
}

function session(userId: string, over: Partial<StoredSession> = {}): StoredSession {
  return { idHash: uniq('sess'), userId, csrfToken: uniq('csrf'), createdAt: 1_000, lastSeenAt: 1_000, expiresAt: 10_000, ...over };
}

export function sessionStoreContract(factory: MetaFactory): void {
  describe('SessionStore', () => {
    const stores = useStores(factory);

    it('creates a session and returns it by id hash, expired or not; unknown ones are undefined; id hashes are unique', async () => {
      const s = stores();
      const u = await newUser(s);
      const live = session(u.id);
      const expired = session(u.id, { expiresAt: 1 });
      await s.sessions.create(live);
      await s.sessions.create(expired);
      expect(await s.sessions.get(live.idHash)).toEqual(live);
      expect(await s.sessions.get(expired.idHash)).toEqual(expired);
      expect(await s.sessions.get(uniq('nope'))).toBeUndefined();
      await expect(s.sessions.create({ ...session(u.id), idHash: live.idHash })).rejects.toThrow();
      expect(await s.sessions.get(live.idHash)).toEqual(live);
    });

    it('touch moves lastSeenAt and expiresAt; delete removes one session', async () => {
      const s = stores();
      const u = await newUser(s);
      const a = session(u.id);
      const b = session(u.id);
      await s.sessions.create(a);
      await s.sessions.create(b);
      await s.sessions.touch(a.idHash, 5_000, 20_000);
      expect(await s.sessions.get(a.idHash)).toEqual({ ...a, lastSeenAt: 5_000, expiresAt: 20_000 });
      await s.sessions.delete(a.idHash);
      expect(await s.sessions.get(a.idHash)).toBeUndefined();
      expect(await s.sessions.get(b.idHash)).toEqual(b);
      await s.sessions.delete(a.idHash);
    });

    it('deleteForUser deletes only that user’s sessions and returns how many', async () => {
      const s = stores();
      const [u, v] = [await newUser(s), await newUser(s)];
      for (let i = 0; i < 3; i++) await s.sessions.create(session(u.id));
      const other = session(v.id);
      await s.sessions.create(other);
      expect(await s.sessions.deleteForUser(u.id)).toBe(3);
      expect(await s.sessions.deleteForUser(u.id)).toBe(0);
      expect(await s.sessions.get(other.idHash)).toEqual(other);
    });

    it('deleteExpired deletes sessions that expired at or before now and returns how many', async () => {
      const s = stores();
      const u = await newUser(s);
      const base = 1_000_000_000 + counter * 1_000;
      const before = session(u.id, { expiresAt: base - 1 });
      const at = session(u.id, { expiresAt: base });
      const after = session(u.id, { expiresAt: base + 1 });
      for (const x of [before, at, after]) await s.sessions.create(x);
      await s.sessions.deleteExpired(base - 2); // anything older from other tests
      expect(await s.sessions.deleteExpired(base)).toBe(2);
      expect(await s.sessions.get(before.idHash)).toBeUndefined();
      expect(await s.sessions.get(at.idHash)).toBeUndefined();
      expect(await s.sessions.get(after.idHash)).toEqual(after);
      expect(await s.sessions.deleteExpired(base)).toBe(0);
    });
  });
}

// --- audit --------------------------------------------------------------------------------------------------------

export function auditStoreContract(factory: MetaFactory): void {
  describe('AuditStore (entries written by the unit of work)', () => {
    const stores = useStores(factory);

    it('a committed transaction’s audited events become entries: who, what, target, from where', async () => {
      const s = stores();
      const actor = uniq('alice');
      const reg = uniq('reg');
      const before = Date.now();
      await s.uow.transaction(async (tx) => {
        tx.publish({ type: 'RegistryCreated', at: before, actor: { userId: 'u1', username: actor, remoteAddr: '198.51.100.4' }, registry: reg });
        tx.publish({ type: 'TagMoved', at: before + 1, actor: { userId: 'u1', username: actor }, repository: `${reg}/app`, tag: 'v1', digest: 'sha256:b', previousDigest: 'sha256:a' });
        tx.publish({ type: 'ArtifactPulled', at: before + 2, actor: { userId: 'u1', username: actor }, repository: `${reg}/app`, digest: 'sha256:b' });
      });
      const page = await s.audit.list({ actor, page: 1, perPage: 10 });
      expect(page).toMatchObject({ page: 1, perPage: 10, total: 2 });
      expect(page.items).toEqual([
        { id: expect.any(Number), at: before + 1, actor, action: 'TagMoved', target: `${reg}/app:v1`, detail: expect.any(String), remoteAddr: null },
        { id: expect.any(Number), at: before, actor, action: 'RegistryCreated', target: reg, detail: null, remoteAddr: '198.51.100.4' },
      ]);
      expect(JSON.parse(page.items[0]!.detail!)).toMatchObject({ tag: 'v1', digest: 'sha256:b', previousDigest: 'sha256:a' });
      expect(page.items[0]!.id).toBeGreaterThan(page.items[1]!.id);
    });

    it('a rolled-back transaction leaves no entry', async () => {
      const s = stores();
      const actor = uniq('mallory');
      const boom = new Error('boom');
      await expect(
        s.uow.transaction(async (tx) => {
          tx.publish(event(uniq('reg'), 'RegistryCreated', actor));
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await s.audit.list({ actor, page: 1, perPage: 10 })).toEqual({ items: [], page: 1, perPage: 10, total: 0 });
    });

    it('lists newest first in pages, filtered by actor and by action', async () => {
      const s = stores();
      const [alice, bob] = [uniq('alice'), uniq('bob')];
      const regs = [uniq('reg'), uniq('reg'), uniq('reg')];
      await s.uow.transaction(async (tx) => {
        tx.publish(event(regs[0]!, 'RegistryCreated', alice));
        tx.publish(event(regs[1]!, 'RegistryCreated', bob));
      });
      await s.uow.transaction(async (tx) => tx.publish(event(regs[2]!, 'RegistryCreated', alice)));
      await s.uow.transaction(async (tx) => tx.publish(event(regs[0]!, 'RegistryDeleted', alice)));

      const p1 = await s.audit.list({ actor: alice, page: 1, perPage: 2 });
      expect(p1).toMatchObject({ page: 1, perPage: 2, total: 3 });
      expect(p1.items.map((e) => [e.action, e.target])).toEqual([
        ['RegistryDeleted', regs[0]],
        ['RegistryCreated', regs[2]],
      ]);
      const p2 = await s.audit.list({ actor: alice, page: 2, perPage: 2 });
      expect(p2.items.map((e) => [e.action, e.target])).toEqual([['RegistryCreated', regs[0]]]);
      const created = await s.audit.list({ actor: alice, action: 'RegistryCreated', page: 1, perPage: 10 });
      expect(created.items.map((e) => e.target)).toEqual([regs[2], regs[0]]);
      expect((await s.audit.list({ actor: bob, page: 1, perPage: 10 })).items.map((e) => e.target)).toEqual([regs[1]]);
      const everyone = await s.audit.list({ page: 1, perPage: 100 });
      const ids = everyone.items.map((e) => e.id);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      expect(everyone.total).toBeGreaterThanOrEqual(4);
    });
  });
}

// --- executions ---------------------------------------------------------------------------------------------------

export function executionStoreContract(factory: MetaFactory): void {
  describe('ExecutionStore', () => {
    const stores = useStores(factory);

    it('creates an execution and reads it back; unknown ids are undefined', async () => {
      const s = stores();
      const e = execution({ subject: 'team', counts: { examined: 0 }, startedAt: 1_100, stopRequested: true, jobId: 'job-1', message: 'hi', trigger: 'schedule' });
      await s.executions.create(e);
      expect(await s.executions.get(e.id)).toEqual(e);
      const bare = execution({ params: null, createdBy: null });
      await s.executions.create(bare);
      expect(await s.executions.get(bare.id)).toEqual(bare);
      expect(await s.executions.get(uniq('nope'))).toBeUndefined();
    });

    it('lists newest first in pages, filtered by kind, subject and status', async () => {
      const s = stores();
      const kind = uniq('kind');
      const es = [
        execution({ kind, subject: 'a', status: 'succeeded', createdAt: 100 }),
        execution({ kind, subject: 'b', status: 'running', createdAt: 300 }),
        execution({ kind, subject: 'a', status: 'failed', createdAt: 200 }),
      ];
      for (const e of es) await s.executions.create(e);
      await s.executions.create(execution({ kind: uniq('other'), subject: 'a', createdAt: 400 }));

      const p1 = await s.executions.list({ kind, page: 1, perPage: 2 });
      expect(p1).toMatchObject({ page: 1, perPage: 2, total: 3 });
      expect(p1.items.map((e) => e.createdAt)).toEqual([300, 200]);
      expect((await s.executions.list({ kind, page: 2, perPage: 2 })).items.map((e) => e.id)).toEqual([es[0]!.id]);
      expect((await s.executions.list({ kind, subject: 'a', page: 1, perPage: 10 })).items.map((e) => e.id)).toEqual([es[2]!.id, es[0]!.id]);
      expect((await s.executions.list({ kind, status: 'running', page: 1, perPage: 10 })).items).toEqual([es[1]]);
      expect((await s.executions.list({ kind, subject: 'b', status: 'failed', page: 1, perPage: 10 })).total).toBe(0);
    });

    it('update applies the patch fields it is given and adds counts to the stored counters', async () => {
      const s = stores();
      const e = execution({ counts: { examined: 5 }, message: 'queued' });
      await s.executions.create(e);
      await s.executions.update(e.id, { status: 'running', startedAt: 2_000, jobId: 'j1' });
      await s.executions.update(e.id, { addCounts: { examined: 3, deleted: 2 } });
      await s.executions.update(e.id, { addCounts: { deleted: 1 }, stopRequested: true, message: null });
      await s.executions.update(e.id, {});
      expect(await s.executions.get(e.id)).toEqual({
        ...e,
        status: 'running',
        startedAt: 2_000,
        jobId: 'j1',
        counts: { examined: 8, deleted: 3 },
        stopRequested: true,
        message: null,
      });
      await s.executions.update(e.id, { status: 'stopped', endedAt: 3_000, stopRequested: false, message: 'stopped by admin' });
      expect(await s.executions.get(e.id)).toMatchObject({ status: 'stopped', endedAt: 3_000, stopRequested: false, message: 'stopped by admin', counts: { examined: 8, deleted: 3 } });
    });

    it('counters add up when many updates run at the same time', async () => {
      const s = stores();
      const e = execution();
      await s.executions.create(e);
      const N = 24;
      await Promise.all(Array.from({ length: N }, (_, i) => s.executions.update(e.id, { addCounts: { examined: 1, bytesFreed: 1000 + i }, ...(i % 5 === 0 ? { message: `at ${i}` } : {}) })));
      expect((await s.executions.get(e.id))?.counts).toEqual({ examined: N, bytesFreed: N * 1000 + (N * (N - 1)) / 2 });
    });

    it('tasks: added in batches, listed in insertion order in pages, filtered by status; updateTask appends to the log', async () => {
      const s = stores();
      const e = execution();
      const other = execution();
      await s.executions.create(e);
      await s.executions.create(other);
      const first = ['z/app@1', 'a/app@2', 'm/app@3'].map((subj) => task(e.id, subj));
      const second = ['b/app@4', 'y/app@5'].map((subj) => task(e.id, subj, { status: 'skipped', detail: { verdict: 'KEEP' } }));
      await s.executions.addTasks(first);
      await s.executions.addTasks([task(other.id, 'other')]);
      await s.executions.addTasks(second);
      await s.executions.addTasks([]);
      const subjects = [...first, ...second].map((t) => t.subject);

      const p1 = await s.executions.tasks(e.id, { page: 1, perPage: 3 });
      expect(p1).toMatchObject({ page: 1, perPage: 3, total: 5 });
      expect(p1.items.map((t) => t.subject)).toEqual(subjects.slice(0, 3));
      expect(p1.items[0]).toEqual(first[0]);
      expect((await s.executions.tasks(e.id, { page: 2, perPage: 3 })).items.map((t) => t.subject)).toEqual(subjects.slice(3));
      const skipped = await s.executions.tasks(e.id, { status: 'skipped', page: 1, perPage: 10 });
      expect(skipped.items).toEqual(second);
      expect(await s.executions.tasks(uniq('nope'), { page: 1, perPage: 10 })).toEqual({ items: [], page: 1, perPage: 10, total: 0 });

      const t = first[1]!;
      await s.executions.updateTask(t.id, { status: 'running', startedAt: 10, appendLog: ['examining', 'policy keep-last-3'] });
      await s.executions.updateTask(t.id, { appendLog: ['deleted'], status: 'succeeded', endedAt: 20, message: 'done', detail: { verdict: 'DELETE', policy: 'keep-last-3' } });
      await s.executions.updateTask(t.id, { appendLog: [] });
      const [updated] = (await s.executions.tasks(e.id, { status: 'succeeded', page: 1, perPage: 10 })).items;
      expect(updated).toEqual({ ...t, status: 'succeeded', startedAt: 10, endedAt: 20, message: 'done', detail: { verdict: 'DELETE', policy: 'keep-last-3' }, log: ['examining', 'policy keep-last-3', 'deleted'] });
    });

    it('purge deletes executions (with their tasks) that ended before the time and returns how many', async () => {
      const s = stores();
      const base = 50_000_000 + counter * 10_000;
      await s.executions.purge(base - 10); // whatever older ones other tests left
      const old = execution({ status: 'succeeded', endedAt: base - 1 });
      const edge = execution({ status: 'failed', endedAt: base });
      const running = execution({ status: 'running', createdAt: 1, startedAt: 1 });
      for (const e of [old, edge, running]) await s.executions.create(e);
      await s.executions.addTasks([task(old.id, 'x'), task(old.id, 'y')]);
      await s.executions.addTasks([task(running.id, 'z')]);

      expect(await s.executions.purge(base)).toBe(1);
      expect(await s.executions.get(old.id)).toBeUndefined();
      expect((await s.executions.tasks(old.id, { page: 1, perPage: 10 })).total).toBe(0);
      expect(await s.executions.get(edge.id)).toBeDefined();
      expect(await s.executions.get(running.id)).toBeDefined();
      expect((await s.executions.tasks(running.id, { page: 1, perPage: 10 })).total).toBe(1);
      expect(await s.executions.purge(base)).toBe(0);
    });
  });
}

// --- the unit of work ---------------------------------------------------------------------------------------------

export function unitOfWorkContract(factory: MetaFactory, traits: DriverTraits): void {
  describe('UnitOfWork', () => {
    const stores = useStores(factory);

    it('commits the writes of every store together, writes the events in published order, and returns fn’s result', async () => {
      const s = stores();
      const cursor = await outboxEnd(s);
      const reg = uniq('reg');
      const regId = uniq('rid');
      const seen = s.committed.length;
      const result = await s.uow.transaction(async (tx) => {
        await tx.registries.create({ id: regId, name: reg, createdAt: 1, createdBy: null, kind: 'standard' });
        const repo = await tx.repositories.ensure(regId, `${reg}/app`, 1);
        await tx.artifacts.put(manifest(repo.id, 'a'), 'v1', 1);
        await tx.users.create({ id: uniq('uid'), username: uniq('user'), role: 'member', createdAt: 1, hasPassword: false, passwordHash: null });
        tx.publish(event(`${reg}-1`));
        tx.publish(event(`${reg}-2`, 'RegistryDeleted'));
        tx.publish(event(`${reg}-3`));
        return repo.id;
      });
      expect((await s.repositories.getByName(`${reg}/app`))?.id).toBe(result);
      expect((await s.tags.get(result, 'v1'))?.digest).toBeDefined();
      const written = await eventsAfter(s, cursor);
      expect(written.map((e) => [e.event.type, registryOf(e)])).toEqual([
        ['RegistryCreated', `${reg}-1`],
        ['RegistryDeleted', `${reg}-2`],
        ['RegistryCreated', `${reg}-3`],
      ]);
      expect(new Set(written.map((e) => e.id)).size).toBe(3);
      expect(s.committed.slice(seen).map((e) => (e as { registry: string }).registry)).toEqual([`${reg}-1`, `${reg}-2`, `${reg}-3`]);
    });

    it('rolls back the writes of every store when fn throws, rethrows, and writes none of its events', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const kept = manifest(repo.id, 'kept');
      await s.artifacts.put(kept, 'v1', 1);
      const e = execution();
      await s.executions.create(e);
      const cursor = await outboxEnd(s);
      const seen = s.committed.length;
      const reg = uniq('reg');
      const username = uniq('user');
      const boom = new Error('boom');
      await expect(
        s.uow.transaction(async (tx) => {
          await tx.registries.create({ id: uniq('rid'), name: reg, createdAt: 1, createdBy: null, kind: 'standard' });
          await tx.users.create({ id: uniq('uid'), username, role: 'member', createdAt: 1, hasPassword: false, passwordHash: null });
          await tx.artifacts.put(manifest(repo.id, 'new'), 'v2', 2);
          await tx.tags.put(repo.id, 'v1', (await tx.artifacts.get(repo.id, kept.digest))!.digest, 99);
          expect(await tx.artifacts.delete(repo.id, kept.digest)).toEqual(['v1']);
          await tx.executions.update(e.id, { addCounts: { n: 1 }, status: 'running' });
          await tx.repositories.touch(repo.id, 12_345);
          tx.publish(event(reg));
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await s.registries.getByName(reg)).toBeUndefined();
      expect(await s.users.getByUsername(username)).toBeUndefined();
      expect(await s.artifacts.get(repo.id, kept.digest)).toBeDefined();
      expect(await s.tags.get(repo.id, 'v1')).toMatchObject({ digest: kept.digest, pushedAt: 1 });
      expect(await s.tags.get(repo.id, 'v2')).toBeUndefined();
      expect((await s.artifacts.list({ repositoryId: repo.id, page: 1, perPage: 10 })).total).toBe(1);
      expect(await s.executions.get(e.id)).toEqual(e);
      expect((await s.repositories.getByName(repo.name))?.updatedAt).not.toBe(12_345);
      expect(await eventsAfter(s, cursor)).toEqual([]);
      expect(s.committed.length).toBe(seen);
    });

    it('a store error inside the transaction (CONFLICT) rolls everything back too', async () => {
      const s = stores();
      const { registry } = await newRepo(s);
      const cursor = await outboxEnd(s);
      const username = uniq('user');
      await expectNcr(
        s.uow.transaction(async (tx) => {
          await tx.users.create({ id: uniq('uid'), username, role: 'member', createdAt: 1, hasPassword: false, passwordHash: null });
          tx.publish(event(uniq('reg')));
          await tx.registries.create({ id: uniq('rid'), name: registry, createdAt: 1, createdBy: null, kind: 'standard' });
        }),
        'CONFLICT',
      );
      expect(await s.users.getByUsername(username)).toBeUndefined();
      expect(await eventsAfter(s, cursor)).toEqual([]);
    });

    it('a blob link made inside the transaction commits or rolls back with it', async () => {
      const s = stores();
      const { repo } = await newRepo(s);
      const [kept, dropped] = [digestOf(uniq('kept')), digestOf(uniq('dropped'))];
      await s.uow.transaction(async (tx) => {
        await tx.blobs.link(repo.id, kept, 10, 1);
        expect(await tx.blobs.linkedSize(repo.id, kept)).toBe(10);
      });
      expect(await s.blobs.linkedSize(repo.id, kept)).toBe(10);
      await expect(
        s.uow.transaction(async (tx) => {
          await tx.blobs.link(repo.id, dropped, 20, 1);
          expect(await tx.blobs.linkedSize(repo.id, dropped)).toBe(20);
          throw new Error('undo');
        }),
      ).rejects.toThrow('undo');
      expect(await s.blobs.linkedSize(repo.id, dropped)).toBeUndefined();
    });

    it('lock(key) serialises transactions: two read-then-write increments under one key end at +2', async () => {
      const s = stores();
      const e = execution({ message: '0' });
      await s.executions.create(e);
      let firstRead!: () => void;
      const read = new Promise<void>((r) => (firstRead = r));
      const increment = (hold: number) =>
        s.uow.transaction(async (tx) => {
          await tx.lock(`counter:${e.id}`);
          const n = Number((await tx.executions.get(e.id))!.message);
          firstRead();
          // without the lock the other transaction would read the same n during this pause
          await sleep(hold);
          await tx.executions.update(e.id, { message: String(n + 1) });
        });
      const first = increment(150);
      await read;
      await Promise.all([first, increment(0)]);
      expect((await s.executions.get(e.id))?.message).toBe('2');
    });

    (traits.concurrentTransactions ? it : none)('without the lock the same increments lose one (the check above can fail)', async () => {
      const s = stores();
      const e = execution({ message: '0' });
      await s.executions.create(e);
      const bothRead = barrier(2);
      const increment = () =>
        s.uow.transaction(async (tx) => {
          const n = Number((await tx.executions.get(e.id))!.message);
          await bothRead();
          await tx.executions.update(e.id, { message: String(n + 1) });
        });
      await Promise.all([increment(), increment()]);
      expect((await s.executions.get(e.id))?.message).toBe('1');
    });

    (traits.concurrentTransactions ? it : none)('a transaction that deadlocks is retried: both commit, each change once', async () => {
      const s = stores();
      const e = execution();
      await s.executions.create(e);
      const [k1, k2] = [uniq('lock'), uniq('lock')];
      const bothHoldOne = barrier(2);
      let runs = 0;
      const crossed = (a: string, b: string) =>
        s.uow.transaction(async (tx) => {
          runs++;
          await tx.lock(a);
          await bothHoldOne();
          await tx.lock(b);
          await tx.executions.update(e.id, { addCounts: { n: 1 } });
          tx.publish(event(`${e.id}-${a}`));
        });
      const cursor = await outboxEnd(s);
      await Promise.all([crossed(k1, k2), crossed(k2, k1)]);
      expect(runs).toBe(3);
      expect((await s.executions.get(e.id))?.counts).toEqual({ n: 2 });
      expect((await eventsAfter(s, cursor)).map(registryOf).sort()).toEqual([`${e.id}-${k1}`, `${e.id}-${k2}`].sort());
    });

    it('events of concurrent transactions appear in commit order: a reader advancing its cursor meanwhile sees each once', async () => {
      const s = stores();
      const WRITERS = 6;
      const PER_WRITER = 25;
      const run = uniq('ord');
      const start = await outboxEnd(s);
      const expected = new Set<string>();
      const rolledBack = new Set<string>();

      let writing = true;
      let cursor = start;
      const seen = new Map<string, number>();
      const problems: string[] = [];
      const reader = (async () => {
        for (;;) {
          const last = !writing;
          const batch = await s.events.after(cursor, 50);
          for (const e of batch) {
            if (e.seq <= cursor) problems.push(`seq ${e.seq} after cursor ${cursor}`);
            cursor = e.seq;
            const name = registryOf(e);
            if (!name.startsWith(run)) continue;
            if (seen.has(name)) problems.push(`${name} seen twice`);
            seen.set(name, e.seq);
          }
          if (batch.length === 0) {
            if (last) return;
            await turn();
          }
        }
      })();

      const writer = async (w: number) => {
        for (let i = 0; i < PER_WRITER; i++) {
          const base = `${run}-w${w}-${i}`;
          const fail = (w + i) % 7 === 0;
          try {
            await s.uow.transaction(async (tx) => {
              await tx.registries.create({ id: uniq('rid'), name: base, createdAt: i, createdBy: null, kind: 'standard' });
              tx.publish(event(`${base}-a`));
              tx.publish(event(`${base}-b`, 'RegistryDeleted'));
              if (fail) throw new Error('rolled back on purpose');
            });
            expected.add(`${base}-a`).add(`${base}-b`);
          } catch (err) {
            if (!fail) throw err;
            rolledBack.add(`${base}-a`).add(`${base}-b`);
          }
        }
      };
      try {
        await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
      } finally {
        writing = false;
        await reader;
      }

      expect(problems).toEqual([]);
      expect(rolledBack.size).toBeGreaterThan(0);
      expect([...seen.keys()].filter((n) => rolledBack.has(n))).toEqual([]);
      expect([...expected].filter((n) => !seen.has(n))).toEqual([]);
      expect(seen.size).toBe(expected.size);
      // a transaction's own events stay in published order
      for (const name of expected) if (name.endsWith('-a')) expect(seen.get(name)!).toBeLessThan(seen.get(name.replace(/-a$/, '-b'))!);
    });
  });
}
