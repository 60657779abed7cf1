/**
 * Storage quotas per registry. Usage is what `storageBytes` shows: each blob counted once per registry however many
 * of its images link it, plus the manifests. A blob that would take a registry over its quota is refused (DENIED,
 * naming the quota) before it is linked; one already linked anywhere in the registry costs nothing and always passes.
 * The check is made at each blob's commit (and mount), not under a registry-wide lock: pushes running at the same
 * moment may together overshoot by what they have in flight, never more.
 */
import { LRUCache } from 'lru-cache';
import { NcrError } from '../../oci/errors.js';
import type { Clock } from '../clock.js';
import type { Actor } from '../events.js';
import type { EventListeners } from '../outbox/dispatcher.js';
import type { UnitOfWork } from '../uow.js';
import type { Registry, RegistryCoreStores } from './ports.js';

/** QUOTA_WARNING is sent when a push takes usage to this share of the quota or beyond. */
export const QUOTA_WARNING_RATIO = 0.85;

/** What a caller does once the blob is linked: sends the warning if this push crossed the threshold. */
export type AfterLink = () => Promise<void>;
const NOTHING: AfterLink = async () => undefined;

export class QuotaGate {
  /** registry name → the registry (its quota), for a few seconds; a quota change drops it on every node */
  private readonly registries = new LRUCache<string, { reg: Registry | null }>({ max: 10_000, ttl: 5_000 });

  constructor(
    private readonly stores: Pick<RegistryCoreStores, 'registries' | 'blobs'>,
    private readonly uow: UnitOfWork<RegistryCoreStores>,
    private readonly clock: Clock,
    listeners?: EventListeners,
  ) {
    listeners?.on((e) => void ('registry' in e.event ? this.registries.delete(e.event.registry) : this.registries.clear()), ['RegistryQuotaChanged', 'RegistryDeleted']);
  }

  /**
   * Lets the blob into the repository's registry or refuses it with DENIED (and a QuotaExceeded event). Resolves with
   * what to call after the link, for the warning.
   */
  async admit(repository: { registryId: string; name: string }, digest: string, size: number, actor: Actor): Promise<AfterLink> {
    const registryName = repository.name.split('/')[0]!;
    const reg = await this.registry(registryName);
    const quota = reg?.quotaBytes;
    if (reg === null || quota == null) return NOTHING;
    if (await this.stores.blobs.linkedInRegistry(repository.registryId, digest)) return NOTHING;
    const used = (await this.stores.registries.stats([repository.registryId])).get(repository.registryId)?.storageBytes ?? 0;
    const event = { at: this.clock.now(), actor, registry: registryName, repository: repository.name, digest, size, quotaBytes: quota };
    if (used + size > quota) {
      await this.uow.transaction(async (tx) => tx.publish({ type: 'QuotaExceeded', ...event, usedBytes: used }));
      throw new NcrError(
        'DENIED',
        `registry ${registryName} is over its storage quota: ${fmt(used)} of ${fmt(quota)} used, and this layer (${fmt(size)}) would take it to ${fmt(used + size)}. Delete images (then run garbage collection) or ask an admin to raise the quota`,
        { detail: { registry: registryName, quotaBytes: quota, usedBytes: used, blobBytes: size } },
      );
    }
    const line = quota * QUOTA_WARNING_RATIO;
    if (used >= line || used + size < line) return NOTHING;
    return async () => {
      await this.uow.transaction(async (tx) => tx.publish({ type: 'QuotaWarning', ...event, at: this.clock.now(), usedBytes: used + size }));
    };
  }

  private async registry(name: string): Promise<Registry | null> {
    const kept = this.registries.get(name);
    if (kept) return kept.reg;
    const reg = (await this.stores.registries.getByName(name)) ?? null;
    this.registries.set(name, { reg });
    return reg;
  }
}

function fmt(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
