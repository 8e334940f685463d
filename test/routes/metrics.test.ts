import request from 'supertest';
import { buildTestApp, postHook, type TestApp } from '../support/app';
import { projectCatalog } from '../support/catalog';
import { chartOf } from '../support/fixtures';
import { startFhirServer } from '../support/fhir-server';
import { ELIGIBILITY, patientViewRequest, prefetchFor } from '../support/requests';

const PATIENT = 'pt-candidate';
const chart = chartOf('candidate-postmenopausal');
const KEYS = projectCatalog().services.get(ELIGIBILITY)!.prefetch.length;

let t: TestApp;
let other: TestApp | undefined;
beforeEach(async () => {
  t = await buildTestApp();
});
afterEach(async () => {
  await t.close();
  await other?.close();
  other = undefined;
});

async function scrape(app: TestApp) {
  const response = await request(app.app.server).get('/metrics');
  expect(response.status).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text;
}

/** The value of one series (exact name and labels as prom-client prints them). */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const SERVICE = `service="${ELIGIBILITY}"`;

test('requests, latency, cards by rule, prefetch sources and FHIR calls are counted', async () => {
  // One call fully prefetched, one fetched from a FHIR server, one against a failing FHIR server.
  expect((await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, prefetch: prefetchFor(ELIGIBILITY, chart, PATIENT) }))).status).toBe(200);
  const fhir = await startFhirServer(chart);
  const failing = await startFhirServer(chart, { handle: (path, respond) => (path.startsWith('/Procedure') ? (respond(500, '{}'), true) : false) });
  try {
    expect((await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, fhirServer: fhir.url }))).status).toBe(200);
    expect((await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, fhirServer: failing.url }))).status).toBe(200);
    await request(t.app.server).get('/cds-services/nope/feedback/summary');

    const text = await scrape(t);
    const route = 'route="/cds-services/:id",method="POST",status="200"';
    expect(value(text, `cds_http_requests_total{${SERVICE},${route}}`)).toBe(3);
    expect(value(text, `cds_http_request_duration_seconds_count{${SERVICE},${route}}`)).toBe(3);
    expect(value(text, `cds_http_requests_total{service="",route="/cds-services/:id/feedback/summary",method="GET",status="404"}`)).toBe(1);
    expect(value(text, `cds_cards_issued_total{${SERVICE},rule_id="PV-RECOMMEND",indicator="info"}`)).toBeGreaterThanOrEqual(2);
    expect(value(text, `cds_prefetch_keys_total{${SERVICE},source="prefetch"}`)).toBe(KEYS);
    expect(value(text, `cds_prefetch_keys_total{${SERVICE},source="fetched"}`)).toBeGreaterThanOrEqual(KEYS - 1);
    expect(value(text, `cds_prefetch_keys_total{${SERVICE},source="unavailable"}`)).toBeGreaterThanOrEqual(1);
    const ok = fhir.requests.length + failing.requests.filter((r) => !r.path.startsWith('/Procedure')).length;
    expect(value(text, 'cds_fhir_requests_total{outcome="ok"}')).toBe(ok);
    expect(value(text, 'cds_fhir_requests_total{outcome="http-error"}')).toBe(failing.requests.filter((r) => r.path.startsWith('/Procedure')).length);
    expect(value(text, 'cds_fhir_request_duration_seconds_count{outcome="ok"}')).toBe(ok);
    // Process metrics, including event-loop lag.
    expect(value(text, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  } finally {
    await fhir.close();
    await failing.close();
  }
});

test('the JWT verifier can count rejections by reason; feedback and store state are exported', async () => {
  t.app.metrics.jwtRejections.inc({ reason: 'expired' });
  t.app.metrics.jwtRejections.inc({ reason: 'replayed-jti' });
  await request(t.app.server)
    .post(`/cds-services/${ELIGIBILITY}/feedback`)
    .send({ feedback: [{ card: 'f6b95768-b1c8-40dc-8385-bf3504b82ffb', outcome: 'overridden', outcomeTimestamp: '2026-11-27T12:00:00Z' }] });
  const text = await scrape(t);
  expect(value(text, 'cds_jwt_rejections_total{reason="expired"}')).toBe(1);
  expect(value(text, 'cds_jwt_rejections_total{reason="replayed-jti"}')).toBe(1);
  expect(value(text, `cds_feedback_items_total{${SERVICE},outcome="overridden",result="unknown_card"}`)).toBe(1);
  expect(value(text, 'cds_store_up')).toBe(1);
  expect(value(text, 'cds_audit_queue_depth')).toBe(0);
});

test('each app has its own registry: counts never leak between instances', async () => {
  other = await buildTestApp();
  await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, prefetch: prefetchFor(ELIGIBILITY, chart, PATIENT) }));
  const text = await scrape(other);
  expect(value(text, `cds_http_requests_total{${SERVICE},route="/cds-services/:id",method="POST",status="200"}`)).toBeUndefined();
  expect(text).not.toContain('PV-RECOMMEND');
});

test('no patient data in metrics', async () => {
  await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, prefetch: prefetchFor(ELIGIBILITY, chart, PATIENT) }));
  const text = await scrape(t);
  for (const forbidden of [PATIENT, 'Lindqvist', 'MRN-100234', 'Practitioner/onc-1']) expect(text).not.toContain(forbidden);
});
