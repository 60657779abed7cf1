/**
 * A registry's replications (the guide's "Replicate a Container Image"): rules copying its images to an endpoint,
 * Refresh, Run Replication, the history (runs and, per run, each artifact copied / skipped / failed), stop. Also the
 * endpoints a rule can target (or create on the way).
 */
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, query, seg } from './client';
import { useApiMutation } from './mutation';
import type { NameFilter, TagFilter } from './policies';
import type { Page } from './types';

export interface Replication {
  id: string;
  registry: string;
  name: string;
  description: string;
  endpointId: string;
  /** the endpoint's name */
  endpoint: string;
  targetRegistry: string;
  imageFilter: NameFilter | null;
  tagFilter: TagFilter | null;
  /** the filters in words */
  filters: string;
  enabled: boolean;
  status: 'enabled' | 'disabled';
  statusReason: string | null;
  checkedAt: string | null;
  checkError: string | null;
  createdAt: string;
  createdBy: string | null;
}

export interface Endpoint {
  id: string;
  name: string;
  provider: string;
  url: string;
  status: 'unchecked' | 'reachable' | 'unreachable';
}

export interface Provider {
  provider: string;
  title: string;
  urlExample: string;
  accessId: string;
  secret: string;
}

export interface NewEndpoint {
  name: string;
  provider: string;
  url: string;
  accessId?: string;
  secret?: string;
}

export interface ReplicationInput {
  name: string;
  endpoint: string | NewEndpoint;
  targetRegistry?: string;
  imageFilter?: NameFilter | null;
  tagFilter?: TagFilter | null;
  description?: string;
}

export interface ReplicationRun {
  id: string;
  trigger: 'manual' | 'event' | string;
  status: string;
  params: { artifact?: string; target?: string; filters?: string } | null;
  counts: { artifacts?: number; copied?: number; skipped?: number; failed?: number; bytes?: number };
  message: string | null;
  createdBy: string | null;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  stopRequested: boolean;
}

export interface ReplicationTask {
  id: string;
  subject: string;
  status: string;
  message: string | null;
  detail: { image?: string; digest?: string; tags?: string[]; outcome?: 'copied' | 'skipped' | 'failed'; bytes?: number; durationMs?: number; target?: string; accessories?: number } | null;
}

export const isActive = (e: Pick<ReplicationRun, 'status'>) => e.status === 'queued' || e.status === 'running';

const base = (registry: string) => `/registries/${seg(registry)}/replications`;
const one = (registry: string, rule: string) => `${base(registry)}/${seg(rule)}`;

export function useReplications(registry: string) {
  return useQuery({
    queryKey: ['replications', registry],
    queryFn: () => api<{ items: Replication[] }>('GET', base(registry)),
    // a new rule turns Enabled once its target is checked: look again for a while
    refetchInterval: (q) => (q.state.data?.items.some((r) => r.enabled && !r.checkedAt) ? 2000 : false),
  });
}

export function useEndpoints() {
  return useQuery({ queryKey: ['endpoints'], queryFn: () => api<{ items: Endpoint[] }>('GET', '/endpoints') });
}

export function useProviders() {
  return useQuery({ queryKey: ['endpoint-providers'], queryFn: () => api<{ items: Provider[] }>('GET', '/endpoint-providers'), staleTime: Infinity });
}

export function useCreateReplication(registry: string) {
  return useApiMutation<ReplicationInput, Replication>({
    fn: (body) => api<Replication>('POST', base(registry), body),
    invalidate: [['replications', registry], ['endpoints']],
    success: (r) => `Replication ${r.name} created. It turns Enabled once ${r.endpoint} is checked reachable and writable.`,
  });
}

export function useRefreshReplication(registry: string) {
  return useApiMutation<string, Replication>({
    fn: (rule) => api<Replication>('POST', `${one(registry, rule)}/check`),
    invalidate: [['replications', registry]],
    success: (r) => (r.status === 'enabled' ? `${r.name} is Enabled: the target is reachable and writable.` : `${r.name} is Disabled: ${r.statusReason ?? ''}`),
    notifyError: true,
  });
}

export function useSetReplicationEnabled(registry: string) {
  return useApiMutation<{ rule: string; enabled: boolean }, Replication>({
    fn: ({ rule, enabled }) => api<Replication>('PATCH', one(registry, rule), { enabled }),
    invalidate: [['replications', registry]],
    notifyError: true,
  });
}

export function useDeleteReplication(registry: string) {
  return useApiMutation<string, void>({
    fn: (rule) => api<void>('DELETE', one(registry, rule)),
    invalidate: [['replications', registry]],
    success: () => 'Replication deleted. What it copied stays at the target.',
  });
}

export function useRunReplication(registry: string) {
  return useApiMutation<string, ReplicationRun>({
    fn: (rule) => api<ReplicationRun>('POST', `${one(registry, rule)}/run`),
    invalidate: [['replication-runs', registry]],
  });
}

/** Replication History, newest first; refreshed every 2 s while a run is queued or running, else every 5 s (pushes add runs). */
export function useReplicationRuns(registry: string, rule: string, p: { page: number; perPage: number }) {
  return useQuery({
    queryKey: ['replication-runs', registry, rule, p],
    queryFn: () => api<Page<ReplicationRun>>('GET', `${one(registry, rule)}/executions${query(p)}`),
    placeholderData: keepPreviousData,
    refetchInterval: (q) => (q.state.data?.items.some(isActive) ? 2000 : 5000),
  });
}

export function useReplicationTasks(registry: string, rule: string, run: string, status: string | undefined, p: { page: number; perPage: number }) {
  const active = status === 'queued' || status === 'running';
  return useQuery({
    queryKey: ['replication-tasks', registry, rule, run, status, p],
    queryFn: () => api<Page<ReplicationTask>>('GET', `${one(registry, rule)}/executions/${seg(run)}/tasks${query(p)}`),
    placeholderData: keepPreviousData,
    refetchInterval: active ? 2000 : false,
  });
}

export function useStopReplicationRun(registry: string, rule: string) {
  return useApiMutation<string, ReplicationRun>({
    fn: (run) => api<ReplicationRun>('POST', `${one(registry, rule)}/executions/${seg(run)}/stop`),
    invalidate: [['replication-runs', registry, rule]],
    success: () => 'Stop requested: artifacts not yet copied are left.',
    notifyError: true,
  });
}
