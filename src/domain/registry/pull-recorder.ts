/**
 * Records pull times without slowing pulls: pulls are collected in memory (latest per artifact and tag) and written
 * in one batch every `intervalMs`, and once more on close.
 */
import type { ArtifactStore } from './ports.js';

export class PullRecorder {
  private pending = new Map<string, { repositoryId: string; digest: string; tag?: string; at: number }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly artifacts: ArtifactStore,
    private readonly onError: (err: unknown) => void,
    private readonly intervalMs = 1000,
  ) {}

  record(repositoryId: string, digest: string, tag: string | undefined, at: number): void {
    this.pending.set(`${repositoryId}\0${digest}\0${tag ?? ''}`, { repositoryId, digest, tag, at });
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Writes everything recorded so far; resolves when it is stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.flushing = this.flushing.then(() => (batch.length ? this.artifacts.recordPulls(batch).catch(this.onError) : undefined));
    return this.flushing;
  }
}
