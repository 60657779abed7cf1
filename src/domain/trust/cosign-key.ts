/**
 * cosign's key files, so ncr can sign and verify as cosign does without cosign installed.
 *
 * - `cosign.pub`: a PEM `PUBLIC KEY` (SubjectPublicKeyInfo): ECDSA P-256 (cosign's default), RSA or Ed25519.
 * - `cosign.key`: a PEM `ENCRYPTED SIGSTORE PRIVATE KEY` (older cosign: `ENCRYPTED COSIGN PRIVATE KEY`) whose body is
 *   JSON `{kdf: {name: "scrypt", params: {N, r, p}, salt}, cipher: {name: "nacl/secretbox", nonce}, ciphertext}`
 *   (base64 fields): the PKCS#8 DER private key sealed with XSalsa20-Poly1305 under scrypt(password, salt) (32 bytes).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, scryptSync, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';
import { NcrError } from '../../oci/errors.js';

const PEM_TYPES = ['ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY'];
const SCRYPT = { N: 32768, r: 8, p: 1 };

interface SealedKey {
  kdf: { name: string; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: string; nonce: string };
  ciphertext: string;
}

function pemBody(pem: string, types: string[]): { type: string; der: Buffer } {
  const m = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(pem);
  if (!m || !types.includes(m[1]!)) throw new NcrError('VALIDATION_FAILED', `expected a PEM block of type ${types.join(' or ')}`);
  return { type: m[1]!, der: Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64') };
}

function toPem(type: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${type}-----\n${b64}\n-----END ${type}-----\n`;
}

function scryptKey(password: string, salt: Buffer, p: SealedKey['kdf']['params']): Buffer {
  return scryptSync(Buffer.from(password, 'utf8'), salt, 32, { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r + 1024 * 1024 });
}

/** Opens a cosign.key with its password; throws VALIDATION_FAILED for a wrong password or a file that is not one. */
export function openCosignKey(pem: string, password: string): KeyObject {
  const { der } = pemBody(pem, PEM_TYPES);
  let sealed: SealedKey;
  try {
    sealed = JSON.parse(der.toString('utf8')) as SealedKey;
  } catch {
    throw new NcrError('VALIDATION_FAILED', 'the private key file is not a cosign key (its body is not the expected JSON)');
  }
  if (sealed.kdf?.name !== 'scrypt' || sealed.cipher?.name !== 'nacl/secretbox') throw new NcrError('VALIDATION_FAILED', `unsupported key encryption ${sealed.kdf?.name}/${sealed.cipher?.name}: expected scrypt and nacl/secretbox`);
  const key = scryptKey(password, Buffer.from(sealed.kdf.salt, 'base64'), sealed.kdf.params);
  const opened = nacl.secretbox.open(Buffer.from(sealed.ciphertext, 'base64'), Buffer.from(sealed.cipher.nonce, 'base64'), key);
  if (!opened) throw new NcrError('VALIDATION_FAILED', 'wrong password for the private key (or the file is damaged)');
  return createPrivateKey({ key: Buffer.from(opened), format: 'der', type: 'pkcs8' });
}

/** Seals a private key as cosign does (what `cosign generate-key-pair` writes to cosign.key). */
export function sealCosignKey(privateKey: KeyObject, password: string): string {
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const key = scryptKey(password, salt, SCRYPT);
  const plain = privateKey.export({ format: 'der', type: 'pkcs8' });
  const ciphertext = nacl.secretbox(plain, nonce, key);
  const body: SealedKey = {
    kdf: { name: 'scrypt', params: SCRYPT, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(ciphertext).toString('base64'),
  };
  return toPem('ENCRYPTED SIGSTORE PRIVATE KEY', Buffer.from(JSON.stringify(body)));
}

/** A new ECDSA P-256 key pair as cosign.key (sealed with the password) and cosign.pub. */
export function generateCosignKeyPair(password: string): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKeyPem: sealCosignKey(privateKey, password), publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString() };
}

/** A public key from PEM (SPKI `PUBLIC KEY`, or a certificate's key); VALIDATION_FAILED saying what is accepted. */
export function parsePublicKey(pem: string): { key: KeyObject; algorithm: string } {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new NcrError('VALIDATION_FAILED', `not a PEM public key (expected "-----BEGIN PUBLIC KEY-----", as in cosign.pub): ${(err as Error).message}`);
  }
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve !== 'prime256v1' && curve !== 'secp384r1' && curve !== 'secp521r1') throw new NcrError('VALIDATION_FAILED', `unsupported elliptic curve ${curve}: use P-256, P-384 or P-521`);
    return { key, algorithm: `ECDSA ${curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : 'P-521'}` };
  }
  if (type === 'rsa') return { key, algorithm: `RSA ${key.asymmetricKeyDetails?.modulusLength}` };
  if (type === 'ed25519') return { key, algorithm: 'Ed25519' };
  throw new NcrError('VALIDATION_FAILED', `unsupported key type ${type}: use ECDSA (P-256), RSA or Ed25519`);
}
