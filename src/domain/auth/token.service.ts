/**
 * Docker registry tokens: short-lived ES256 JWTs carrying the granted access, and refresh (identity) tokens that
 * live at most 12 hours. Verified tokens are cached briefly so the signature check is not paid per request.
 */
import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../clock.js';
import type { KeyRing } from './key-ring.js';
import type { Access } from './scopes.js';

export interface AccessClaims {
  userId: string;
  accessKeyId?: string;
  access: Access[];
  expiresAt: number;
}

export class TokenService {
  private readonly cache = new LRUCache<string, AccessClaims>({ max: 20_000 });

  constructor(
    private readonly keys: KeyRing,
    private readonly opts: { issuer: string; accessTtlSeconds: number; refreshTtlSeconds: number },
    private readonly clock: Clock,
  ) {}

  get accessTtlSeconds() {
    return this.opts.accessTtlSeconds;
  }

  async issueAccess(service: string, c: { userId: string; accessKeyId?: string; access: Access[] }): Promise<{ token: string; expiresIn: number; issuedAt: Date }> {
    const issuedAt = new Date(this.clock.now());
    const key = await this.keys.current();
    const token = await new SignJWT({ access: c.access, akid: c.accessKeyId })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
      .setIssuer(this.opts.issuer)
      .setSubject(c.userId)
      .setAudience(service)
      .setIssuedAt(issuedAt)
      .setNotBefore(Math.floor(issuedAt.getTime() / 1000) - 5)
      .setExpirationTime(Math.floor(issuedAt.getTime() / 1000) + this.opts.accessTtlSeconds)
      .setJti(randomUUID())
      .sign(key.privateKey);
    return { token, expiresIn: this.opts.accessTtlSeconds, issuedAt };
  }

  async issueRefresh(service: string, c: { userId: string; accessKeyId?: string }): Promise<string> {
    const key = await this.keys.current();
    const now = this.clock.now();
    return new SignJWT({ typ: 'refresh', akid: c.accessKeyId })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
      .setIssuer(this.opts.issuer)
      .setSubject(c.userId)
      .setAudience(service)
      .setIssuedAt(new Date(now))
      .setExpirationTime(Math.floor(now / 1000) + this.opts.refreshTtlSeconds)
      .setJti(randomUUID())
      .sign(key.privateKey);
  }

  /** Claims of a valid, unexpired access token; undefined for anything else (bad signature, expired, refresh token). */
  async verifyAccess(token: string): Promise<AccessClaims | undefined> {
    const hit = this.cache.get(token);
    if (hit) {
      if (hit.expiresAt > this.clock.now()) return hit;
      this.cache.delete(token);
      return undefined;
    }
    try {
      const { payload } = await this.verify(token);
      if (payload.typ === 'refresh' || !payload.sub || !Array.isArray(payload.access)) return undefined;
      const claims: AccessClaims = {
        userId: payload.sub,
        accessKeyId: typeof payload.akid === 'string' ? payload.akid : undefined,
        access: payload.access as Access[],
        expiresAt: (payload.exp ?? 0) * 1000,
      };
      this.cache.set(token, claims, { ttl: Math.max(1, claims.expiresAt - this.clock.now()) });
      return claims;
    } catch {
      return undefined;
    }
  }

  async verifyRefresh(token: string): Promise<{ userId: string; accessKeyId?: string } | undefined> {
    try {
      const { payload } = await this.verify(token);
      if (payload.typ !== 'refresh' || !payload.sub) return undefined;
      return { userId: payload.sub, accessKeyId: typeof payload.akid === 'string' ? payload.akid : undefined };
    } catch {
      return undefined;
    }
  }

  /** Checks signature (by kid, against every stored key), issuer and times (by the clock). */
  private async verify(token: string) {
    const key = await this.keys.publicKey(decodeProtectedHeader(token).kid);
    if (!key) throw new Error('unknown signing key');
    return jwtVerify(token, key, { issuer: this.opts.issuer, algorithms: ['ES256'], currentDate: new Date(this.clock.now()) });
  }
}
