/**
 * Copies one image (a manifest or a whole index) from a remote registry to another: what replication runs per
 * artifact. HEAD before copy (the same digest already under the target reference → skipped, nothing else asked);
 * blobs first, each skipped when the target has it, mounted from `mountFrom` on the target when it can, else streamed
 * from the source; an index's children before the index; the manifest last, so the target never names what it lacks.
 */
import { NcrError } from '../../oci/errors.js';
import { isDigest } from '../../oci/digest.js';
import { parseManifest, referencedBlobs } from '../../oci/manifest.js';
import type { OciRemote } from './oci-remote.js';

export interface CopyResult {
  /** the digest of the copied (or already present) manifest */
  digest: string;
  /** false when the target already had the same digest under the reference */
  copied: boolean;
  /** bytes sent to the target: blobs streamed and manifests put */
  bytes: number;
  blobs: { uploaded: number; mounted: number; present: number };
}

export interface CopyOptions {
  /** a repository on the target to mount blobs from (same registry, already holding them) */
  mountFrom?: string;
}

/**
 * Copies `src/srcRepo:ref` to `dst/dstRepo`, under `tag` (default: `ref`). Throws MANIFEST_UNKNOWN when the source
 * has no such manifest, and whatever the remotes throw (NcrError naming the remote and the operation).
 */
export async function copyImage(src: OciRemote, srcRepo: string, ref: string, dst: OciRemote, dstRepo: string, tag?: string, opts: CopyOptions = {}): Promise<CopyResult> {
  const head = await src.headManifest(srcRepo, ref);
  if (!head) throw new NcrError('MANIFEST_UNKNOWN', `${src.url}: ${srcRepo}${isDigest(ref) ? '@' : ':'}${ref} does not exist`);
  const targetRef = tag ?? ref;
  const there = await dst.headManifest(dstRepo, targetRef);
  const result: CopyResult = { digest: head.digest, copied: false, bytes: 0, blobs: { uploaded: 0, mounted: 0, present: 0 } };
  if (there?.digest === head.digest) return result;
  await copyTree(src, srcRepo, head.digest, dst, dstRepo, targetRef, opts, result, 0);
  result.copied = true;
  return result;
}

async function copyTree(src: OciRemote, srcRepo: string, digest: string, dst: OciRemote, dstRepo: string, ref: string, opts: CopyOptions, result: CopyResult, depth: number): Promise<void> {
  if (depth > 8) throw new NcrError('MANIFEST_INVALID', `${src.url}: ${srcRepo}@${digest}: indexes nest too deep`);
  const m = await src.getManifest(srcRepo, digest);
  const parsed = parseManifest(m.bytes, m.mediaType);
  if (parsed.kind === 'index') {
    for (const child of parsed.manifests) {
      if ((await dst.headManifest(dstRepo, child.digest))?.digest === child.digest) continue;
      await copyTree(src, srcRepo, child.digest, dst, dstRepo, child.digest, opts, result, depth + 1);
    }
  } else {
    for (const blob of referencedBlobs(parsed)) {
      if (await dst.headBlob(dstRepo, blob.digest)) {
        result.blobs.present++;
        continue;
      }
      const pushed = await dst.pushBlob(dstRepo, blob.digest, blob.size, async () => (await src.getBlob(srcRepo, blob.digest)).stream, { mountFrom: opts.mountFrom });
      if (pushed.mounted) {
        result.blobs.mounted++;
      } else {
        result.blobs.uploaded++;
        result.bytes += blob.size;
      }
    }
  }
  await dst.putManifest(dstRepo, ref, m.bytes, m.mediaType || parsed.mediaType);
  result.bytes += m.bytes.byteLength;
}
