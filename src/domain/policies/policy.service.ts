/**
 * Managing a registry's cleanup and protection policies and its cleanup schedule. Every change is one transaction
 * with its (audited) event, under the registry's policy lock, so the limit of 15 and the duplicate check hold under
 * concurrency.
 */
import { randomUUID } from 'node:crypto';
import { NcrError } from '../../oci/errors.js';
import { requireActor } from '../auth/permissions.js';
import type { Clock } from '../clock.js';
import type { Actor, SettingEventType } from '../events.js';
import { nextCronTime, parseCron } from '../queue/cron.js';
import type { Schedule, ScheduleStore } from '../queue/ports.js';
import type { Registry } from '../registry/ports.js';
import type { UnitOfWork } from '../uow.js';
import { describePolicy, fingerprintOf, MAX_POLICIES, validatePolicy, type Policy, type PolicyInput, type PolicyKind } from './model.js';
import type { PolicyStore } from './ports.js';

export interface PolicyStores {
  policies: PolicyStore;
  schedules: ScheduleStore;
}

/** Looks a registry up by name (the core's RegistryService.get); NOT_FOUND when absent. */
export type RegistryLookup = (name: string) => Promise<Registry>;

/** The job kind a registry's cleanup schedule fires, and the schedule's name. */
export const CLEANUP_FIRE_JOB = 'cleanup.fire';
export const cleanupScheduleName = (registryId: string) => `cleanup:${registryId}`;

const VIEW = { cleanup: 'cleanup:view', protection: 'protection:view' } as const;
const CHANGE = { cleanup: 'cleanup:change', protection: 'protection:change' } as const;
const EVENT = {
  cleanup: { created: 'CleanupPolicyCreated', updated: 'CleanupPolicyUpdated', deleted: 'CleanupPolicyDeleted' },
  protection: { created: 'ProtectionPolicyCreated', updated: 'ProtectionPolicyUpdated', deleted: 'ProtectionPolicyDeleted' },
} as const satisfies Record<PolicyKind, Record<string, SettingEventType>>;

/**
 * Policies a new registry of a kind starts with. Image-cache registries (a later capability) will start with "delete
 * all except artifacts pulled within 7 days"; a standard registry starts with none.
 */
export const DEFAULT_POLICIES: Record<string, { kind: PolicyKind; input: PolicyInput }[]> = {
  standard: [],
  cache: [{ kind: 'cleanup', input: { tagFilter: { pattern: '**', untagged: true }, rule: { keep: 'pulledWithinDays', n: 7 } } }],
};

export class PolicyService {
  constructor(
    private readonly store: PolicyStore,
    private readonly schedules: ScheduleStore,
    private readonly uow: UnitOfWork<PolicyStores>,
    private readonly registry: RegistryLookup,
    private readonly clock: Clock,
  ) {}

  async list(registryName: string, kind: PolicyKind, actor: Actor): Promise<Policy[]> {
    requireActor(actor, VIEW[kind], { registry: registryName });
    const reg = await this.registry(registryName);
    return this.store.list(reg.id, kind);
  }

  async get(registryName: string, kind: PolicyKind, id: string, actor: Actor): Promise<Policy> {
    requireActor(actor, VIEW[kind], { registry: registryName });
    const reg = await this.registry(registryName);
    return this.policyIn(reg, kind, id, this.store);
  }

  /** Creates an enabled policy. VALIDATION_FAILED for bad input, LIMIT_EXCEEDED past 15, CONFLICT for a duplicate. */
  async create(registryName: string, kind: PolicyKind, input: PolicyInput, actor: Actor): Promise<Policy> {
    requireActor(actor, CHANGE[kind], { registry: registryName });
    const reg = await this.registry(registryName);
    const fields = validatePolicy(kind, input);
    const p: Policy = { id: randomUUID(), registryId: reg.id, kind, ...fields, enabled: true, createdAt: this.clock.now(), createdBy: actor.username };
    const fingerprint = fingerprintOf(p);
    await this.uow.transaction(async (tx) => {
      await tx.lock(`policies:${reg.id}`);
      const existing = await tx.policies.list(reg.id, kind);
      if (existing.length >= MAX_POLICIES) {
        throw new NcrError('LIMIT_EXCEEDED', `registry ${reg.name} already has ${MAX_POLICIES} ${kind} policies, the most it may have: delete one first`);
      }
      const same = existing.find((e) => fingerprintOf(e) === fingerprint);
      if (same) throw new NcrError('CONFLICT', `registry ${reg.name} already has this ${kind} policy (same image filter, tag filter${kind === 'cleanup' ? ' and rule' : ''}): ${describePolicy(same)}`);
      await tx.policies.insert(p, fingerprint);
      tx.publish({ type: EVENT[kind].created, at: p.createdAt, actor, registry: reg.name, id: p.id, name: describePolicy(p), detail: { imageFilter: p.imageFilter, tagFilter: p.tagFilter, rule: p.rule } });
    });
    return p;
  }

  async setEnabled(registryName: string, kind: PolicyKind, id: string, enabled: boolean, actor: Actor): Promise<Policy> {
    requireActor(actor, CHANGE[kind], { registry: registryName });
    const reg = await this.registry(registryName);
    return this.uow.transaction(async (tx) => {
      await tx.lock(`policies:${reg.id}`);
      const p = await this.policyIn(reg, kind, id, tx.policies);
      if (p.enabled === enabled) return p;
      await tx.policies.setEnabled(id, enabled);
      tx.publish({ type: EVENT[kind].updated, at: this.clock.now(), actor, registry: reg.name, id, name: describePolicy(p), detail: { enabled } });
      return { ...p, enabled };
    });
  }

  async delete(registryName: string, kind: PolicyKind, id: string, actor: Actor): Promise<void> {
    requireActor(actor, CHANGE[kind], { registry: registryName });
    const reg = await this.registry(registryName);
    await this.uow.transaction(async (tx) => {
      await tx.lock(`policies:${reg.id}`);
      const p = await this.policyIn(reg, kind, id, tx.policies);
      await tx.policies.delete(id);
      tx.publish({ type: EVENT[kind].deleted, at: this.clock.now(), actor, registry: reg.name, id, name: describePolicy(p) });
    });
  }

  /** The registry's cleanup schedule, if it has one. */
  async schedule(registryName: string, actor: Actor): Promise<Schedule | undefined> {
    requireActor(actor, 'cleanup:view', { registry: registryName });
    const reg = await this.registry(registryName);
    return this.schedules.get(cleanupScheduleName(reg.id));
  }

  /** Sets (cron, 5 fields, UTC) or removes (null) the registry's cleanup schedule. */
  async setSchedule(registryName: string, cron: string | null, actor: Actor): Promise<Schedule | undefined> {
    requireActor(actor, 'cleanup:change', { registry: registryName });
    const reg = await this.registry(registryName);
    const name = cleanupScheduleName(reg.id);
    const now = this.clock.now();
    let next: Schedule | undefined;
    if (cron !== null) {
      const normalised = parseCron(cron);
      const nextAt = nextCronTime(normalised, now);
      if (nextAt === undefined) throw new NcrError('VALIDATION_FAILED', `cron "${cron}" never fires: pick a date that exists`);
      next = { name, cron: normalised, kind: CLEANUP_FIRE_JOB, payload: { registryId: reg.id, registry: reg.name }, enabled: true, nextAt, lastFiredAt: null };
    }
    await this.uow.transaction(async (tx) => {
      const prev = await tx.schedules.get(name);
      if (next) await tx.schedules.put({ ...next, lastFiredAt: prev?.lastFiredAt ?? null });
      else if (!prev || !(await tx.schedules.delete(name))) return;
      tx.publish({ type: 'CleanupScheduleChanged', at: now, actor, registry: reg.name, id: name, name: 'cleanup schedule', detail: { cron: next?.cron ?? null } });
    });
    return next;
  }

  /** Creates the default policies of a registry kind (DEFAULT_POLICIES) in a new registry. */
  async applyDefaults(registryName: string, registryKind: string, actor: Actor): Promise<Policy[]> {
    const out: Policy[] = [];
    for (const d of DEFAULT_POLICIES[registryKind] ?? []) out.push(await this.create(registryName, d.kind, d.input, actor));
    return out;
  }

  private async policyIn(reg: Registry, kind: PolicyKind, id: string, store: PolicyStore): Promise<Policy> {
    const p = await store.get(id);
    if (!p || p.registryId !== reg.id || p.kind !== kind) throw new NcrError('NOT_FOUND', `registry ${reg.name} has no ${kind} policy ${id}`);
    return p;
  }
}
