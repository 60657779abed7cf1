/**
 * Sends a blob as the response body, writing each chunk straight to the socket and giving it back to the blob store's
 * buffer pool (`release`) in the write's callback, once the socket has taken it: released any earlier, a buffer could
 * be refilled while its bytes still wait to be sent. Fastify's own stream sending pipes, which cannot tell when a chunk
 * has left; so the reply is hijacked after its status and headers are set (onResponse hooks still run).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { BlobBody } from '../../domain/registry/blob.service.js';

export function sendBlob(reply: FastifyReply, { stream: source, release }: BlobBody): FastifyReply {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
  source.on('data', (chunk: Buffer) => {
    const more = res.write(chunk, (err) => {
      if (!err) release(chunk);
    });
    if (!more) {
      source.pause();
      res.once('drain', () => source.resume());
    }
  });
  source.once('end', () => res.end());
  // headers are out: a read failure can only cut the response short, which the client sees as a broken body
  source.once('error', (err) => {
    reply.log.warn({ err }, 'blob read failed mid-response');
    res.destroy(err);
  });
  res.once('close', () => {
    if (!source.destroyed) source.destroy();
  });
  return reply;
}
