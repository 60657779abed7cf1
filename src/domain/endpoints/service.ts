/**
 * Remote registry endpoints: create, change, delete (refused while something uses one), check (Refresh), and the OCI
 * client for one, signed in the way its kind wants. Secrets are sealed at rest and never leave this service except
 * as the credentials of an outbound request. Every change is an audited event.
 */
import { randomUUID } from 'node:crypto';
import { NcrError } from '../../oci/errors.js';
import { requireActor } from '../auth/permissions.js';
import type { Clock } from '../clock.js';
import type { Actor } from '../events.js';
import type { OciRemote } from '../outbound/oci-remote.js';
import type { UnitOfWork } from '../uow.js';
import { credentialsOf } from './credentials.js';
import { apiUrlOf, checkCredentials, PROVIDERS, remoteRepository, validateInput, type Endpoint, type EndpointInput, type ProviderType } from './model.js';
import type { EcrTokenSource, EndpointStore, EndpointStores, EndpointUsage, RemoteFactory, SecretBox, StoredEndpoint } from './ports.js';

/** What the API shows of an endpoint: the secret only as set or not. */
export type EndpointView = Endpoint & { secretSet: boolean; status: 'unchecked' | 'reachable' | 'unreachable' };

/** An endpoint's client, and how ncr's repository paths map to the remote's. */
export interface RemoteHandle {
  endpoint: EndpointView;
  remote: OciRemote;
  /** the remote's path for a repository path (Docker Hub: official images under library/) */
  repository(path: string): string;
}

export interface EndpointSettings {
  /** the guide's "ports 80 and 443" rule is lifted (with the address guard) when private networks are allowed */
  allowPrivateNetworks: boolean;
}

/** A client is kept per endpoint version; ECR's tokens are renewed this long before they expire. */
const RENEW_BEFORE_MS = 15 * 60_000;

export class EndpointService {
  private readonly usages: EndpointUsage[] = [];
  private readonly clients = new Map<string, { version: number; expiresAt: number; handle: RemoteHandle }>();

  constructor(
    private readonly store: EndpointStore,
    private readonly uow: UnitOfWork<EndpointStores>,
    private readonly box: SecretBox,
    private readonly remotes: RemoteFactory,
    private readonly ecr: EcrTokenSource,
    private readonly clock: Clock,
    private readonly settings: EndpointSettings,
  ) {}

  /** A capability that refers to endpoints says who uses one; deletion is refused while anyone does. */
  addUsage(u: EndpointUsage): void {
    this.usages.push(u);
  }

  providers() {
    return PROVIDERS;
  }

  async list(actor: Actor): Promise<EndpointView[]> {
    requireActor(actor, 'endpoint:view', {});
    return (await this.store.list()).map(view);
  }

  async get(idOrName: string, actor: Actor): Promise<EndpointView> {
    requireActor(actor, 'endpoint:view', {});
    return view(await this.stored(idOrName));
  }

  async create(input: EndpointInput, actor: Actor): Promise<EndpointView> {
    requireActor(actor, 'endpoint:change', {});
    const v = validateInput(input, true, this.settings.allowPrivateNetworks);
    const secret = v.secret ?? null;
    const accessId = checkCredentials(v.provider!, v.accessId ?? null, secret);
    const now = this.clock.now();
    const e: StoredEndpoint = {
      id: randomUUID(),
      name: v.name!,
      description: v.description ?? '',
      provider: v.provider!,
      url: v.url!,
      accessId,
      caPem: v.caPem ?? null,
      secretSealed: secret === null ? null : this.box.seal(secret),
      createdAt: now,
      createdBy: actor.username,
      updatedAt: now,
      checkedAt: null,
      checkError: null,
    };
    await this.uow.transaction(async (tx) => {
      await tx.endpoints.create(e);
      tx.publish({ type: 'EndpointCreated', at: now, actor, id: e.id, name: e.name, detail: detailOf(e) });
    });
    return view(e);
  }

  async update(idOrName: string, input: EndpointInput, actor: Actor): Promise<EndpointView> {
    requireActor(actor, 'endpoint:change', {});
    const v = validateInput(input, false, this.settings.allowPrivateNetworks);
    const now = this.clock.now();
    const next = await this.uow.transaction(async (tx) => {
      const cur = await this.stored(idOrName, tx.endpoints);
      const provider: ProviderType = v.provider ?? cur.provider;
      // the credentials are checked again when any part of them changes; an unchanged secret stays sealed
      let accessId = v.accessId !== undefined ? v.accessId : cur.accessId;
      let secretSealed = cur.secretSealed;
      if (v.secret !== undefined) {
        accessId = checkCredentials(provider, accessId, v.secret);
        secretSealed = v.secret === null ? null : this.box.seal(v.secret);
      } else if (v.accessId !== undefined || v.provider !== undefined) {
        const fixed = PROVIDERS[provider].fixedAccessId;
        if (fixed && secretSealed !== null) accessId = fixed;
        if (secretSealed !== null && accessId === null) throw new NcrError('VALIDATION_FAILED', 'a secret needs an access id: give accessId, or clear the secret with secret: null');
      }
      const e: StoredEndpoint = {
        ...cur,
        ...(v.name !== undefined ? { name: v.name } : {}),
        ...(v.description !== undefined ? { description: v.description } : {}),
        ...(v.url !== undefined ? { url: v.url } : {}),
        ...(v.caPem !== undefined ? { caPem: v.caPem } : {}),
        provider,
        accessId,
        secretSealed,
        updatedAt: now,
        // what was checked is no longer what is configured
        checkedAt: null,
        checkError: null,
      };
      await tx.endpoints.update(e);
      tx.publish({ type: 'EndpointUpdated', at: now, actor, id: e.id, name: e.name, detail: { changed: Object.keys(v), ...detailOf(e) } });
      return e;
    });
    this.clients.delete(next.id);
    return view(next);
  }

  async delete(idOrName: string, actor: Actor): Promise<void> {
    requireActor(actor, 'endpoint:change', {});
    const e = await this.stored(idOrName);
    const users = (await Promise.all(this.usages.map((u) => u(e.id)))).flat();
    if (users.length) throw new NcrError('CONFLICT', `endpoint ${e.name} is in use by ${users.join(', ')}: change or delete those first`);
    await this.uow.transaction(async (tx) => {
      if (!(await tx.endpoints.delete(e.id))) throw notFound(idOrName);
      tx.publish({ type: 'EndpointDeleted', at: this.clock.now(), actor, id: e.id, name: e.name });
    });
    this.clients.delete(e.id);
  }

  /** Refresh: asks the remote's API root with the credentials; records and returns the outcome (never throws for it). */
  async check(idOrName: string, actor: Actor): Promise<EndpointView> {
    requireActor(actor, 'endpoint:change', {});
    const e = await this.stored(idOrName);
    let error: string | null = null;
    try {
      await (await this.remote(e.id)).remote.ping();
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const at = this.clock.now();
    await this.store.recordCheck(e.id, at, error);
    return view({ ...e, checkedAt: at, checkError: error });
  }

  /**
   * The client for an endpoint, for capabilities acting as the system (no permission check here: the caller has
   * checked its own). NOT_FOUND when it is gone. Clients are reused until the endpoint changes or ECR's token ages.
   */
  async remote(id: string): Promise<RemoteHandle> {
    const e = await this.store.get(id);
    if (!e) throw notFound(id);
    const now = this.clock.now();
    const kept = this.clients.get(id);
    if (kept && kept.version === e.updatedAt && kept.expiresAt > now) return kept.handle;
    const secret = e.secretSealed === null ? null : this.open(e);
    const { credentials, expiresAt } = await credentialsOf(e, secret, this.ecr);
    const remote = this.remotes({ url: apiUrlOf(e), credentials, ...(e.caPem ? { caPem: e.caPem } : {}) });
    const handle: RemoteHandle = { endpoint: view(e), remote, repository: (path) => remoteRepository(e, path) };
    this.clients.set(id, { version: e.updatedAt, expiresAt: expiresAt ? expiresAt - RENEW_BEFORE_MS : Number.POSITIVE_INFINITY, handle });
    return handle;
  }

  private open(e: StoredEndpoint): string {
    try {
      return this.box.open(e.secretSealed!);
    } catch {
      throw new NcrError('UNAVAILABLE', `endpoint ${e.name}: its secret was sealed under another key (auth.signingKey.encryptionKey changed): set the secret again`);
    }
  }

  private async stored(idOrName: string, store: EndpointStore = this.store): Promise<StoredEndpoint> {
    const e = (await store.get(idOrName)) ?? (await store.getByName(idOrName));
    if (!e) throw notFound(idOrName);
    return e;
  }
}

const notFound = (idOrName: string) => new NcrError('NOT_FOUND', `endpoint ${idOrName} does not exist`);

function view(e: StoredEndpoint): EndpointView {
  const { secretSealed, ...rest } = e;
  return { ...rest, secretSet: secretSealed !== null, status: e.checkedAt === null ? 'unchecked' : e.checkError === null ? 'reachable' : 'unreachable' };
}

/** What the audit log keeps of a change: never the secret. */
function detailOf(e: StoredEndpoint): Record<string, unknown> {
  return { provider: e.provider, url: e.url, accessId: e.accessId, secretSet: e.secretSealed !== null, caPem: e.caPem !== null };
}
