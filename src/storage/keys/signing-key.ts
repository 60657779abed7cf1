/**
 * The secret that seals the token signing keys stored in the database (domain/auth/key-ring.ts). Given in the
 * configuration (every node of a cluster must use the same), or else generated at first start into
 * DATA_DIR/keys/signing-key-secret (mode 0600), which then suits one node or nodes sharing the data directory.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function loadSigningSecret(dataDir: string, configured?: string): Promise<string> {
  if (configured) return configured;
  const dir = join(dataDir, 'keys');
  const file = join(dir, 'signing-key-secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the signing key secret ${file}: ${(err as Error).message}`);
  }
  const secret = randomBytes(32).toString('base64url');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await writeFile(file, secret, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (e) {
    // another process created it first: use theirs
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return (await readFile(file, 'utf8')).trim();
  }
}
