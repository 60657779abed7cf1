/**
 * The one place that knows the on-disk layout of the filesystem driver:
 *
 *   <root>/
 *     blobs/<algorithm>/<first two hex>/<hex>     committed blobs, content-addressed, shared by all repositories
 *     uploads/<session id>                        data of an upload in progress
 *     tmp/                                        staging for commits (same filesystem, so rename is atomic)
 */
import { join } from 'node:path';

export function blobPath(root: string, digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return join(root, 'blobs', algorithm, hex.slice(0, 2), hex);
}

export function uploadPath(root: string, id: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new Error(`invalid upload id ${JSON.stringify(id)}`);
  return join(root, 'uploads', id);
}

export function tmpDir(root: string): string {
  return join(root, 'tmp');
}
