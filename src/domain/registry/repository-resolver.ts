/** Turns a repository name from a request into a stored repository, with the errors the spec asks for. */
import { isNcrError, NcrError } from '../../oci/errors.js';
import { validateRepositoryName } from '../../oci/reference.js';
import type { Clock } from '../clock.js';
import type { Tx, UnitOfWork } from '../uow.js';
import { LRUCache } from 'lru-cache';
import type { RegistryCoreStores, RegistryKind, Repository } from './ports.js';

/**
 * Checks the name a read (pull, HEAD, list, delete) asks for. A name that breaks the naming rules (e.g. `app`, with
 * no registry) names no repository, so it is NAME_UNKNOWN (404), not NAME_INVALID: the message still says the rule.
 */
export function checkReadName(name: string): void {
  try {
    validateRepositoryName(name);
  } catch (err) {
    if (isNcrError(err) && err.code === 'NAME_INVALID') throw new NcrError('NAME_UNKNOWN', err.message, { cause: err });
    throw err;
  }
}

export class RepositoryResolver {
  private readonly kinds = new LRUCache<string, RegistryKind>({ max: 10_000, ttl: 5_000 });

  constructor(
    private readonly stores: RegistryCoreStores,
    private readonly uow: UnitOfWork<RegistryCoreStores>,
    private readonly clock: Clock,
  ) {}

  /** For reads: the repository must exist (NAME_UNKNOWN when absent, or when no repository can have the name). */
  async forRead(name: string, stores: RegistryCoreStores = this.stores): Promise<Repository> {
    checkReadName(name);
    const repo = await stores.repositories.getByName(name);
    if (!repo) throw new NcrError('NAME_UNKNOWN', `repository ${name} does not exist: push an image to it first`);
    return repo;
  }

  /**
   * For pushes: the registry (first path component) must exist; the repository is created on first push. A user's
   * push into an image cache registry is refused (DENIED); `pulled`: the cache's own write of what it pulled.
   */
  async forPush(name: string, opts: { pulled?: boolean } = {}): Promise<Repository> {
    const { registry } = validateRepositoryName(name);
    if (!opts.pulled) await this.refuseCache(registry, this.stores);
    return (await this.stores.repositories.getByName(name)) ?? this.uow.transaction((tx) => this.forPushIn(tx, name, opts));
  }

  /**
   * forPush inside a transaction: creating the repository takes its registry's lock, so it cannot slip past a
   * concurrent "delete the registry unless it holds images".
   */
  async forPushIn(tx: Tx<RegistryCoreStores>, name: string, opts: { pulled?: boolean } = {}): Promise<Repository> {
    const { registry } = validateRepositoryName(name);
    if (!opts.pulled) await this.refuseCache(registry, tx);
    const existing = await tx.repositories.getByName(name);
    if (existing) return existing;
    const reg = await tx.registries.getByName(registry);
    if (!reg) {
      throw new NcrError('NAME_UNKNOWN', `registry "${registry}" does not exist: create it first (web console, \`ncr registry create ${registry}\` or POST /api/v1/registries), then push again`);
    }
    await tx.lock(`registry:${reg.id}`);
    if (!(await tx.registries.getByName(registry))) throw new NcrError('NAME_UNKNOWN', `registry "${registry}" was just deleted: create it again, then push`);
    return tx.repositories.ensure(reg.id, name, this.clock.now());
  }

  /**
   * DENIED when the registry is an image cache: its images come from its source when pulled, never from a push, a tag
   * or a signature sent here. A registry's kind never changes, so it is remembered (for 5 s: a registry deleted and
   * created again under the same name may change it).
   */
  async refuseCache(registry: string, stores: Pick<RegistryCoreStores, 'registries'> = this.stores): Promise<void> {
    let kind = this.kinds.get(registry);
    if (kind === undefined) {
      kind = (await stores.registries.getByName(registry))?.kind;
      if (kind) this.kinds.set(registry, kind);
    }
    if (kind === 'cache') {
      throw new NcrError('DENIED', `registry "${registry}" is an image cache: its images come from its source registry when they are pulled, and cannot be pushed, tagged or signed here; push to a standard registry instead`, { detail: { registry, kind } });
    }
  }
}
