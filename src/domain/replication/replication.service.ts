/**
 * Replication: rules that copy a registry's images to a remote registry (an endpoint), automatically on every push
 * (from the outbox, through the job queue) and on demand ("Run Replication"). Each run is an execution whose tasks are
 * the artifacts (copied / skipped because the target has the same digest / failed, with bytes and duration).
 *
 * - Auto: a push, tag creation or tag move in the source registry that the rule's filters select becomes one run for
 *   that artifact, coalesced per artifact (a singleton job key), so events never pile up runs.
 * - Manual: every artifact the filters select; one active manual run per rule.
 * - Deleting at the source never deletes at the target: only pushes and tag changes are replicated.
 * - An index is copied whole (children first) and signatures and other referrers (cosign's `sha256-<hex>.sig` tags,
 *   OCI 1.1 referrers) travel with their subject; a signature pushed later replicates its subject's accessories.
 * - A run whose node dies is resumed by the job's next attempt (finished artifacts are not copied again); one whose
 *   job is gone is marked failed by ExecutionService.reconcile. Never stuck running.
 */
import { randomUUID } from 'node:crypto';
import { isNcrError, NcrError } from '../../oci/errors.js';
import { requireActor } from '../auth/permissions.js';
import type { Clock } from '../clock.js';
import type { EndpointInput } from '../endpoints/model.js';
import type { EndpointService } from '../endpoints/service.js';
import type { Actor, StoredEvent } from '../events.js';
import type { Execution, ExecutionTask } from '../executions/ports.js';
import type { ExecutionService } from '../executions/service.js';
import type { Page, PageRequest } from '../pagination.js';
import type { JobQueue } from '../queue/queue.js';
import type { BlobService } from '../registry/blob.service.js';
import type { ManifestService } from '../registry/manifest.service.js';
import type { RegistryService } from '../registry/registry.service.js';
import type { UnitOfWork } from '../uow.js';
import { ReplicationCopier } from './copier.js';
import { describeRule, selectorOf, statusOf, validateRule, type ReplicationRule, type RuleInput, type RuleStatus } from './model.js';
import type { ReplicationStore, ReplicationStores } from './ports.js';

export const REPLICATION_KIND = 'replication';
export const REPLICATION_RUN_JOB = 'replication.run';
export const REPLICATION_CHECK_JOB = 'replication.check';
/** the domain events auto replication follows */
export const REPLICATION_SOURCE_EVENTS = ['ArtifactPushed', 'TagCreated', 'TagMoved'] as const;
/** a run whose node died is resumed by another attempt, up to this many in all */
const MAX_ATTEMPTS = 3;
/** the repository the write check starts an upload in when the source has no image the rule selects */
const CHECK_IMAGE = 'ncr-replication-check';

const SYSTEM: Actor = { userId: null, username: 'replication' };

export type RuleView = ReplicationRule & { status: RuleStatus; statusReason: string | null; endpoint: string; filters: string };

export interface RunPayload {
  executionId: string;
  ruleId: string;
  /** an auto run: the one artifact (its repository and the tag or digest the event named) */
  artifact?: { repository: string; reference: string };
}

export interface ReplicationDeps {
  store: ReplicationStore;
  uow: UnitOfWork<ReplicationStores>;
  registries: RegistryService;
  manifests: ManifestService;
  blobs: BlobService;
  endpoints: EndpointService;
  executions: ExecutionService;
  queue: JobQueue;
  clock: Clock;
}

export class ReplicationService {
  private readonly copier: ReplicationCopier;
  /** `repo:tag@digest` of tagged pushes just handed on: the TagCreated/TagMoved of the same push adds no run */
  private readonly recentPushes = new Set<string>();

  constructor(private readonly d: ReplicationDeps) {
    this.copier = new ReplicationCopier(d.manifests, d.blobs, d.registries);
  }

  // ---- rules ------------------------------------------------------------------------------------------------------

  async list(registry: string, actor: Actor): Promise<RuleView[]> {
    requireActor(actor, 'replication:view', { registry });
    const reg = await this.d.registries.get(registry);
    return Promise.all((await this.d.store.list(reg.id)).map((r) => this.view(r)));
  }

  async get(registry: string, idOrName: string, actor: Actor): Promise<RuleView> {
    requireActor(actor, 'replication:view', { registry });
    return this.view(await this.rule(registry, idOrName));
  }

  /**
   * Creates a rule (Disabled until its target is checked: a check job is queued at once). `endpoint` is an existing
   * endpoint's id or name, or the settings of a new one, created for the rule (and deleted again if the rule is not).
   */
  async create(registry: string, input: RuleInput & { endpoint: string | EndpointInput }, actor: Actor): Promise<RuleView> {
    requireActor(actor, 'replication:change', { registry });
    const reg = await this.d.registries.get(registry);
    const v = validateRule({ targetRegistry: reg.name, ...input }, true);
    let created: string | undefined;
    let endpointId: string;
    if (typeof input.endpoint === 'string') {
      endpointId = (await this.d.endpoints.get(input.endpoint, actor)).id;
    } else if (input.endpoint && typeof input.endpoint === 'object') {
      endpointId = created = (await this.d.endpoints.create(input.endpoint, actor)).id;
    } else {
      throw new NcrError('VALIDATION_FAILED', 'endpoint: the target endpoint\'s id or name, or a new endpoint\'s settings ({ name, provider, url, accessId, secret })');
    }
    const now = this.d.clock.now();
    const r: ReplicationRule = {
      id: randomUUID(),
      registryId: reg.id,
      registry: reg.name,
      name: v.name!,
      description: v.description ?? '',
      endpointId,
      targetRegistry: v.targetRegistry!,
      imageFilter: v.imageFilter ?? null,
      tagFilter: v.tagFilter ?? null,
      enabled: v.enabled ?? true,
      createdAt: now,
      createdBy: actor.username,
      updatedAt: now,
      checkedAt: null,
      checkError: null,
    };
    try {
      await this.d.uow.transaction(async (tx) => {
        await tx.replication.create(r);
        tx.publish({ type: 'ReplicationRuleCreated', at: now, actor, registry: reg.name, id: r.id, name: r.name, detail: detailOf(r) });
      });
    } catch (err) {
      if (created) await this.d.endpoints.delete(created, actor).catch(() => undefined);
      throw err;
    }
    await this.queueCheck(r.id);
    return this.view(r);
  }

  /** Changes the fields given; a change of target or endpoint checks the target again (Disabled meanwhile). */
  async update(registry: string, idOrName: string, input: RuleInput & { endpoint?: string }, actor: Actor): Promise<RuleView> {
    requireActor(actor, 'replication:change', { registry });
    const v = validateRule(input, false);
    const endpointId = input.endpoint === undefined ? undefined : (await this.d.endpoints.get(input.endpoint, actor)).id;
    const cur = await this.rule(registry, idOrName);
    const retarget = (endpointId !== undefined && endpointId !== cur.endpointId) || (v.targetRegistry !== undefined && v.targetRegistry !== cur.targetRegistry);
    const next: ReplicationRule = {
      ...cur,
      ...v,
      ...(endpointId ? { endpointId } : {}),
      updatedAt: this.d.clock.now(),
      ...(retarget ? { checkedAt: null, checkError: null } : {}),
    } as ReplicationRule;
    await this.d.uow.transaction(async (tx) => {
      await tx.replication.update(next);
      tx.publish({ type: 'ReplicationRuleUpdated', at: next.updatedAt, actor, registry: cur.registry, id: cur.id, name: next.name, detail: { changed: Object.keys(input), ...detailOf(next) } });
    });
    if (retarget) await this.queueCheck(cur.id);
    return this.view(next);
  }

  /** Deletes the rule (its history stays until it ages out); what it copied stays at the target. */
  async delete(registry: string, idOrName: string, actor: Actor): Promise<void> {
    requireActor(actor, 'replication:change', { registry });
    const r = await this.rule(registry, idOrName);
    await this.d.uow.transaction(async (tx) => {
      if (!(await tx.replication.delete(r.id))) throw notFound(registry, idOrName);
      tx.publish({ type: 'ReplicationRuleDeleted', at: this.d.clock.now(), actor, registry: r.registry, id: r.id, name: r.name });
    });
  }

  /** Refresh: checks the target now (reachable, credentials accepted, an upload can start) and returns the new status. */
  async refresh(registry: string, idOrName: string, actor: Actor): Promise<RuleView> {
    requireActor(actor, 'replication:change', { registry });
    const r = await this.rule(registry, idOrName);
    return this.view(await this.check(r.id));
  }

  /** The check itself (the check job and Refresh); records and returns the outcome, never throws for it. */
  async check(ruleId: string): Promise<ReplicationRule> {
    const r = await this.d.store.get(ruleId);
    if (!r) throw new NcrError('NOT_FOUND', `replication rule ${ruleId} does not exist`);
    let error: string | null = null;
    try {
      const h = await this.d.endpoints.remote(r.endpointId);
      await h.remote.ping();
      await h.remote.checkWritable(h.repository(`${r.targetRegistry}/${await this.checkImage(r)}`));
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const at = this.d.clock.now();
    await this.d.store.recordCheck(r.id, at, error);
    return { ...r, checkedAt: at, checkError: error };
  }

  /** Who uses an endpoint (the endpoints capability refuses its deletion while a rule does). */
  async usage(endpointId: string): Promise<string[]> {
    return (await this.d.store.listByEndpoint(endpointId)).map((r) => `replication rule ${r.registry}/${r.name}`);
  }

  // ---- runs ---------------------------------------------------------------------------------------------------------

  /** Run Replication: copies every artifact the rule selects. CONFLICT while one of its manual runs is active. */
  async start(registry: string, idOrName: string, actor: Actor): Promise<Execution> {
    requireActor(actor, 'replication:change', { registry });
    const r = await this.rule(registry, idOrName);
    const s = statusOf(r);
    if (s.status !== 'enabled') throw new NcrError('CONFLICT', `replication ${r.name} is Disabled (${s.statusReason}): turn it on or click Refresh first`);
    await this.d.executions.reconcile({ kind: REPLICATION_KIND, subject: r.id });
    return this.d.executions.start({
      kind: REPLICATION_KIND,
      jobKind: REPLICATION_RUN_JOB,
      trigger: 'manual',
      subject: r.id,
      params: { registry: r.registry, rule: r.name, target: await this.targetOf(r), filters: describeRule(r) },
      payload: { ruleId: r.id },
      actor,
      job: { singletonKey: `replication:${r.id}`, maxAttempts: MAX_ATTEMPTS },
    });
  }

  /** Replication History: the rule's runs (manual and automatic), newest first. Runs whose job died end as failed. */
  async history(registry: string, idOrName: string, q: PageRequest & { status?: Execution['status'] }, actor: Actor): Promise<Page<Execution>> {
    requireActor(actor, 'replication:view', { registry });
    const r = await this.rule(registry, idOrName);
    await this.d.executions.reconcile({ kind: REPLICATION_KIND, subject: r.id });
    return this.d.executions.list({ ...q, kind: REPLICATION_KIND, subject: r.id });
  }

  /** One run's artifacts (copied / skipped / failed, with the reason, bytes and duration in each task's detail). */
  async tasks(registry: string, idOrName: string, executionId: string, q: PageRequest & { status?: ExecutionTask['status'] }, actor: Actor): Promise<Page<ExecutionTask>> {
    requireActor(actor, 'replication:view', { registry });
    const r = await this.rule(registry, idOrName);
    await this.execution(r, executionId);
    return this.d.executions.tasks(executionId, q);
  }

  /** Stops a queued or running run of the rule; a run that has ended is returned as it is. */
  async stop(registry: string, idOrName: string, executionId: string, actor: Actor): Promise<Execution> {
    requireActor(actor, 'replication:change', { registry });
    const r = await this.rule(registry, idOrName);
    const e = await this.execution(r, executionId);
    if (e.status !== 'queued' && e.status !== 'running') return e;
    return this.d.executions.stop(executionId).catch(async (err: unknown) => {
      // it ended meanwhile
      if (isNcrError(err) && err.code === 'CONFLICT') return this.d.executions.get(executionId);
      throw err;
    });
  }

  /**
   * The outbox subscriber: a push or tag change that an enabled rule of its registry selects becomes a run for that
   * artifact. Coalesced: while a run for the same artifact is queued, nothing is added; while one is running, at most
   * one more is queued (it copies what the tag names when it runs).
   */
  async onEvent(stored: StoredEvent): Promise<void> {
    const e = stored.event;
    if (e.type !== 'ArtifactPushed' && e.type !== 'TagCreated' && e.type !== 'TagMoved') return;
    if (e.type === 'ArtifactPushed' && e.tag) this.remember(`${e.repository}:${e.tag}@${e.digest}`);
    else if (e.type !== 'ArtifactPushed' && this.recentPushes.delete(`${e.repository}:${e.tag}@${e.digest}`)) return;
    const slash = e.repository.indexOf('/');
    const registry = e.repository.slice(0, slash);
    const image = e.repository.slice(slash + 1);
    let rules = (await this.d.store.listByRegistryName(registry)).filter((r) => statusOf(r).status === 'enabled' && selectorOf(r).image(image));
    const tag = e.tag;
    // a push by digest alone: a referrer stands for its subject; anything else (an index's platform manifest) travels
    // with what refers to it, unless the rule copies untagged artifacts
    if (rules.length > 0 && tag === undefined && !(await this.copier.isReferrer(e.repository, e.digest))) rules = rules.filter((r) => r.tagFilter?.untagged === true);
    if (rules.length === 0) return;
    const reference = tag ?? e.digest;
    for (const r of rules) {
      const key = `replication:${r.id}:${e.repository}:${reference}`;
      for (const singletonKey of [key, `${key}:next`]) {
        try {
          await this.d.executions.start({
            kind: REPLICATION_KIND,
            jobKind: REPLICATION_RUN_JOB,
            trigger: 'event',
            subject: r.id,
            params: { registry: r.registry, rule: r.name, target: await this.targetOf(r), artifact: `${e.repository}${tag ? `:${tag}` : `@${e.digest}`}`, event: e.type },
            payload: { ruleId: r.id, artifact: { repository: e.repository, reference } },
            actor: SYSTEM,
            job: { singletonKey, maxAttempts: MAX_ATTEMPTS },
          });
          break;
        } catch (err) {
          if (!(isNcrError(err) && err.code === 'CONFLICT')) throw err;
          if (singletonKey !== key) break; // one queued behind the running one already: it will copy this too
          const running = await this.d.executions.get(String((err.detail as { executionId?: string } | undefined)?.executionId ?? '')).catch(() => undefined);
          if (!running || running.status !== 'running') break; // still queued: it will copy this
        }
      }
    }
  }

  /**
   * The job: does the run, or resumes it (a run already running when its node died). Returns without ending the run
   * when `signal` aborts without a stop request (this node is shutting down: the job's next attempt resumes it).
   */
  async execute(p: RunPayload, signal: AbortSignal): Promise<void> {
    const run = await this.d.executions.run(p.executionId);
    if (run.execution.status !== 'queued' && run.execution.status !== 'running') return;
    if (run.execution.status === 'queued') await run.begin();
    const r = await this.d.store.get(p.ruleId);
    let status: 'succeeded' | 'failed' | 'stopped' = 'succeeded';
    let message: string | undefined;
    try {
      if (!r) throw new NcrError('NOT_FOUND', `replication rule ${p.ruleId} was deleted`);
      const handle = await this.d.endpoints.remote(r.endpointId);
      const items = p.artifact ? await this.copier.eventItems(r, p.artifact) : await this.copier.allItems(r);
      // a resumed run: what finished is not copied again, a task left running is taken up again
      const earlier = await this.earlierTasks(run.id);
      if (run.execution.counts.artifacts === undefined) await run.count({ artifacts: items.length });
      let mountFrom: string | undefined;
      for (const item of items) {
        const subject = `${item.repository}@${item.digest}`;
        const before = earlier.get(subject);
        if (before && before.status !== 'running' && before.status !== 'pending') continue;
        if (signal.aborted || (await run.stopRequested())) {
          if (!(await run.stopRequested())) return; // shutting down: resumed by the next attempt
          status = 'stopped';
          message = 'stopped on request; artifacts not yet copied were left';
          break;
        }
        const taskId = before?.id ?? (await run.addTasks([{ subject, status: 'running', detail: { image: item.image, digest: item.digest, tags: item.tags } }]))[0];
        const targetRepo = handle.repository(`${r.targetRegistry}/${item.image}`);
        const outcome = await this.copier.copyItem(item, handle, targetRepo, mountFrom);
        if (outcome.outcome !== 'failed') mountFrom = targetRepo;
        await run.task(taskId!, {
          status: outcome.outcome === 'failed' ? 'failed' : outcome.outcome === 'skipped' ? 'skipped' : 'succeeded',
          message: outcome.message,
          detail: { image: item.image, digest: item.digest, tags: item.tags, target: `${handle.endpoint.name}: ${targetRepo}`, ...outcome },
        });
        await run.count({ [outcome.outcome]: 1, bytes: outcome.bytes });
      }
      const failed = (await this.d.executions.get(run.id)).counts.failed ?? 0;
      if (status === 'succeeded' && failed > 0) {
        status = 'failed';
        message = `${failed} artifact(s) could not be copied: see the failed ones for the reason`;
      }
    } catch (err) {
      status = 'failed';
      message = err instanceof Error ? err.message : String(err);
    }
    const counts = (await this.d.executions.get(run.id)).counts;
    await run.end(status, message ?? `${counts.copied ?? 0} copied, ${counts.skipped ?? 0} already at the target`);
    await this.d.uow.transaction(async (tx) => {
      tx.publish({
        type: 'ReplicationRunFinished',
        at: this.d.clock.now(),
        actor: SYSTEM,
        registry: r?.registry ?? String((run.execution.params as { registry?: string } | null)?.registry ?? ''),
        name: r?.name ?? String((run.execution.params as { rule?: string } | null)?.rule ?? ''),
        ruleId: p.ruleId,
        executionId: run.id,
        trigger: run.execution.trigger,
        target: String((run.execution.params as { target?: string } | null)?.target ?? ''),
        status,
        counts,
      });
    });
  }

  // ---- internals ------------------------------------------------------------------------------------------------------

  /** The tasks of earlier attempts of this run, by subject. */
  private async earlierTasks(executionId: string): Promise<Map<string, ExecutionTask>> {
    const out = new Map<string, ExecutionTask>();
    for (let page = 1; ; page++) {
      const p = await this.d.executions.tasks(executionId, { page, perPage: 100 });
      for (const t of p.items) out.set(t.subject, t);
      if (page * 100 >= p.total || p.items.length === 0) break;
    }
    return out;
  }

  private async checkImage(r: ReplicationRule): Promise<string> {
    const sel = selectorOf(r);
    const images = await this.d.registries.images(r.registry, { page: 1, perPage: 100 }).catch(() => undefined);
    const first = images?.items.map((x) => x.name.slice(r.registry.length + 1)).find((i) => sel.image(i));
    return first ?? CHECK_IMAGE;
  }

  private async queueCheck(ruleId: string): Promise<void> {
    await this.d.queue.enqueue({ kind: REPLICATION_CHECK_JOB, payload: { ruleId }, singletonKey: `replication.check:${ruleId}`, maxAttempts: 1 });
  }

  private async targetOf(r: ReplicationRule): Promise<string> {
    const e = await this.d.endpoints.get(r.endpointId, SYSTEM).catch(() => undefined);
    return `${e?.name ?? r.endpointId}: ${e?.url ?? ''}/${r.targetRegistry}`;
  }

  private async view(r: ReplicationRule): Promise<RuleView> {
    const e = await this.d.endpoints.get(r.endpointId, SYSTEM).catch(() => undefined);
    return { ...r, ...statusOf(r), endpoint: e?.name ?? r.endpointId, filters: describeRule(r) };
  }

  private async rule(registry: string, idOrName: string): Promise<ReplicationRule> {
    const reg = await this.d.registries.get(registry);
    const r = (await this.d.store.getByName(reg.id, idOrName)) ?? (await this.d.store.get(idOrName));
    if (!r || r.registryId !== reg.id) throw notFound(registry, idOrName);
    return r;
  }

  private async execution(r: ReplicationRule, executionId: string): Promise<Execution> {
    const e = await this.d.executions.get(executionId);
    if (e.kind !== REPLICATION_KIND || e.subject !== r.id) throw new NcrError('NOT_FOUND', `execution ${executionId} is not a run of replication ${r.registry}/${r.name}`);
    return e;
  }

  private remember(key: string) {
    this.recentPushes.add(key);
    if (this.recentPushes.size > 10_000) this.recentPushes.delete(this.recentPushes.values().next().value!);
  }
}

const notFound = (registry: string, idOrName: string) => new NcrError('NOT_FOUND', `replication ${idOrName} does not exist in registry ${registry}`);

/** What the audit log keeps of a rule. */
function detailOf(r: ReplicationRule): Record<string, unknown> {
  return { endpointId: r.endpointId, targetRegistry: r.targetRegistry, imageFilter: r.imageFilter, tagFilter: r.tagFilter, enabled: r.enabled };
}
