/** The token signing key: an ES256 key pair generated at first start and kept in DATA_DIR/keys (mode 0600). */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';

export async function loadSigningKey(dataDir: string) {
  const dir = join(dataDir, 'keys');
  const file = join(dir, 'token-signing-es256.jwk.json');
  let jwk: JWK;
  try {
    jwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the token signing key ${file}: ${(err as Error).message}`);
    const pair = await generateKeyPair('ES256', { extractable: true });
    jwk = await exportJWK(pair.privateKey);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(file, JSON.stringify(jwk), { mode: 0o600, flag: 'wx' }).catch(async (e: NodeJS.ErrnoException) => {
      // Another process created it first: use theirs.
      if (e.code !== 'EEXIST') throw e;
      jwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
    });
  }
  const { d: _d, ...pub } = jwk;
  const kid = createHash('sha256').update(JSON.stringify({ crv: pub.crv, kty: pub.kty, x: pub.x, y: pub.y })).digest('base64url').slice(0, 16);
  return { privateKey: await importJWK(jwk, 'ES256'), publicKey: await importJWK(pub, 'ES256'), kid };
}
