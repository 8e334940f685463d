import request from 'supertest';
import { loadConfig } from '../../src/config/env';
import { startMetricsServer, type MetricsServer } from '../../src/metrics/metrics-server';
import { buildTestApp, type TestApp } from '../support/app';

/** CDS_METRICS_PORT: /metrics leaves the public port, for a monitoring-only network path. */
let t: TestApp;
let metricsServer: MetricsServer;
beforeAll(async () => {
  t = await buildTestApp({ env: { CDS_METRICS_PORT: '9464' } });
  metricsServer = await startMetricsServer(t.app.metrics, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await metricsServer.close();
  await t.close();
});

test('the public port no longer serves /metrics', async () => {
  expect((await request(t.app.server).get('/metrics')).status).toBe(404);
  expect((await request(t.app.server).get('/healthz')).status).toBe(200);
});

test('the metrics port serves the same registry, and nothing else', async () => {
  await request(t.app.server).get('/cds-services');
  const response = await fetch(metricsServer.url);
  expect(response.status).toBe(200);
  expect(await response.text()).toMatch(/cds_http_requests_total\{[^}]*route="\/cds-services"[^}]*\} 1/);
  expect((await fetch(metricsServer.url.replace('/metrics', '/cds-services'))).status).toBe(404);
});

test('CDS_METRICS_PORT must be a port other than PORT', () => {
  expect(() => loadConfig({ CDS_METRICS_PORT: '8080' })).toThrow('[config] CDS_METRICS_PORT must differ from PORT');
  expect(() => loadConfig({ CDS_METRICS_PORT: 'x' })).toThrow(/CDS_METRICS_PORT/);
});

test('a metrics port that is taken stops start-up naming the variable', async () => {
  const port = Number(new URL(metricsServer.url).port);
  await expect(startMetricsServer(t.app.metrics, { port, host: '127.0.0.1' })).rejects.toThrow(`[metrics] CDS_METRICS_PORT=${port}: cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
});
