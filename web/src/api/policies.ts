/**
 * A registry's image cleanup and image protection: policies, test runs and runs, the cleanup cycle (cron, UTC) and
 * the history (executions and their tasks, one task per artifact with its verdict).
 */
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, query, seg } from './client';
import { useApiMutation } from './mutation';
import type { Page } from './types';

export type PolicyKind = 'cleanup' | 'protection';
export type PatternSyntax = 'glob' | 'regex';
export type FilterMode = 'matching' | 'excluding';
export type KeepKind = 'latestPushed' | 'latestPulled' | 'pushedWithinDays' | 'pulledWithinDays' | 'nothing';

export interface NameFilter {
  pattern: string;
  syntax: PatternSyntax;
  mode: FilterMode;
}

export interface TagFilter extends NameFilter {
  /** also selects artifacts without any tag */
  untagged: boolean;
}

export interface KeepRule {
  keep: KeepKind;
  /** how many artifacts (latest…) or days (…WithinDays); absent for "nothing" */
  n?: number;
}

export interface Policy {
  id: string;
  kind: PolicyKind;
  imageFilter: NameFilter;
  tagFilter: TagFilter;
  /** cleanup only */
  rule: KeepRule | null;
  enabled: boolean;
  /** the server's one-line description, as the history names a policy */
  description: string;
  createdAt: string;
  createdBy: string | null;
}

export interface PolicyInput {
  imageFilter: NameFilter;
  tagFilter: TagFilter;
  rule?: KeepRule;
}

export type ExecutionStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'stopped';

export interface ExecutionCounts {
  artifacts?: number;
  kept?: number;
  protected?: number;
  deleted?: number;
  wouldDelete?: number;
  failed?: number;
  deletedBytes?: number;
}

export interface CleanupExecution {
  id: string;
  /** GET /executions/{id} has no dryRun of its own: it is in its params */
  params?: { dryRun?: boolean } | null;
  trigger: 'manual' | 'schedule' | 'event' | string;
  status: ExecutionStatus | string;
  dryRun: boolean;
  counts: ExecutionCounts;
  message: string | null;
  createdBy: string | null;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
}

export type Verdict = 'KEEP' | 'DELETE' | 'PROTECTED';

export interface CleanupTask {
  id: string;
  /** "registry/image@sha256:…" */
  subject: string;
  status: 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'stopped' | string;
  message: string | null;
  detail: {
    verdict: Verdict;
    image: string;
    digest: string;
    tags: string[];
    size: number;
    pushedAt: string;
    pulledAt: string;
    policy: string | null;
    reason: string;
  } | null;
}

export interface CleanupSchedule {
  /** 5 fields, UTC; null: no cycle */
  cron: string | null;
  nextAt: string | null;
  lastFiredAt: string | null;
}

/** At most this many policies of each kind per registry (the guide's limit; the server enforces it). */
export const MAX_POLICIES = 15;

const base = (registry: string) => `/registries/${seg(registry)}`;
const path = (registry: string, kind: PolicyKind) => `${base(registry)}/${kind}-policies`;

export const isActive = (e: Pick<CleanupExecution, 'status'>) => e.status === 'queued' || e.status === 'running';

export function usePolicies(registry: string, kind: PolicyKind) {
  return useQuery({ queryKey: ['policies', registry, kind], queryFn: () => api<{ items: Policy[] }>('GET', path(registry, kind)) });
}

export function useCreatePolicy(registry: string, kind: PolicyKind) {
  return useApiMutation<PolicyInput, Policy>({
    fn: (body) => api<Policy>('POST', path(registry, kind), body),
    invalidate: [['policies', registry, kind]],
    success: () => (kind === 'cleanup' ? 'Cleanup policy added and enabled. It counts from the next run.' : 'Protection policy added and enabled: what it covers cannot be deleted.'),
  });
}

export function useSetPolicyEnabled(registry: string, kind: PolicyKind) {
  return useApiMutation<{ id: string; enabled: boolean }, Policy>({
    fn: ({ id, enabled }) => api<Policy>('PATCH', `${path(registry, kind)}/${seg(id)}`, { enabled }),
    invalidate: [['policies', registry, kind]],
    success: (p) => `${kind === 'cleanup' ? 'Cleanup' : 'Protection'} policy ${p.enabled ? 'enabled' : 'disabled'}.`,
    notifyError: true,
  });
}

export function useDeletePolicy(registry: string, kind: PolicyKind) {
  return useApiMutation<string, void>({
    fn: (id) => api<void>('DELETE', `${path(registry, kind)}/${seg(id)}`),
    invalidate: [['policies', registry, kind]],
    success: () => `${kind === 'cleanup' ? 'Cleanup' : 'Protection'} policy deleted.`,
  });
}

/** Test run (dryRun) or Run Immediately: the server queues the run and answers with its execution. */
export function useStartCleanup(registry: string) {
  return useApiMutation<{ dryRun: boolean }, CleanupExecution>({
    fn: ({ dryRun }) => api<CleanupExecution>('POST', `${base(registry)}/cleanup/${dryRun ? 'test-run' : 'run'}`),
    invalidate: [['cleanup-executions', registry]],
  });
}

export function useCleanupSchedule(registry: string) {
  return useQuery({ queryKey: ['cleanup-schedule', registry], queryFn: () => api<CleanupSchedule>('GET', `${base(registry)}/cleanup/schedule`) });
}

export function useSetCleanupSchedule(registry: string) {
  return useApiMutation<string | null, CleanupSchedule>({
    fn: (cron) => api<CleanupSchedule>('PUT', `${base(registry)}/cleanup/schedule`, { cron }),
    invalidate: [['cleanup-schedule', registry]],
    success: (s) => (s.cron ? `Cleanup cycle set: ${s.cron} (UTC).` : 'Cleanup cycle removed: cleanup runs only when started.'),
  });
}

/** The history, newest first; refreshed every 2 s while a run on this page is queued or running. */
export function useCleanupExecutions(registry: string, p: { page: number; perPage: number }) {
  return useQuery({
    queryKey: ['cleanup-executions', registry, p],
    queryFn: () => api<Page<CleanupExecution>>('GET', `${base(registry)}/cleanup/executions${query(p)}`),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.items.some(isActive) ? 2000 : false),
  });
}

export function useExecution(id: string | undefined) {
  return useQuery({
    queryKey: ['execution', id],
    queryFn: async () => {
      const e = await api<CleanupExecution>('GET', `/executions/${seg(id!)}`);
      return { ...e, dryRun: e.dryRun ?? Boolean(e.params?.dryRun) };
    },
    enabled: Boolean(id),
    refetchInterval: (q) => (q.state.data && isActive(q.state.data) ? 2000 : false),
  });
}

/** The artifacts of a run with their verdicts; `status` (the run's) is part of the key, so a run's end refetches them. */
export function useExecutionTasks(id: string | undefined, p: { page: number; perPage: number }, status: string | undefined) {
  const active = status === 'queued' || status === 'running';
  return useQuery({
    queryKey: ['execution-tasks', id, status, p],
    queryFn: () => api<Page<CleanupTask>>('GET', `/executions/${seg(id!)}/tasks${query(p)}`),
    enabled: Boolean(id),
    placeholderData: keepPreviousData,
    refetchInterval: active ? 2000 : false,
  });
}

export function useStopExecution(registry: string) {
  return useApiMutation<string, CleanupExecution>({
    fn: (id) => api<CleanupExecution>('POST', `/executions/${seg(id)}/stop`),
    invalidate: [['cleanup-executions', registry], ['execution']],
    success: () => 'Stop requested: artifacts not yet deleted are left.',
    notifyError: true,
  });
}
