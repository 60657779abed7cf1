/**
 * The one place that knows the on-disk layout of the filesystem driver:
 *
 *   <root>/
 *     blobs/<algorithm>/<first two hex>/<hex>     committed blobs, content-addressed, shared by all repositories
 *     uploads/<session id>                        data of an upload in progress (its size is the upload's offset)
 *     uploads/<session id>.lock                   held by the one writer appending to or committing the upload
 *     uploads/<session id>.lock-break             held while a stale lock (its writer died) is being removed
 *     tmp/                                        scratch (the /readyz probe)
 *
 * Commits rename uploads/<id> into blobs/: the same filesystem, so the rename is atomic. Session ids never contain
 * a dot, so everything named `<id>.*` belongs to the upload `<id>`.
 */
import { join } from 'node:path';

export function blobsDir(root: string): string {
  return join(root, 'blobs');
}

export function blobPath(root: string, digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return join(root, 'blobs', algorithm, hex.slice(0, 2), hex);
}

export function uploadsDir(root: string): string {
  return join(root, 'uploads');
}

export function uploadPath(root: string, id: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new Error(`invalid upload id ${JSON.stringify(id)}`);
  return join(root, 'uploads', id);
}

export function uploadLockPath(root: string, id: string): string {
  return `${uploadPath(root, id)}.lock`;
}

export function uploadLockBreakPath(root: string, id: string): string {
  return `${uploadPath(root, id)}.lock-break`;
}

/** The upload a file in uploads/ belongs to. */
export function uploadIdOf(fileName: string): string {
  const dot = fileName.indexOf('.');
  return dot < 0 ? fileName : fileName.slice(0, dot);
}

export function tmpDir(root: string): string {
  return join(root, 'tmp');
}

/**
 * The one place that knows the key layout of the S3 driver, under the configured prefix:
 *
 *   <prefix>blobs/<algorithm>/<hex>                committed blobs (key order is digest order, so list pages by key);
 *                                                  a whole-blob put is a multipart upload here, invisible until complete
 *   <prefix>uploads/<id>/state                     the upload's state (JSON: size, generation, pieces); its ETag
 *                                                  guards the next write (If-Match), so two writers cannot both win
 *   <prefix>uploads/<id>/piece-<gen>-<token>       bytes of one append, or of earlier small pieces merged
 *   <prefix>uploads/<id>/assembled-<token>         the pieces joined by a multipart upload at commit
 *   <prefix>ping/<token>                           the /readyz probe
 *
 * Everything named `uploads/<id>/` belongs to the upload `<id>`: abort and commit remove the whole prefix.
 */
export const s3Keys = {
  blobsPrefix: (prefix: string) => `${prefix}blobs/`,
  blob(prefix: string, digest: string): string {
    const [algorithm, hex] = digest.split(':');
    return `${prefix}blobs/${algorithm}/${hex}`;
  },
  /** The digest a key under blobs/ holds, or undefined for anything else. */
  digestOf(prefix: string, key: string): string | undefined {
    const m = /^blobs\/([a-z0-9]+)\/([a-f0-9]+)$/.exec(key.slice(prefix.length));
    return key.startsWith(prefix) && m ? `${m[1]}:${m[2]}` : undefined;
  },
  uploadsPrefix: (prefix: string) => `${prefix}uploads/`,
  upload(prefix: string, id: string): string {
    if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new Error(`invalid upload id ${JSON.stringify(id)}`);
    return `${prefix}uploads/${id}/`;
  },
  piece: (prefix: string, id: string, gen: number, token: string) => `${s3Keys.upload(prefix, id)}piece-${String(gen).padStart(10, '0')}-${token}`,
  assembled: (prefix: string, id: string, token: string) => `${s3Keys.upload(prefix, id)}assembled-${token}`,
  ping: (prefix: string, token: string) => `${prefix}ping/${token}`,
};
