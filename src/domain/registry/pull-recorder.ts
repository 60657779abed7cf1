/**
 * Records pulls without slowing them: pulls are collected in memory and written every `intervalMs` (and on close)
 * in one transaction: the latest pull time per artifact and tag, and one ArtifactPulled event per pull into the
 * outbox. A crash loses at most the last interval's pull times and events (pulls are reads; nothing acknowledged
 * is lost).
 */
import type { Actor } from '../events.js';
import type { UnitOfWork } from '../uow.js';
import type { ArtifactStore } from './ports.js';

export interface Pull {
  repositoryId: string;
  repository: string;
  digest: string;
  tag?: string;
  at: number;
  actor: Actor;
}

/** Pulls kept between two writes at most; beyond it pull times still coalesce but further events are dropped. */
const MAX_PENDING_EVENTS = 50_000;

export class PullRecorder {
  private latest = new Map<string, { repositoryId: string; digest: string; tag?: string; at: number }>();
  private pulls: Pull[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly uow: UnitOfWork<{ artifacts: ArtifactStore }>,
    private readonly onError: (err: unknown) => void,
    private readonly intervalMs = 1000,
  ) {}

  record(p: Pull): void {
    this.latest.set(`${p.repositoryId}\0${p.digest}\0${p.tag ?? ''}`, { repositoryId: p.repositoryId, digest: p.digest, tag: p.tag, at: p.at });
    if (this.pulls.length < MAX_PENDING_EVENTS) this.pulls.push(p);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Writes everything recorded so far; resolves when it is stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const latest = [...this.latest.values()];
    const pulls = this.pulls;
    this.latest = new Map();
    this.pulls = [];
    if (latest.length === 0) return this.flushing;
    this.flushing = this.flushing.then(() =>
      this.uow
        .transaction(async (tx) => {
          await tx.artifacts.recordPulls(latest);
          for (const p of pulls) tx.publish({ type: 'ArtifactPulled', at: p.at, actor: p.actor, repository: p.repository, digest: p.digest, tag: p.tag });
        })
        .catch(this.onError),
    );
    return this.flushing;
  }
}
