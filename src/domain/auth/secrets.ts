/** Slow hashing of passwords and secret keys (argon2id), and generation of keys and secrets. */
import { hash, verify } from '@node-rs/argon2';
import { randomBytes, randomInt } from 'node:crypto';

export function hashSecret(secret: string): Promise<string> {
  return hash(secret, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
}

export async function verifySecret(storedHash: string, secret: string): Promise<boolean> {
  try {
    return await verify(storedHash, secret);
  } catch {
    return false;
  }
}

const KEY_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** An access key id: 20 upper-case characters, easy to read and type. */
export function newAccessKeyId(): string {
  let s = 'NCR';
  for (let i = 0; i < 17; i++) s += KEY_ALPHABET[randomInt(KEY_ALPHABET.length)];
  return s;
}

/** A secret key: 40 URL-safe characters (240 bits). */
export function newSecretKey(): string {
  return randomBytes(30).toString('base64url');
}
