/**
 * A remote OCI registry, as replication and the image cache see it: one endpoint spoken to over the Distribution API.
 * The implementation (src/outbound/oci-client.ts) answers auth challenges (Docker token flow, Basic), retries what is
 * safe to retry, streams blobs both ways and goes through the outbound address guard. Every method throws NcrError:
 * UNAVAILABLE when the remote cannot be reached or keeps failing, UNAUTHORIZED / DENIED when it refuses the
 * credentials, the OCI code the remote answered with otherwise; messages name the remote and the operation.
 */
import type { Readable } from 'node:stream';

export type OciCredentials = { kind: 'none' } | { kind: 'basic'; username: string; password: string } | { kind: 'bearer'; token: string };

export interface ManifestInfo {
  digest: string;
  mediaType: string;
  size: number;
}

export interface BlobInfo {
  /** -1 when the remote did not say */
  size: number;
}

export interface PushedBlob {
  /** true when the target mounted it from another repository (nothing was uploaded) */
  mounted: boolean;
}

export interface RemoteDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface OciRemote {
  /** e.g. https://registry.example.com, for messages */
  readonly url: string;
  /** GET /v2/: resolves when the remote answers and accepts the credentials. */
  ping(): Promise<void>;
  /**
   * Whether the credentials may push to `repo`: starts an upload session (POST /v2/<repo>/blobs/uploads/) and cancels
   * it (DELETE; a registry that cannot cancel lets it expire). Throws DENIED / UNAUTHORIZED / NAME_UNKNOWN as answered.
   */
  checkWritable(repo: string): Promise<void>;
  /** The manifest's digest, media type and size, or undefined when the remote has no such manifest (404). */
  headManifest(repo: string, ref: string): Promise<ManifestInfo | undefined>;
  /** The manifest's bytes; the digest is verified when `ref` is a digest (or the remote sends one). MANIFEST_UNKNOWN on 404. */
  getManifest(repo: string, ref: string, accept?: readonly string[]): Promise<{ bytes: Uint8Array; mediaType: string; digest: string }>;
  /** Stores a manifest under a tag or digest; resolves with its digest. */
  putManifest(repo: string, ref: string, bytes: Uint8Array, mediaType: string): Promise<string>;
  /** The blob's size, or undefined when the remote does not have it in `repo`. */
  headBlob(repo: string, digest: string): Promise<BlobInfo | undefined>;
  /**
   * The blob as a stream (redirects to storage followed through the address guard); the stream fails with
   * DIGEST_INVALID / SIZE_INVALID at its end when the content does not match. The caller consumes or destroys it.
   */
  getBlob(repo: string, digest: string): Promise<{ stream: Readable; size: number }>;
  /**
   * Uploads a blob (one monolithic PUT, streamed). With `mountFrom`, asks the remote to mount it from that repository
   * first and calls `open` only when it cannot. `open` is called again for each retry, so it must give a fresh stream.
   */
  pushBlob(repo: string, digest: string, size: number, open: () => Promise<Readable>, opts?: { mountFrom?: string }): Promise<PushedBlob>;
  /** Every tag of the repository, following the remote's pagination. NAME_UNKNOWN when the repository is unknown. */
  tags(repo: string): Promise<string[]>;
  /** The manifests referring to `digest`: the referrers API, or cosign's `<alg>-<hex>.sig` tag where it is missing. */
  referrers(repo: string, digest: string): Promise<RemoteDescriptor[]>;
}
