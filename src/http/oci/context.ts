import type { FastifyReply, FastifyRequest } from 'fastify';
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
  return { userId: caller?.principal.userId ?? null, username: caller?.principal.username ?? null, remoteAddr: req.ip };
}

/** Parses `n` and `last` for the paginated lists (tags, catalog). */
export function listParams(req: FastifyRequest, max = 10_000): { n?: number; last?: string } {
  const q = req.query as Record<string, string | undefined>;
  const out: { n?: number; last?: string } = {};
  if (q.n !== undefined && q.n !== '') {
    const n = Number(q.n);
    if (!Number.isInteger(n) || n < 0) throw Object.assign(new Error('n must be a non-negative integer'), { statusCode: 400 });
    out.n = Math.min(n, max);
  }
  if (q.last) out.last = q.last;
  return out;
}
