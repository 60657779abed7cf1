/**
 * Executions: one model for "a run of something" (cleanup, replication, scanning, GC, ...): who started it and how,
 * its status and counts, and its tasks (one per artifact or repository) with their log lines.
 */
import type { Page, PageRequest } from '../pagination.js';

export type ExecutionStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'stopped';
export type ExecutionTrigger = 'manual' | 'schedule' | 'event';
export type TaskStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'stopped';

export interface Execution {
  id: string;
  /** e.g. cleanup, gc, replication, scan */
  kind: string;
  trigger: ExecutionTrigger;
  status: ExecutionStatus;
  /** what it ran on, e.g. a registry name; null for system-wide runs */
  subject: string | null;
  /** the run's parameters as given (e.g. { dryRun: true }) */
  params: unknown;
  /** counters kept by the run, e.g. { examined, deleted, failed, bytesFreed } */
  counts: Record<string, number>;
  message: string | null;
  createdBy: string | null;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  /** set when someone asked it to stop */
  stopRequested: boolean;
  jobId: string | null;
}

export interface ExecutionTask {
  id: string;
  executionId: string;
  /** e.g. `team/app@sha256:...` or a repository name */
  subject: string;
  status: TaskStatus;
  message: string | null;
  /** structured outcome, e.g. { verdict: 'DELETE', policy: '...' } */
  detail: unknown;
  log: string[];
  startedAt: number | null;
  endedAt: number | null;
}

export interface ExecutionStore {
  create(e: Execution): Promise<void>;
  get(id: string): Promise<Execution | undefined>;
  list(q: { kind?: string; subject?: string; status?: ExecutionStatus } & PageRequest): Promise<Page<Execution>>;
  /** Applies the patch; `counts` entries are added to the stored counters (so parallel tasks can report). */
  update(id: string, patch: Partial<Pick<Execution, 'status' | 'message' | 'startedAt' | 'endedAt' | 'stopRequested' | 'jobId'>> & { addCounts?: Record<string, number> }): Promise<void>;
  addTasks(tasks: ExecutionTask[]): Promise<void>;
  updateTask(id: string, patch: Partial<Pick<ExecutionTask, 'status' | 'message' | 'detail' | 'startedAt' | 'endedAt'>> & { appendLog?: string[] }): Promise<void>;
  tasks(executionId: string, q: { status?: TaskStatus } & PageRequest): Promise<Page<ExecutionTask>>;
  /** Deletes executions (and their tasks) that ended before `before`; returns how many. */
  purge(before: number): Promise<number>;
}
