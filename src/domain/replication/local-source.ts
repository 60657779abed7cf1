/**
 * This registry, seen as an OciRemote (read side only), so that copyImage (domain/outbound/copy-image.ts) copies a
 * local image to a remote one exactly as it copies between two remotes: manifests and blobs come from the registry
 * core's services, as the system (no pull is recorded, no pull guard applies: replication is not a client's pull).
 */
import type { Readable } from 'node:stream';
import { NcrError, isNcrError } from '../../oci/errors.js';
import type { BlobInfo, ManifestInfo, OciRemote, PushedBlob, RemoteDescriptor } from '../outbound/oci-remote.js';
import type { BlobService } from '../registry/blob.service.js';
import type { ManifestService } from '../registry/manifest.service.js';

const readOnly = () => new NcrError('UNSUPPORTED', 'the local side of a replication is read only');

export class LocalSource implements OciRemote {
  readonly url = 'this registry';

  constructor(
    private readonly manifests: ManifestService,
    private readonly blobs: BlobService,
  ) {}

  async ping(): Promise<void> {}

  checkWritable(): Promise<void> {
    return Promise.reject(readOnly());
  }

  async headManifest(repo: string, ref: string): Promise<ManifestInfo | undefined> {
    try {
      const m = await this.manifests.resolve(repo, ref);
      return { digest: m.digest, mediaType: m.mediaType, size: m.content.byteLength };
    } catch (err) {
      if (isNcrError(err) && (err.code === 'MANIFEST_UNKNOWN' || err.code === 'NAME_UNKNOWN')) return undefined;
      throw err;
    }
  }

  async getManifest(repo: string, ref: string): Promise<{ bytes: Uint8Array; mediaType: string; digest: string }> {
    const m = await this.manifests.resolve(repo, ref);
    return { bytes: m.content, mediaType: m.mediaType, digest: m.digest };
  }

  putManifest(): Promise<string> {
    return Promise.reject(readOnly());
  }

  async headBlob(repo: string, digest: string): Promise<BlobInfo | undefined> {
    try {
      return await this.blobs.stat(repo, digest);
    } catch (err) {
      if (isNcrError(err) && (err.code === 'BLOB_UNKNOWN' || err.code === 'NAME_UNKNOWN')) return undefined;
      throw err;
    }
  }

  async getBlob(repo: string, digest: string): Promise<{ stream: Readable; size: number }> {
    // chunks are not given back to the store's pool (they go to another socket): they are garbage-collected instead
    const body = await this.blobs.open(repo, digest);
    return { stream: body.stream, size: body.size };
  }

  pushBlob(): Promise<PushedBlob> {
    return Promise.reject(readOnly());
  }

  async tags(repo: string): Promise<string[]> {
    return this.manifests.tags(repo, {});
  }

  async referrers(repo: string, digest: string): Promise<RemoteDescriptor[]> {
    const index = JSON.parse(Buffer.from((await this.manifests.referrers(repo, digest)).index).toString('utf8')) as { manifests: RemoteDescriptor[] };
    return index.manifests;
  }
}
