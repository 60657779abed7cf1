/** Helpers for the outbound client tests. */
import type { Readable } from 'node:stream';
import type { OutboundStreamHttp, OutboundStreamRequest } from '../../src/domain/outbound/ports.js';
import { GuardedHttpClient } from '../../src/outbound/http-client.js';

/** The guarded client, counting the requests that went to the token realm. */
export function countingHttp(): OutboundStreamHttp & { tokenRequests: number; requests: OutboundStreamRequest[] } {
  const inner = new GuardedHttpClient({ allowPrivateNetworks: true, userAgent: 'ncr-test' });
  const http = {
    tokenRequests: 0,
    requests: [] as OutboundStreamRequest[],
    stream(req: OutboundStreamRequest) {
      http.requests.push(req);
      if (new URL(req.url).pathname === '/service/token') http.tokenRequests++;
      return inner.stream(req);
    },
  };
  return http;
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

