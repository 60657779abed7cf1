/**
 * The token signing keys (ES256), kept in the shared database so every node signs and verifies with the same set.
 * The newest key signs; every stored key verifies (by `kid`). A key older than the rotation period is replaced by a
 * new one on the next signing; old keys stay for verification until no token they signed can still be valid.
 * The private half is sealed (AES-256-GCM) with a secret from the configuration before it is stored.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Clock } from '../clock.js';
import type { SigningKeyStore, StoredSigningKey } from './ports.js';

type Key = Awaited<ReturnType<typeof importJWK>>;

/** Seals and opens secrets with AES-256-GCM under a key derived from `secret`. */
export class Sealer {
  private readonly key: Buffer;
  constructor(secret: string) {
    this.key = createHash('sha256').update('ncr-signing-key\0').update(secret).digest();
  }
  seal(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return [iv, c.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
  }
  open(sealed: string): string {
    const [iv, tag, body] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
    const d = createDecipheriv('aes-256-gcm', this.key, iv);
    d.setAuthTag(tag);
    return Buffer.concat([d.update(body), d.final()]).toString('utf8');
  }
}

export function kidOf(jwk: JWK): string {
  return createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url').slice(0, 16);
}

export class KeyRing {
  private signing: { kid: string; privateKey: Key; createdAt: number; checkedAt: number } | undefined;
  private readonly publicKeys = new Map<string, Key>();
  private lastReload = 0;

  constructor(
    private readonly store: SigningKeyStore,
    private readonly sealer: Sealer,
    private readonly clock: Clock,
    private readonly opts: { rotationMs: number; /** how long a retired key must still verify: the longest token lifetime */ retainMs: number },
  ) {}

  /** The key to sign with (creating or rotating it when due). */
  async current(): Promise<{ kid: string; privateKey: Key }> {
    const now = this.clock.now();
    if (this.signing && now - this.signing.checkedAt < 60_000 && now - this.signing.createdAt < this.opts.rotationMs) return this.signing;
    let newest = (await this.store.list())[0];
    if (!newest || now - newest.createdAt >= this.opts.rotationMs) {
      await this.store.add(await this.generate(now));
      await this.store.deleteOlderThan(now - this.opts.rotationMs - this.opts.retainMs);
      newest = (await this.store.list())[0];
    }
    let privateKey: Key;
    try {
      privateKey = await importJWK(JSON.parse(this.sealer.open(newest.sealedPrivateJwk)) as JWK, 'ES256');
    } catch (err) {
      throw new Error('cannot open the token signing key stored in the database: auth.signingKeySecret differs from the one that sealed it (every node must use the same)', { cause: err });
    }
    this.signing = { kid: newest.kid, privateKey, createdAt: newest.createdAt, checkedAt: now };
    return this.signing;
  }

  /** The public key for `kid`, or undefined when no stored key has it. */
  async publicKey(kid: string | undefined): Promise<Key | undefined> {
    if (!kid) return undefined;
    const hit = this.publicKeys.get(kid);
    if (hit) return hit;
    // an unknown kid: maybe another node just rotated; reload at most once a second
    const now = this.clock.now();
    if (now - this.lastReload < 1000) return undefined;
    this.lastReload = now;
    for (const k of await this.store.list()) {
      if (!this.publicKeys.has(k.kid)) this.publicKeys.set(k.kid, await importJWK(JSON.parse(k.publicJwk) as JWK, 'ES256'));
    }
    return this.publicKeys.get(kid);
  }

  private async generate(now: number): Promise<StoredSigningKey> {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const priv = await exportJWK(pair.privateKey);
    const { d: _d, ...pub } = priv;
    return { kid: kidOf(pub), alg: 'ES256', publicJwk: JSON.stringify(pub), sealedPrivateJwk: this.sealer.seal(JSON.stringify(priv)), createdAt: now };
  }
}
