/**
 * Image cleanup runs: a test run (dry run) or a real run of a registry's enabled cleanup policies, started by hand or
 * by the registry's schedule, executed as a job and recorded as an execution whose tasks are the artifacts judged
 * (verdict KEEP / DELETE / PROTECTED and the deciding policy in each task's detail).
 *
 * A run works from the policies as they were when it began (a policy added or removed meanwhile counts from the next
 * run). Deleting goes through the registry core (artifact with its tags, referrers and unshared index children), so
 * protection is checked again at the moment of each delete.
 */
import { NcrError } from '../../oci/errors.js';
import { requireActor } from '../auth/permissions.js';
import type { Clock } from '../clock.js';
import type { Actor } from '../events.js';
import type { Execution } from '../executions/ports.js';
import type { ExecutionService } from '../executions/service.js';
import type { ManifestService } from '../registry/manifest.service.js';
import type { RegistryService } from '../registry/registry.service.js';
import type { UnitOfWork } from '../uow.js';
import { evaluateCleanup, type ImageFacts, type Judgement } from './cleanup.evaluate.js';
import { describePolicy, type Policy } from './model.js';
import type { PolicyStore } from './ports.js';
import { protectionOf } from './protection.js';

export const CLEANUP_RUN_JOB = 'cleanup.run';
export const CLEANUP_KIND = 'cleanup';

export interface CleanupPayload {
  executionId: string;
  registryId: string;
  registry: string;
  dryRun: boolean;
}

/** Who deletes in a cleanup run (the audit log's actor): the system, on the policies' behalf. */
const CLEANUP_ACTOR: Actor = { userId: null, username: 'cleanup' };

export class CleanupService {
  constructor(
    private readonly store: PolicyStore,
    private readonly registries: RegistryService,
    private readonly manifests: ManifestService,
    private readonly executions: ExecutionService,
    private readonly events: UnitOfWork<object>,
    private readonly clock: Clock,
  ) {}

  /** Starts a run (or test run) now. A real run while another real run of the registry is active is CONFLICT. */
  async start(registryName: string, dryRun: boolean, actor: Actor, trigger: Execution['trigger'] = 'manual'): Promise<Execution> {
    requireActor(actor, 'cleanup:run', { registry: registryName });
    const reg = await this.registries.get(registryName);
    if (!dryRun) {
      await this.executions.reconcile({ kind: CLEANUP_KIND, subject: reg.name });
      for (const status of ['queued', 'running'] as const) {
        const active = await this.executions.list({ kind: CLEANUP_KIND, subject: reg.name, status, page: 1, perPage: 50 });
        const real = active.items.find((e) => !(e.params as { dryRun?: boolean } | null)?.dryRun);
        if (real) throw new NcrError('CONFLICT', `a cleanup of ${reg.name} is already ${status} (execution ${real.id}): wait for it or stop it`);
      }
    }
    const payload: Omit<CleanupPayload, 'executionId'> = { registryId: reg.id, registry: reg.name, dryRun };
    return this.executions.start({ kind: CLEANUP_KIND, jobKind: CLEANUP_RUN_JOB, trigger, subject: reg.name, params: { dryRun }, payload, actor });
  }

  /** The job: judge every artifact, record the verdicts, and (unless a test run) delete what is DELETE. */
  async execute(p: CleanupPayload, signal?: AbortSignal): Promise<void> {
    const run = await this.executions.run(p.executionId);
    if (run.execution.status !== 'queued') return; // a retried job whose run already ended or began elsewhere
    await run.begin();
    let status: 'succeeded' | 'failed' | 'stopped' = 'succeeded';
    let message: string | undefined;
    const counts = { artifacts: 0, kept: 0, protected: 0, deleted: 0, wouldDelete: 0, failed: 0, deletedBytes: 0 };
    try {
      const reg = await this.registries.get(p.registry).catch(() => undefined);
      if (!reg || reg.id !== p.registryId) throw new NcrError('NOT_FOUND', `registry ${p.registry} no longer exists`);
      const policies = (await this.store.list(reg.id, 'cleanup')).filter((x) => x.enabled);
      const protection = protectionOf(await this.store.enabledByRegistryName(reg.name, 'protection'));
      const images = await this.imageFacts(reg.name);
      const judgements = evaluateCleanup(policies, protection, images, this.clock.now());
      const byId = new Map<string, Policy>([...policies, ...(await this.store.list(reg.id, 'protection'))].map((x) => [x.id, x]));
      const tasks = await run.addTasks(
        judgements.map((j) => ({
          subject: `${reg.name}/${j.image}@${j.digest}`,
          status: j.verdict === 'DELETE' ? (p.dryRun ? 'succeeded' : 'pending') : 'skipped',
          message: j.verdict === 'DELETE' && p.dryRun ? `would delete: ${j.reason}` : j.reason,
          detail: detailOf(j, byId),
        })),
      );
      counts.artifacts = judgements.length;
      counts.kept = judgements.filter((j) => j.verdict === 'KEEP').length;
      counts.protected = judgements.filter((j) => j.verdict === 'PROTECTED').length;
      if (p.dryRun) {
        const doomed = judgements.filter((j) => j.verdict === 'DELETE');
        counts.wouldDelete = doomed.length;
        counts.deletedBytes = doomed.reduce((n, j) => n + j.size, 0);
      } else {
        for (let i = 0; i < judgements.length; i++) {
          const j = judgements[i]!;
          if (j.verdict !== 'DELETE') continue;
          if (signal?.aborted || (await run.stopRequested())) {
            status = 'stopped';
            message = 'stopped on request; artifacts not yet deleted were left';
            break;
          }
          const outcome = await this.deleteOne(reg.name, j);
          if (outcome.status === 'deleted') {
            counts.deleted++;
            counts.deletedBytes += j.size;
            await run.task(tasks[i]!, { status: 'succeeded', message: outcome.message, detail: { ...detailOf(j, byId), removed: outcome.removed } });
          } else if (outcome.status === 'protected') {
            counts.protected++;
            await run.task(tasks[i]!, { status: 'skipped', message: outcome.message, detail: { ...detailOf(j, byId), verdict: 'PROTECTED' } });
          } else if (outcome.status === 'gone') {
            await run.task(tasks[i]!, { status: 'skipped', message: outcome.message });
          } else {
            counts.failed++;
            await run.task(tasks[i]!, { status: 'failed', message: outcome.message });
          }
        }
        if (status === 'stopped') for (let i = 0; i < judgements.length; i++) if (judgements[i]!.verdict === 'DELETE') await run.task(tasks[i]!, { status: 'stopped' }).catch(() => undefined);
      }
      if (status === 'succeeded' && counts.failed > 0) {
        status = 'failed';
        message = `${counts.failed} artifact(s) could not be deleted: see the failed tasks`;
      }
    } catch (err) {
      status = 'failed';
      message = err instanceof Error ? err.message : String(err);
    }
    await run.count(counts);
    await run.end(status, message ?? (p.dryRun ? `test run: ${counts.wouldDelete} artifact(s) would be deleted, nothing was` : `${counts.deleted} artifact(s) deleted`));
    await this.events.transaction(async (tx) => {
      tx.publish({ type: 'CleanupRunFinished', at: this.clock.now(), actor: CLEANUP_ACTOR, registry: p.registry, executionId: p.executionId, dryRun: p.dryRun, status, counts });
    });
  }

  private async imageFacts(registry: string): Promise<ImageFacts[]> {
    const out: ImageFacts[] = [];
    for (let page = 1; ; page++) {
      const images = await this.registries.images(registry, { page, perPage: 500 });
      for (const repo of images.items) {
        const graph = await this.registries.artifactGraph(repo);
        out.push({
          name: repo.name.slice(registry.length + 1),
          artifacts: graph.map((a) => ({ digest: a.digest, tags: a.tags, pushedAt: a.pushedAt, pulledAt: a.pulledAt, size: a.size + a.totalSize, subjectDigest: a.subjectDigest, children: a.children })),
        });
      }
      if (page * 500 >= images.total || images.items.length === 0) break;
    }
    return out;
  }

  private async deleteOne(registry: string, j: Judgement): Promise<{ status: 'deleted' | 'protected' | 'gone' | 'failed'; message: string; removed?: string[] }> {
    try {
      const repo = await this.registries.image(registry, j.image);
      const removed = await this.manifests.deleteArtifact(repo, j.digest, CLEANUP_ACTOR, { accessories: true });
      return { status: 'deleted', message: removed.length > 1 ? `deleted with ${removed.length - 1} referrer(s) or platform manifest(s)` : 'deleted', removed };
    } catch (err) {
      if (err instanceof NcrError && err.code === 'PROTECTED') return { status: 'protected', message: err.message };
      if (err instanceof NcrError && (err.code === 'MANIFEST_UNKNOWN' || err.code === 'NOT_FOUND')) return { status: 'gone', message: 'already deleted by someone else' };
      return { status: 'failed', message: err instanceof Error ? err.message : String(err) };
    }
  }
}

function detailOf(j: Judgement, policies: Map<string, Policy>): Record<string, unknown> {
  const p = j.policyId ? policies.get(j.policyId) : undefined;
  return {
    verdict: j.verdict,
    image: j.image,
    digest: j.digest,
    tags: j.tags,
    size: j.size,
    pushedAt: new Date(j.pushedAt).toISOString(),
    pulledAt: new Date(j.pulledAt).toISOString(),
    policyId: j.policyId,
    policy: p ? describePolicy(p) : null,
    reason: j.reason,
  };
}
