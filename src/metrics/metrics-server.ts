import { createServer, type Server } from 'node:http';
import type { Metrics } from './metrics';

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

/**
 * GET /metrics on its own port (CDS_METRICS_PORT), so the scrape endpoint is not on the public port
 * and Service the EHRs reach: only the monitoring network needs this port. Plain node:http — one
 * read-only route needs none of the app's plugins.
 */
export async function startMetricsServer(metrics: Metrics, options: { port: number; host: string }): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    metrics.registry.metrics().then(
      (body) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new TypeError(`[metrics] CDS_METRICS_PORT=${options.port}: cannot listen on ${options.host}:${options.port} (${error.code ?? error.message})`)));
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as { port: number };
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${shownHost}:${address.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
