/** Garbage collection (admins): runs with their counts, run now or a dry run, stop, the schedule. */
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, query, seg } from './client';
import { useApiMutation } from './mutation';
import type { Page } from './types';

export type GcStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'stopped';

export interface GcRun {
  id: string;
  trigger: 'manual' | 'schedule' | 'event';
  status: GcStatus;
  params: { dryRun?: boolean; deleteUntagged?: boolean; safeWindowSeconds?: number } | null;
  counts: Record<string, number>;
  message: string | null;
  createdBy: string | null;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  stopRequested: boolean;
}

export interface GcTask {
  id: string;
  subject: string;
  status: string;
  message: string | null;
  detail: { kind?: string; size?: number; error?: string } | null;
}

export interface GcSchedule {
  cron: string | null;
  enabled: boolean;
  deleteUntagged: boolean;
  nextAt: string | null;
  lastFiredAt: string | null;
}

const active = (p?: Page<GcRun>) => Boolean(p?.items.some((r) => r.status === 'queued' || r.status === 'running'));

export function useGcRuns(p: { page: number; perPage: number }) {
  return useQuery({
    queryKey: ['gc', 'runs', p],
    queryFn: () => api<Page<GcRun>>('GET', `/gc${query(p)}`),
    placeholderData: keepPreviousData,
    // progress while a run is under way
    refetchInterval: (q) => (active(q.state.data) ? 1000 : false),
  });
}

export function useGcTasks(id: string | undefined) {
  return useQuery({ queryKey: ['gc', 'tasks', id], enabled: Boolean(id), queryFn: () => api<Page<GcTask>>('GET', `/gc/runs/${seg(id!)}/tasks?perPage=100`) });
}

export function useStartGc() {
  return useApiMutation<{ dryRun: boolean; deleteUntagged: boolean }, GcRun>({
    fn: (body) => api<GcRun>('POST', '/gc/run', body),
    invalidate: [['gc']],
    success: (r) => (r.params?.dryRun ? 'Dry run started: it deletes nothing and lists what a run would delete.' : 'Garbage collection started.'),
    notifyError: true,
  });
}

export function useStopGc() {
  return useApiMutation<string, GcRun>({
    fn: (id) => api<GcRun>('POST', `/gc/runs/${seg(id)}/stop`),
    invalidate: [['gc']],
    success: () => 'Asked the run to stop; it stops after the batch in progress.',
    notifyError: true,
  });
}

export function useGcSchedule() {
  return useQuery({ queryKey: ['gc', 'schedule'], queryFn: () => api<GcSchedule>('GET', '/gc/schedule') });
}

export function useSetGcSchedule() {
  return useApiMutation<{ cron: string | null; deleteUntagged: boolean }, GcSchedule>({
    fn: (body) => api<GcSchedule>('PUT', '/gc/schedule', body),
    invalidate: [['gc', 'schedule']],
    success: (s) => (s.enabled ? `Garbage collection runs on "${s.cron}" (UTC).` : 'Scheduled garbage collection is off.'),
  });
}
