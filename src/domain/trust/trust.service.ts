/**
 * Image trust: a registry's (and the global) public keys, each artifact's signatures and whether one of those keys
 * verifies them (the console's Authentication column), and the pull policy "only verified images can be pulled".
 *
 * Statuses: `verified` (a registered key verifies a cosign signature or Sigstore bundle of exactly this digest),
 * `invalid` (a signature is there but broken: tampered payload, signs another digest), `unverified` (signed, but no
 * registered key verifies it; also keyless bundles and Notary signatures, which ncr recognises but does not verify),
 * `unsigned`.
 */
import { createHash, randomUUID, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { NcrError } from '../../oci/errors.js';
import { parseManifest } from '../../oci/manifest.js';
import { requireActor } from '../auth/permissions.js';
import type { Clock } from '../clock.js';
import type { Actor } from '../events.js';
import type { PullGuard, Registry } from '../registry/ports.js';
import type { UnitOfWork } from '../uow.js';
import { parsePublicKey } from './cosign-key.js';
import type { TrustKey, TrustStore } from './ports.js';
import { checkBundle, isSignatureBundle, parseBundle } from './bundle.js';
import { accessoryKind, checkSimpleSignature, isSignature, SIGSTORE_BUNDLE_PREFIX, simpleSignatures, type AccessoryKind, type ManifestLike, type SignatureCheck } from './signatures.js';

export type TrustStatus = 'verified' | 'invalid' | 'unverified' | 'unsigned';

export interface SignatureView {
  digest: string;
  kind: AccessoryKind;
  status: Exclude<TrustStatus, 'unsigned'>;
  keyName: string | null;
  reason: string | null;
  signedAt: number;
}
export interface TrustView {
  status: TrustStatus;
  /** names of the keys that verify it */
  keys: string[];
  signatures: SignatureView[];
  /** attestations and SBOMs: accessories that are not signatures */
  attestations: { digest: string; kind: AccessoryKind; at: number }[];
}

/** What the trust capability reads of the registry core (wired in app.ts). */
export interface SubjectReads {
  accessories(repoName: string, digest: string): Promise<{ digest: string; mediaType: string; content: Uint8Array; tags: string[]; pushedAt: number }[]>;
  bytes(repoName: string, digest: string, maxBytes: number): Promise<Uint8Array>;
  /** indexes in the repository listing this manifest */
  parents(repoName: string, digest: string): Promise<string[]>;
  /** the stored manifest and its tags */
  manifest(repoName: string, digest: string): Promise<{ content: Uint8Array; mediaType: string; tags: string[] } | undefined>;
}

const MAX_PAYLOAD = 64 * 1024;
/** a bundle with a certificate chain and log entries is a few KiB */
const MAX_BUNDLE = 1024 * 1024;
const RANK: Record<TrustStatus, number> = { verified: 3, invalid: 2, unverified: 1, unsigned: 0 };

export class TrustService {
  /** registries whose pull policy requires verified signatures, refreshed from the database */
  private requiring = new Set<string>();
  private refreshedAt = 0;
  private readonly cache = new LRUCache<string, TrustView>({ max: 10_000, ttl: 10_000 });

  constructor(
    private readonly store: TrustStore,
    private readonly uow: UnitOfWork<{ trust: TrustStore }>,
    private readonly registry: (name: string) => Promise<Registry>,
    private readonly reads: SubjectReads,
    private readonly clock: Clock,
    private readonly refreshMs = 5_000,
  ) {}

  // --- keys --------------------------------------------------------------------------------------------------------

  async keys(registryName: string | null, actor: Actor): Promise<TrustKey[]> {
    const reg = await this.scope(registryName, actor, 'view');
    return this.store.keys(reg?.id ?? null, false);
  }

  async addKey(registryName: string | null, input: { name?: string; pem?: string }, actor: Actor): Promise<TrustKey> {
    const reg = await this.scope(registryName, actor, 'change');
    const name = (input.name ?? '').trim();
    if (!/^[A-Za-z0-9][A-Za-z0-9._ -]{0,62}$/.test(name)) throw new NcrError('VALIDATION_FAILED', 'name: 1 to 63 letters, digits, spaces, dots, dashes or underscores, starting with a letter or digit');
    const { key, algorithm } = parsePublicKey(input.pem ?? '');
    const der = key.export({ format: 'der', type: 'spki' });
    const k: TrustKey = {
      id: randomUUID(),
      registryId: reg?.id ?? null,
      name,
      pem: key.export({ format: 'pem', type: 'spki' }).toString(),
      algorithm,
      fingerprint: createHash('sha256').update(der).digest('hex'),
      createdAt: this.clock.now(),
      createdBy: actor.username,
    };
    await this.uow.transaction(async (tx) => {
      await tx.trust.insert(k);
      tx.publish({ type: 'TrustKeyAdded', at: k.createdAt, actor, registry: reg?.name ?? '(global)', id: k.id, name: k.name, detail: { algorithm, fingerprint: k.fingerprint } });
    });
    this.cache.clear();
    return k;
  }

  async deleteKey(registryName: string | null, id: string, actor: Actor): Promise<void> {
    const reg = await this.scope(registryName, actor, 'change');
    await this.uow.transaction(async (tx) => {
      const k = await tx.trust.get(id);
      if (!k || k.registryId !== (reg?.id ?? null)) throw new NcrError('NOT_FOUND', `${reg ? `registry ${reg.name}` : 'the global key list'} has no key ${id}`);
      await tx.trust.delete(id);
      tx.publish({ type: 'TrustKeyDeleted', at: this.clock.now(), actor, registry: reg?.name ?? '(global)', id, name: k.name });
    });
    this.cache.clear();
  }

  // --- pull policy -------------------------------------------------------------------------------------------------

  async policy(registryName: string, actor: Actor): Promise<{ requireVerified: boolean }> {
    const reg = await this.scope(registryName, actor, 'view');
    return { requireVerified: await this.store.requireVerified(reg!.id) };
  }

  async setPolicy(registryName: string, requireVerified: boolean, actor: Actor): Promise<{ requireVerified: boolean }> {
    const reg = (await this.scope(registryName, actor, 'change'))!;
    await this.uow.transaction(async (tx) => {
      await tx.trust.setRequireVerified(reg.id, requireVerified, this.clock.now());
      tx.publish({ type: 'TrustPolicyChanged', at: this.clock.now(), actor, registry: reg.name, id: reg.id, name: 'pull policy', detail: { requireVerified } });
    });
    await this.refresh();
    return { requireVerified };
  }

  /** Re-reads which registries require verified images (after a policy change on any node, and every few seconds). */
  async refresh(): Promise<void> {
    this.requiring = new Set(await this.store.registriesRequiringVerified());
    this.refreshedAt = this.clock.now();
    this.cache.clear();
  }

  /** Drops cached statuses (a signature was pushed or deleted somewhere). */
  forget(): void {
    // clear() costs the cache's whole capacity (lru-cache refills its arrays) and this runs on every push: skip it
    // when there is nothing to forget
    if (this.cache.size > 0) this.cache.clear();
  }

  /** The core's pull guard: refuses the manifest of an image without a verified signature where the policy says so. */
  readonly pullGuard: PullGuard = {
    check: async (repoName, digest) => {
      const registry = repoName.slice(0, repoName.indexOf('/'));
      if (Math.abs(this.clock.now() - this.refreshedAt) > this.refreshMs) await this.refresh().catch(() => undefined);
      if (!this.requiring.has(registry)) return;
      if (await this.isAccessory(repoName, digest)) return; // cosign reading the signatures themselves
      const own = await this.status(repoName, digest);
      if (own.status === 'verified') return;
      for (const parent of await this.reads.parents(repoName, digest)) if ((await this.status(repoName, parent)).status === 'verified') return;
      const keys = await this.store.keys((await this.registry(registry)).id, true);
      const needed = keys.length ? `a cosign signature verified by one of the registry's keys (${keys.map((k) => k.name).join(', ')})` : 'a cosign signature, and a public key registered to verify it (none is registered yet)';
      throw new NcrError('PULL_REFUSED', `registry ${registry} serves only verified images: ${repoName}@${digest} is ${own.status === 'unsigned' ? 'not signed' : own.status === 'invalid' ? `signed, but the signature is invalid (${own.signatures.find((s) => s.status === 'invalid')?.reason})` : 'signed, but not verified'}; it needs ${needed}`, {
        detail: { status: own.status, keys: keys.map((k) => k.name) },
      });
    },
  };

  // --- status ------------------------------------------------------------------------------------------------------

  /** The artifact's signatures and how they verify (cached for a few seconds; content is immutable). */
  async status(repoName: string, digest: string): Promise<TrustView> {
    const key = `${repoName}@${digest}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const registry = repoName.slice(0, repoName.indexOf('/'));
    const reg = await this.registry(registry).catch(() => undefined);
    const keys = reg ? await this.store.keys(reg.id, true) : [];
    const parsedKeys = keys.map((k) => ({ id: k.id, name: k.name, key: parsePublicKey(k.pem).key }));
    const view: TrustView = { status: 'unsigned', keys: [], signatures: [], attestations: [] };
    for (const acc of await this.reads.accessories(repoName, digest)) {
      let m;
      try {
        m = parseManifest(acc.content, acc.mediaType);
      } catch {
        continue;
      }
      const kind = accessoryKind(m as never, acc.tags);
      if (!kind) continue;
      if (!isSignature(kind)) {
        view.attestations.push({ digest: acc.digest, kind, at: acc.pushedAt });
        continue;
      }
      if (kind === 'sigstore-bundle') {
        const b = await this.bundleCheck(repoName, digest, m as ManifestLike, parsedKeys);
        if (b === 'attestation') view.attestations.push({ digest: acc.digest, kind: 'attestation', at: acc.pushedAt });
        else view.signatures.push({ digest: acc.digest, kind, status: b.status, keyName: b.status === 'verified' ? parsedKeys.find((k) => k.id === b.keyId)!.name : null, reason: 'reason' in b ? b.reason : null, signedAt: acc.pushedAt });
        continue;
      }
      if (kind !== 'cosign') {
        view.signatures.push({ digest: acc.digest, kind, status: 'unverified', keyName: null, reason: `${kind} signatures are recognised but not verified by ncr`, signedAt: acc.pushedAt });
        continue;
      }
      const sigs = simpleSignatures(m as never);
      if (sigs.length === 0) view.signatures.push({ digest: acc.digest, kind, status: 'invalid', keyName: null, reason: 'the signature manifest has no signed payload', signedAt: acc.pushedAt });
      for (const sig of sigs) {
        let payload: Uint8Array;
        try {
          payload = await this.reads.bytes(repoName, sig.payloadDigest, MAX_PAYLOAD);
        } catch (err) {
          view.signatures.push({ digest: acc.digest, kind, status: 'invalid', keyName: null, reason: `its payload cannot be read: ${(err as Error).message}`, signedAt: acc.pushedAt });
          continue;
        }
        const check = checkSimpleSignature(sig, payload, digest, parsedKeys);
        const keyName = check.status === 'verified' ? parsedKeys.find((k) => k.id === check.keyId)!.name : null;
        view.signatures.push({ digest: acc.digest, kind, status: check.status, keyName, reason: 'reason' in check ? check.reason : null, signedAt: acc.pushedAt });
      }
    }
    for (const s of view.signatures) if (RANK[s.status] > RANK[view.status]) view.status = s.status;
    view.keys = [...new Set(view.signatures.filter((s) => s.keyName).map((s) => s.keyName!))];
    this.cache.set(key, view);
    return view;
  }

  /** A Sigstore bundle referrer: its bundle layer read, parsed and checked; 'attestation' when it is not a signature. */
  private async bundleCheck(repoName: string, digest: string, m: ManifestLike, keys: { id: string; key: KeyObject }[]): Promise<SignatureCheck | 'attestation'> {
    const layer = (m.layers ?? []).find((l) => l.mediaType?.startsWith(SIGSTORE_BUNDLE_PREFIX));
    if (!layer) return { status: 'invalid', reason: 'the bundle manifest has no bundle layer' };
    let parsed;
    try {
      parsed = parseBundle(await this.reads.bytes(repoName, layer.digest, MAX_BUNDLE));
    } catch (err) {
      return { status: 'invalid', reason: `its bundle cannot be read: ${(err as Error).message}` };
    }
    if (!isSignatureBundle(parsed)) return 'attestation';
    const subjectBytes = parsed.content === 'message' ? (await this.reads.manifest(repoName, digest))?.content : undefined;
    return checkBundle(parsed, digest, subjectBytes, keys);
  }

  /** Whether the manifest is itself an accessory (a signature, attestation or SBOM), which the pull policy lets through. */
  private async isAccessory(repoName: string, digest: string): Promise<boolean> {
    const stored = await this.reads.manifest(repoName, digest);
    if (!stored) return false;
    try {
      const m = parseManifest(stored.content, stored.mediaType);
      return m.subject !== undefined || accessoryKind(m as never, stored.tags) !== undefined;
    } catch {
      return false;
    }
  }

  private async scope(registryName: string | null, actor: Actor, what: 'view' | 'change'): Promise<Registry | undefined> {
    if (registryName === null) {
      if (what === 'change') requireActor(actor, 'trust:global');
      return undefined;
    }
    requireActor(actor, what === 'view' ? 'trust:view' : 'trust:change', { registry: registryName });
    return this.registry(registryName);
  }
}
