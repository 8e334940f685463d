import request from 'supertest';
import { loadConfig } from '../../src/config/env';
import { buildTestApp, type TestApp } from '../support/app';
import { ELIGIBILITY, patientViewRequest } from '../support/requests';
import { eventually } from '../support/wait';

/**
 * Load shedding (@fastify/under-pressure): when the event loop falls behind, hook calls get a
 * retryable 503 with Retry-After at once; health, readiness and metrics still answer.
 */
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ env: { CDS_SHED_EVENT_LOOP_DELAY_MS: '20' }, pressureSampleIntervalMs: 50 });
});
afterAll(() => t.close());

/** Keeps the event loop busy for `ms`, as a burst of CPU-heavy requests would. */
function blockEventLoop(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
}

test('an overloaded replica answers hook calls 503 CDS_OVERLOADED with Retry-After, and health endpoints 200', async () => {
  const server = t.app.server;
  const hookCall = () => request(server).post(`/cds-services/${ELIGIBILITY}`).send(patientViewRequest({ patientId: 'pt-1' }));
  // The pressure sample is taken on a timer; try a few bursts (generous bound, no timing assertion).
  let shed: Awaited<ReturnType<typeof hookCall>> | undefined;
  let health: { healthz: number; readyz: number; metrics: number } | undefined;
  for (let attempt = 0; attempt < 20 && !shed; attempt++) {
    blockEventLoop(300);
    await new Promise((resolve) => setTimeout(resolve, 0));
    const [call, healthz, readyz, metrics] = await Promise.all([hookCall(), request(server).get('/healthz'), request(server).get('/readyz'), request(server).get('/metrics')]);
    if (call.status === 503) {
      shed = call;
      health = { healthz: healthz.status, readyz: readyz.status, metrics: metrics.status };
    }
  }
  expect(shed).toBeDefined();
  expect(shed!.headers['retry-after']).toBe('2');
  expect(shed!.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'transient', details: { coding: [{ code: 'CDS_OVERLOADED' }] } }] });
  expect(health).toEqual({ healthz: 200, readyz: 200, metrics: 200 });
});

test('once the event loop has caught up, calls are answered again', async () => {
  // The pressure sampler announces nothing: probe until a call is answered (generous bound).
  const status = await eventually(
    async () => (await request(t.app.server).get('/cds-services')).status,
    (answered) => answered === 200,
    { everyMs: 50 },
  );
  expect(status).toBe(200);
});

test('defaults: shedding at 500 ms of event-loop delay; the per-client limit is an abuse guard of 1000 calls/s', () => {
  expect(loadConfig({})).toMatchObject({ shedEventLoopDelayMs: 500, shedEventLoopUtilization: 0, rateLimitMax: 60000, rateLimitWindowMs: 60000 });
});
