import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Metrics } from '../metrics/metrics';

declare module 'fastify' {
  interface FastifyInstance {
    /** Prometheus metrics of this app; the JWT verifier increments `metrics.jwtRejections`. */
    metrics: Metrics;
  }
}

/**
 * Decorates `metrics`, counts and times every response, and serves GET /metrics (Prometheus text) —
 * on the main port unless `serveOnMainPort` is false (CDS_METRICS_PORT: src/metrics/metrics-server.ts).
 */
const metricsPlugin: FastifyPluginAsync<{ metrics: Metrics; serveOnMainPort?: boolean }> = async (app, { metrics, serveOnMainPort = true }) => {
  if (!metrics?.registry) throw new TypeError('[metrics] a metrics instance is required');
  app.decorate('metrics', metrics);
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      service: request.cds?.serviceId ?? '',
      route: request.routeOptions.url ?? 'unmatched',
      method: request.method,
      status: String(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });
  if (!serveOnMainPort) return;
  app.get('/metrics', async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
};

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x' });
