import { resolve } from 'node:path';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app';
import { isClusterPrimary, superviseWorkers } from './cluster';
import { loadConfig } from './config/env';
import { loadCatalog } from './knowledge/knowledge-files-on-disk';
import { startMetricsServer, type MetricsServer } from './metrics/metrics-server';

/** Process entry: configuration, knowledge, listen, graceful shutdown (or supervise CDS_WORKERS workers). Tests use buildApp instead. */
async function main(): Promise<void> {
  const config = loadConfig();
  const clustered = config.workers > 1;
  if (clustered && isClusterPrimary()) {
    superviseWorkers(config.workers, config.logLevel);
    return;
  }
  const catalog = loadCatalog({ root: config.knowledgeDir ?? resolve(__dirname, '..') });
  const app = await buildApp({ config, catalog });
  if (config.auth === 'off') app.log.warn('CDS_AUTH=off: CDS Hooks JWTs are not checked (development only)');
  else app.log.info({ trustedIssuers: config.trustedIssuersFile }, 'CDS_AUTH=required: every /cds-services call needs a CDS Hooks JWT from a trusted issuer');
  if (config.fhirServerAllowAny) {
    app.log.error('CDS_FHIR_SERVER_ALLOWLIST=*: any trusted client can make the service call any fhirServer, internal addresses included, with the EHR\'s access token (see docs/security.md)');
  } else if (!config.fhirServerAllowlist) {
    app.log.warn('CDS_FHIR_SERVER_ALLOWLIST is not set: a request may name any fhirServer (development only; production refuses to start)');
  }
  if (clustered) {
    // Ctrl-C reaches the whole process group; the supervisor turns it into one SIGTERM per worker.
    // A second signal would make close-with-grace exit at once, before the audit queue is flushed.
    process.on('SIGINT', () => undefined);
  }
  let metricsServer: MetricsServer | undefined;
  closeWithGrace({ delay: 10_000, skip: clustered ? ['SIGINT'] : [] }, async ({ err }) => {
    if (err) app.log.error({ err: { message: err.message } }, 'shutting down after an error');
    await app.close();
    await metricsServer?.close();
  });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    // "listen EADDRINUSE" alone does not say which setting to change.
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new TypeError(`[config] PORT=${config.port} HOST=${config.host}: cannot listen (${code})${code === 'EADDRINUSE' ? ': the port is in use; set PORT to a free port' : ''}`);
  }
  // Past this many open connections new ones are closed at once (a flood cannot exhaust descriptors).
  app.server.maxConnections = config.maxConnections;
  if (config.metricsPort !== undefined) {
    metricsServer = await startMetricsServer(app.metrics, { port: config.metricsPort, host: config.host });
    app.log.info({ metrics: metricsServer.url }, 'metrics served on their own port (CDS_METRICS_PORT)');
  }
  // With CDS_WORKERS > 1 the supervisor says 'zoledronic-cds ready' once every worker listens.
  const readyMessage = clustered ? 'zoledronic-cds worker ready' : 'zoledronic-cds ready';
  app.log.info({ services: [...catalog.services.keys()], knowledgeFiles: catalog.files.length, publicBaseUrl: config.publicBaseUrl }, readyMessage);
}

main().catch((error: unknown) => {
  // Bad configuration or knowledge files: say exactly what, then stop.
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
