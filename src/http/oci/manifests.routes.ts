/** Manifests by tag or digest (GET / HEAD / PUT / DELETE), tags list, referrers and the catalog. */
import { NcrError } from '../../oci/errors.js';
import { MAX_MANIFEST_BYTES } from '../../oci/manifest.js';
import { actorOf, listParams, type OciRequest } from './context.js';

async function readBody(o: OciRequest, limit: number): Promise<Uint8Array> {
  const declared = Number(o.req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    o.req.raw.resume();
    throw new NcrError('MANIFEST_TOO_LARGE', `manifest is ${declared} bytes; the most accepted is ${limit} (4 MiB)`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of o.req.raw as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) {
      o.req.raw.resume();
      throw new NcrError('MANIFEST_TOO_LARGE', `manifest is larger than ${limit} bytes (4 MiB), the most accepted`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

export async function getManifest(o: OciRequest) {
  const { req, reply, name, ref, deps } = o;
  const caller = deps.auth.requireRepo(req, o.caller, name, 'image:pull');
  const accept = req.headers.accept;
  const m = req.method === 'HEAD' ? await deps.manifests.resolve(name, ref, accept) : await deps.manifests.pull(name, ref, accept, actorOf(req, caller));
  reply
    .code(200)
    .header('Content-Type', m.mediaType)
    .header('Docker-Content-Digest', m.digest)
    .header('ETag', `"${m.digest}"`)
    .header('Content-Length', m.content.byteLength);
  if (req.method === 'HEAD') return reply.send();
  return reply.send(Buffer.from(m.content.buffer, m.content.byteOffset, m.content.byteLength));
}

export async function putManifest(o: OciRequest) {
  const { req, reply, name, ref, deps } = o;
  const caller = deps.auth.requireRepo(req, o.caller, name, 'image:push');
  const body = await readBody(o, MAX_MANIFEST_BYTES);
  const { digest, subject } = await deps.manifests.put(name, ref, body, req.headers['content-type'], actorOf(req, caller));
  reply.code(201).header('Location', `/v2/${name}/manifests/${digest}`).header('Docker-Content-Digest', digest).header('Content-Length', 0);
  if (subject) reply.header('OCI-Subject', subject);
  return reply.send();
}

export async function deleteManifest(o: OciRequest) {
  const { req, reply, name, ref, deps } = o;
  // By digest the artifact goes (with its tags); by tag only the tag.
  const caller = deps.auth.requireRepo(req, o.caller, name, ref.includes(':') ? 'artifact:delete' : 'tag:delete');
  await deps.manifests.delete(name, ref, actorOf(req, caller));
  return reply.code(202).header('Content-Length', 0).send();
}

function linkHeader(path: string, n: number, last: string): string {
  return `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`;
}

export async function listTags(o: OciRequest) {
  const { req, reply, name, deps } = o;
  deps.auth.requireRepo(req, o.caller, name, 'tag:view');
  const q = listParams(req);
  const n = q.n;
  const tags = await deps.manifests.tags(name, { last: q.last, n: n === undefined ? undefined : n + 1 });
  const page = n === undefined ? tags : tags.slice(0, n);
  if (n !== undefined && tags.length > n && page.length > 0) reply.header('Link', linkHeader(`/v2/${name}/tags/list`, n, page[page.length - 1]));
  return reply.code(200).header('Content-Type', 'application/json').send({ name, tags: page });
}

export async function listReferrers(o: OciRequest) {
  const { req, reply, name, ref: digest, deps } = o;
  deps.auth.requireRepo(req, o.caller, name, 'artifact:view');
  const artifactType = (req.query as Record<string, string | undefined>).artifactType;
  const { index, filtered } = await deps.manifests.referrers(name, digest, artifactType || undefined);
  if (filtered) reply.header('OCI-Filters-Applied', 'artifactType');
  return reply.code(200).header('Content-Type', 'application/vnd.oci.image.index.v1+json').send(Buffer.from(index));
}
