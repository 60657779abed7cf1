/**
 * One writer per upload across every process that shares the storage directory (nodes behind a load balancer on a
 * shared volume, or two processes on one host), where an in-process lock cannot reach.
 *
 * The lock is the file `uploads/<id>.lock`, created with O_EXCL: exactly one creator wins, on local filesystems and on
 * NFSv3+ alike, and nothing native is needed (Node has no flock). Its holder touches it every `staleMs / 3` while it
 * works, so a lock whose mtime is older than `staleMs` belongs to a writer that died (or froze): the next writer
 * breaks it. Breaking happens under a second exclusive file, `<id>.lock-break`, and removes the lock only if it is
 * still the stale one, so two writers that both saw it stale cannot remove each other's fresh lock. (A writer that
 * dies while holding the break guard leaves it for `staleMs` too; two writers racing to break *that* is the one case
 * left unguarded, and needs two crashes on one upload.) A writer holds the lock for one append or one commit, and a
 * writer that finds it held gives up at once: concurrent writers to one session are a client error, not a queue.
 *
 * `staleMs` must exceed the clock skew between the processes (mtimes are set by the holder's clock and read by the
 * breaker's) plus the longest event-loop stall of a holder.
 */
import { futimes } from 'node:fs';
import { rm } from 'node:fs/promises';
import { uploadLockBreakPath, uploadLockPath } from '../paths.js';
import { closeFd, fstatFd, isExists, openFd, statOrUndefined } from './fd.js';

export interface UploadLock {
  /** Removes the lock if it is still this holder's; never rejects (a lock left behind goes stale and is broken). */
  release(): Promise<void>;
}

export class UploadLocks {
  constructor(
    private readonly root: string,
    private readonly staleMs: number,
  ) {}

  /** Takes the upload's lock, or resolves undefined when a live writer holds it. */
  async tryAcquire(id: string): Promise<UploadLock | undefined> {
    const path = uploadLockPath(this.root, id);
    for (let attempt = 0; attempt < 2; attempt++) {
      let fd: number;
      try {
        fd = await openFd(path, 'wx');
      } catch (err) {
        if (!isExists(err)) throw err;
        if (attempt > 0 || !(await this.breakIfStale(id, path))) return undefined;
        continue;
      }
      return new HeldLock(path, fd, this.staleMs);
    }
    return undefined;
  }

  /** Removes what a writer that died may have left of the upload's locks (when the upload itself goes). */
  async removeAll(id: string): Promise<void> {
    await rm(uploadLockPath(this.root, id), { force: true });
    await rm(uploadLockBreakPath(this.root, id), { force: true });
  }

  /** Removes the lock at `path` if its writer is gone; true when the caller may try to take it again. */
  private async breakIfStale(id: string, path: string): Promise<boolean> {
    const seen = await statOrUndefined(path);
    if (!seen) return true; // released meanwhile
    if (Date.now() - seen.mtimeMs < this.staleMs) return false;
    const guardPath = uploadLockBreakPath(this.root, id);
    let guard: number;
    try {
      guard = await openFd(guardPath, 'wx');
    } catch (err) {
      if (!isExists(err)) throw err;
      // someone else is breaking it right now, or died doing so: then its guard goes once stale too
      const g = await statOrUndefined(guardPath);
      if (g && Date.now() - g.mtimeMs >= this.staleMs) await rm(guardPath, { force: true });
      return false;
    }
    try {
      // only the lock we saw stale goes: one taken meanwhile (by whoever broke it first) is live
      const again = await statOrUndefined(path);
      if (again && (again.ino !== seen.ino || Date.now() - again.mtimeMs < this.staleMs)) return false;
      await rm(path, { force: true });
      return true;
    } finally {
      await closeFd(guard).catch(() => undefined);
      await rm(guardPath, { force: true }).catch(() => undefined);
    }
  }
}

class HeldLock implements UploadLock {
  private readonly heartbeat: NodeJS.Timeout;
  /** When the lock's mtime was last set (its creation, then each beat), by this process's clock. */
  private touchedAt = Date.now();

  constructor(
    private readonly path: string,
    private readonly fd: number,
    private readonly staleMs: number,
  ) {
    // a long append (a large chunk over a slow link) keeps its lock fresh; a short one ends before the first beat
    this.heartbeat = setInterval(() => {
      const t = new Date();
      futimes(this.fd, t, t, (err) => {
        if (!err) this.touchedAt = t.getTime();
      });
    }, Math.max(10, Math.floor(staleMs / 3)));
    this.heartbeat.unref();
  }

  async release(): Promise<void> {
    clearInterval(this.heartbeat);
    // A lock touched within half its stale age cannot have been broken (the common case: no extra call). Otherwise
    // this holder stalled, its lock may have been broken (unlinked) and the path may now be another writer's lock:
    // leave that one. Locks are only ever created and unlinked, so a file still linked is this one.
    const mine = Date.now() - this.touchedAt < this.staleMs / 2 || (await fstatFd(this.fd).then((s) => s.nlink > 0, () => false));
    // a lock that cannot be removed is left behind: it goes stale and the next writer breaks it
    await Promise.all([mine ? rm(this.path, { force: true }).catch(() => undefined) : undefined, closeFd(this.fd).catch(() => undefined)]);
  }
}
