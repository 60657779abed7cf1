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
