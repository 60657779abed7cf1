/** GET / HEAD / DELETE /v2/<name>/blobs/<digest>, with Range support. */
import { parseDigest } from '../../oci/digest.js';
import { NcrError } from '../../oci/errors.js';
import { actorOf, type OciRequest } from './context.js';
import { sendBlob } from './send-blob.js';

function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) {
    throw new NcrError('RANGE_INVALID', `range ${header} is outside the blob's ${size} bytes`, { headers: { 'Content-Range': `bytes */${size}` } });
  }
  return { start, end };
}

export async function getBlob(o: OciRequest) {
  const { req, reply, name, ref: digest, deps } = o;
  deps.auth.requireRepo(req, o.caller, name, 'image:pull');
  // Checked before it is echoed in headers: a control character there would fail the whole response.
  parseDigest(digest);
  reply.header('Docker-Content-Digest', digest).header('Accept-Ranges', 'bytes').header('Content-Type', 'application/octet-stream');
  reply.header('Cache-Control', 'max-age=31536000');
  reply.header('ETag', `"${digest}"`);
  if (req.method === 'HEAD') {
    const { size } = await deps.blobs.stat(name, digest);
    return reply.header('Content-Length', size).code(200).send();
  }
  // a store that can hand out the bytes itself (presigned object-store URLs) takes the transfer off this server; on
  // the private endpoint, always where it can (the guide's Private URI: layers straight from object storage)
  const location = await deps.blobs.redirectUrl(name, digest, { private: deps.auth.isPrivate(req) });
  if (location) return reply.code(307).header('Location', location).header('Content-Length', 0).send();
  const blob = await deps.blobs.open(name, digest, (n) => parseRange(req.headers.range, n));
  const { size, range } = blob;
  if (range) {
    reply.code(206).header('Content-Range', `bytes ${range.start}-${range.end}/${size}`).header('Content-Length', range.end - range.start + 1);
  } else {
    reply.code(200).header('Content-Length', size);
  }
  return sendBlob(reply, blob);
}

export async function deleteBlob(o: OciRequest) {
  const { req, reply, name, ref: digest, deps } = o;
  deps.auth.requireRepo(req, o.caller, name, 'image:delete');
  await deps.blobs.delete(name, digest, actorOf(req, o.caller));
  return reply.code(202).header('Docker-Content-Digest', digest).header('Content-Length', 0).send();
}
