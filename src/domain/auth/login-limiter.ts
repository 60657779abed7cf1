/**
 * Counts failed logins per client address and per key, across every node (the failures live in the database);
 * too many in the window → TOOMANYREQUESTS until the oldest of them leaves the window.
 */
import { NcrError } from '../../oci/errors.js';
import type { Clock } from '../clock.js';
import type { LoginFailureStore } from './ports.js';

export class LoginLimiter {
  constructor(
    private readonly store: LoginFailureStore,
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly clock: Clock,
  ) {}

  /** Throws TOOMANYREQUESTS (detail.retryAfterSeconds) when the address or the key has failed too often recently. */
  async check(addr: string, key?: string): Promise<void> {
    const keys = this.keys(addr, key);
    const now = this.clock.now();
    const recent = await this.store.recent(keys, now - this.windowMs);
    for (const k of keys) {
      const r = recent.get(k);
      if (r && r.count >= this.limit) {
        const retry = Math.max(1, Math.ceil((r.oldest + this.windowMs - now) / 1000));
        throw new NcrError('TOOMANYREQUESTS', `too many failed logins from this ${k.startsWith('a:') ? 'address' : 'key'}: wait ${retry} s and check the access key and secret key`, {
          detail: { retryAfterSeconds: retry },
        });
      }
    }
  }

  async fail(addr: string, key?: string): Promise<void> {
    const now = this.clock.now();
    await this.store.add(this.keys(addr, key), now, now - this.windowMs);
  }

  private keys(addr: string, key?: string): string[] {
    return key ? [`a:${addr}`, `k:${key}`] : [`a:${addr}`];
  }
}
