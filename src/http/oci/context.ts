import type { FastifyReply, FastifyRequest } from 'fastify';
import { NcrError } from '../../oci/errors.js';
import type { BlobService } from '../../domain/registry/blob.service.js';
import type { ManifestService } from '../../domain/registry/manifest.service.js';
import type { UploadService } from '../../domain/registry/upload.service.js';
import type { RegistryService } from '../../domain/registry/registry.service.js';
import type { Actor } from '../../domain/events.js';
import type { Authenticator, Caller } from '../auth.js';

export interface OciDeps {
  auth: Authenticator;
  blobs: BlobService;
  uploads: UploadService;
  manifests: ManifestService;
  registries: RegistryService;
  /**
   * Registry-mirror mode (cache.mirrorRegistry): the repository to serve for a name a client asked for; a name whose
   * first component is no local registry becomes `CACHE/name`. Absent: names are served as asked.
   */
  mirror?: (name: string) => Promise<string>;
}

/** One matched /v2 request: the route's captures plus the caller (undefined when anonymous). */
export interface OciRequest {
  req: FastifyRequest;
  reply: FastifyReply;
  caller: Caller | undefined;
  name: string;
  ref: string;
  deps: OciDeps;
}

export function actorOf(req: FastifyRequest, caller: Caller | undefined): Actor {
  return { userId: caller?.principal.userId ?? null, username: caller?.principal.username ?? null, role: caller?.principal.role, remoteAddr: req.ip };
}

/** The spec's Range header of an upload session holding `offset` bytes (`0-<last byte>`; `0-0` when empty). */
export function rangeHeader(offset: number): string {
  return `0-${Math.max(0, offset - 1)}`;
}

/** Parses `n` and `last` for the paginated lists (tags, catalog). */
export function listParams(req: FastifyRequest, max = 10_000): { n?: number; last?: string } {
  const q = req.query as Record<string, string | undefined>;
  const out: { n?: number; last?: string } = {};
  if (q.n !== undefined && q.n !== '') {
    const n = Number(q.n);
    if (!Number.isInteger(n) || n < 0) throw new NcrError('VALIDATION_FAILED', `n must be a non-negative integer, got ${JSON.stringify(q.n)}`);
    out.n = Math.min(n, max);
  }
  if (q.last) out.last = q.last;
  return out;
}
