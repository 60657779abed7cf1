/** Counts failed logins per client address and per key; too many in the window → TOOMANYREQUESTS until it passes. */
import { LRUCache } from 'lru-cache';
import { NcrError } from '../../oci/errors.js';

export class LoginLimiter {
  private readonly failures: LRUCache<string, number[]>;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.failures = new LRUCache({ max: 50_000, ttl: windowMs });
  }

  /** Throws TOOMANYREQUESTS, with detail `{ retryAfterSeconds }`, when the address or the key has failed too often recently. */
  check(addr: string, key?: string): void {
    for (const k of [`a:${addr}`, key ? `k:${key}` : undefined]) {
      if (!k) continue;
      const recent = this.recent(k);
      if (recent.length >= this.limit) {
        const retry = Math.max(1, Math.ceil((recent[0] + this.windowMs - this.now()) / 1000));
        throw new NcrError('TOOMANYREQUESTS', `too many failed logins from this ${k.startsWith('a:') ? 'address' : 'key'}: wait ${retry} s and check the access key and secret key`, {
          detail: { retryAfterSeconds: retry },
        });
      }
    }
  }

  fail(addr: string, key?: string): void {
    for (const k of [`a:${addr}`, key ? `k:${key}` : undefined]) if (k) this.failures.set(k, [...this.recent(k), this.now()]);
  }

  private recent(k: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.failures.get(k) ?? []).filter((t) => t > since);
  }
}
