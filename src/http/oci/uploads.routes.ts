/** The upload protocol: POST (start, monolithic, mount), PATCH (chunk), PUT (close), GET (status), DELETE (cancel). */
import type { FastifyRequest } from 'fastify';
import { NcrError } from '../../oci/errors.js';
import { can } from '../../domain/auth/permissions.js';
import { tokenAllows } from '../../domain/auth/scopes.js';
import { actorOf, rangeHeader, type OciRequest } from './context.js';

function contentLength(req: FastifyRequest): number | undefined {
  const v = req.headers['content-length'];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new NcrError('SIZE_INVALID', `Content-Length ${JSON.stringify(v)} is not a byte count`);
  return n;
}

function contentRange(req: FastifyRequest): { start: number; end: number } | undefined {
  const v = req.headers['content-range'];
  if (!v) return undefined;
  const m = /^(?:bytes[= ])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(v.trim());
  if (!m || Number(m[2]) < Number(m[1])) {
    throw new NcrError('RANGE_INVALID', `Content-Range ${JSON.stringify(v)} is not a range: send <start>-<end> with end >= start`);
  }
  return { start: Number(m[1]), end: Number(m[2]) };
}

function sessionHeaders(o: OciRequest, id: string, offset: number) {
  o.reply
    .header('Location', `/v2/${o.name}/blobs/uploads/${id}`)
    .header('Docker-Upload-UUID', id)
    .header('Range', rangeHeader(offset))
    .header('Content-Length', 0);
}

function digestParam(req: FastifyRequest): string | undefined {
  const d = (req.query as Record<string, string | string[] | undefined>).digest;
  return Array.isArray(d) ? d[0] : d;
}

export async function startUpload(o: OciRequest) {
  const { req, reply, name, deps } = o;
  const caller = deps.auth.requireRepo(req, o.caller, name, 'image:push');
  const q = req.query as Record<string, string | undefined>;
  if (q.mount && q.from) {
    const mayPullFrom = can(caller.principal, 'image:pull', { repository: q.from }) && (!caller.access || tokenAllows(caller.access, 'repository', q.from, 'pull'));
    if (mayPullFrom && (await deps.blobs.mount(name, q.mount, q.from, actorOf(req, caller)))) {
      return reply.code(201).header('Location', `/v2/${name}/blobs/${q.mount}`).header('Docker-Content-Digest', q.mount).header('Content-Length', 0).send();
    }
  }
  const digest = digestParam(req);
  if (digest) {
    const done = await deps.uploads.monolithic(name, digest, req.raw, contentLength(req), actorOf(req, caller));
    return reply.code(201).header('Location', `/v2/${name}/blobs/${done.digest}`).header('Docker-Content-Digest', done.digest).header('Content-Length', 0).send();
  }
  req.raw.resume();
  const upload = await deps.uploads.start(name);
  sessionHeaders(o, upload.id, 0);
  return reply.code(202).send();
}

export async function patchUpload(o: OciRequest) {
  const { req, reply, name, ref: id, deps } = o;
  deps.auth.requireRepo(req, o.caller, name, 'image:push');
  const upload = await deps.uploads.append(name, id, req.raw, contentRange(req), contentLength(req));
  sessionHeaders(o, upload.id, upload.offset);
  return reply.code(202).send();
}

export async function putUpload(o: OciRequest) {
  const { req, reply, name, ref: id, deps } = o;
  const caller = deps.auth.requireRepo(req, o.caller, name, 'image:push');
  const actor = actorOf(req, caller);
  const digest = digestParam(req);
  if (!digest) throw new NcrError('DIGEST_INVALID', 'closing an upload needs ?digest=<algorithm:hex> of the whole blob');
  const length = contentLength(req);
  const range = contentRange(req);
  let done;
  if (range || (length ?? 0) > 0 || req.headers['transfer-encoding']) {
    if (range) await deps.uploads.append(name, id, req.raw, range, length);
    done = await deps.uploads.finish(name, id, digest, range ? undefined : req.raw, range ? undefined : length, actor);
  } else {
    req.raw.resume();
    done = await deps.uploads.finish(name, id, digest, undefined, undefined, actor);
  }
  return reply.code(201).header('Location', `/v2/${name}/blobs/${done.digest}`).header('Docker-Content-Digest', done.digest).header('Content-Length', 0).send();
}

export async function uploadStatus(o: OciRequest) {
  const { req, reply, name, ref: id, deps } = o;
  deps.auth.requireRepo(req, o.caller, name, 'image:push');
  const upload = await deps.uploads.get(name, id);
  sessionHeaders(o, upload.id, upload.offset);
  return reply.code(204).send();
}

export async function cancelUpload(o: OciRequest) {
  const { req, reply, name, ref: id, deps } = o;
  deps.auth.requireRepo(req, o.caller, name, 'image:push');
  await deps.uploads.cancel(name, id);
  return reply.code(204).header('Content-Length', 0).send();
}
