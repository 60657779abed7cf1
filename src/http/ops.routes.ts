/** /healthz (process is up), /readyz (database and storage reachable), /metrics (Prometheus). */
import cluster from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import client from 'prom-client';
import { routeKind } from './oci/router.js';

export interface Metrics {
  registry: client.Registry;
  uploadsInProgress: client.Gauge;
}

export function opsRoutes(app: FastifyInstance, deps: { checks: Record<string, () => Promise<void>> }) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'ncr_' });
  const requests = new client.Counter({ name: 'ncr_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const latency = new client.Histogram({
    name: 'ncr_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
    registers: [registry],
  });
  const bytesIn = new client.Counter({ name: 'ncr_http_bytes_received_total', help: 'request body bytes received', labelNames: ['route'], registers: [registry] });
  const bytesOut = new client.Counter({ name: 'ncr_http_bytes_sent_total', help: 'response body bytes sent', labelNames: ['route'], registers: [registry] });
  const uploadsInProgress = new client.Gauge({ name: 'ncr_uploads_in_progress', help: 'blob upload requests being received right now', registers: [registry] });
  // metrics are per process: with `serve --workers N` a scrape reaches one worker, and this says which
  new client.Gauge({ name: 'ncr_process_info', help: 'this process: its pid and its cluster worker id (0 without --workers)', labelNames: ['pid', 'worker'], registers: [registry] }).set(
    { pid: String(process.pid), worker: String(cluster.worker?.id ?? 0) },
    1,
  );

  const routeOf = (url: string, routerPath: string | undefined) => (url.startsWith('/v2') ? `oci_${routeKind(url)}` : (routerPath ?? 'unmatched'));

  app.addHook('onRequest', async (req) => {
    if (req.method === 'PATCH' || (req.method === 'PUT' && req.url.includes('/blobs/uploads/')) || (req.method === 'POST' && req.url.includes('digest='))) {
      uploadsInProgress.inc();
      (req as unknown as { ncrUpload: boolean }).ncrUpload = true;
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = routeOf(req.url, req.routeOptions.url);
    requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    const inBytes = Number(req.headers['content-length'] ?? 0);
    if (inBytes > 0) bytesIn.inc({ route }, inBytes);
    const outBytes = Number(reply.getHeader('content-length') ?? 0);
    if (outBytes > 0 && req.method !== 'HEAD') bytesOut.inc({ route }, outBytes);
    if ((req as unknown as { ncrUpload?: boolean }).ncrUpload) uploadsInProgress.dec();
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (req, reply) => {
    const results: Record<string, string> = {};
    let ok = true;
    for (const [name, check] of Object.entries(deps.checks)) {
      try {
        await check();
        results[name] = 'ok';
      } catch (err) {
        ok = false;
        // the raw message may name hosts and paths: logged, not shown to an unauthenticated caller
        req.log.warn({ err, check: name }, 'readiness check failed');
        results[name] = 'unreachable: the server log has the cause';
      }
    }
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks: results });
  });
  app.get('/metrics', async (_req, reply) => reply.header('content-type', registry.contentType).send(await registry.metrics()));
  return { registry, uploadsInProgress } satisfies Metrics;
}
