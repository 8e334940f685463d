import request from 'supertest';
import { buildTestApp, postHook, type TestApp } from '../support/app';
import { zoledronicDraft } from '../support/fixtures';
import { ELIGIBILITY, orderService, orderRequest, patientViewRequest } from '../support/requests';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ env: { CDS_BODY_LIMIT_BYTES: '65536' } });
});
afterAll(() => t.close());

const valid = () => patientViewRequest({ patientId: 'pt-1', prefetch: { patient: null } });
const validOrder = () => orderRequest('order-select', { patientId: 'pt-1', draftOrders: [zoledronicDraft('pt-1')] });

function expectOutcome(body: { resourceType: string; issue: { code: string; details: { coding: { code: string }[] }; expression?: string[] }[] }, code: string, expression?: string) {
  expect(body.resourceType).toBe('OperationOutcome');
  expect(body.issue[0]!.details.coding[0]!.code).toBe(code);
  if (expression) expect(body.issue[0]!.expression).toContain(expression);
}

describe('bad requests get 400 with an OperationOutcome naming the field', () => {
  const cases: [string, () => unknown, string][] = [
    ['missing hookInstance', () => ({ ...valid(), hookInstance: undefined }), 'hookInstance'],
    ['hookInstance not a UUID', () => ({ ...valid(), hookInstance: 'abc' }), 'hookInstance'],
    ['missing context', () => ({ ...valid(), context: undefined }), 'context'],
    ['missing patientId', () => ({ ...valid(), context: { userId: 'Practitioner/1' } }), 'context.patientId'],
    ['patientId with a slash', () => ({ ...valid(), context: { userId: 'Practitioner/1', patientId: 'Patient/1' } }), 'context.patientId'],
    ['userId not Type/id', () => ({ ...valid(), context: { userId: 'dr-house', patientId: 'pt-1' } }), 'context.userId'],
    ['fhirServer not a URL', () => ({ ...valid(), fhirServer: 'not a url' }), 'fhirServer'],
    ['fhirAuthorization without fhirServer', () => ({ ...valid(), fhirAuthorization: { access_token: 'x', token_type: 'Bearer', expires_in: 300, scope: 's', subject: 'c' } }), 'fhirServer'],
    ['fhirAuthorization without access_token', () => ({ ...valid(), fhirServer: 'https://ehr.example/fhir', fhirAuthorization: { token_type: 'Bearer', expires_in: 300, scope: 's', subject: 'c' } }), 'fhirAuthorization.access_token'],
    ['fhirAuthorization with a non-Bearer token type', () => ({ ...valid(), fhirServer: 'https://ehr.example/fhir', fhirAuthorization: { access_token: 'x', token_type: 'MAC', expires_in: 300, scope: 's', subject: 'c' } }), 'fhirAuthorization.token_type'],
    ['prefetch value that is not a resource', () => ({ ...valid(), prefetch: { patient: 'Patient/1' } }), 'prefetch.patient'],
    ['prefetch resource without resourceType', () => ({ ...valid(), prefetch: { patient: { id: '1' } } }), 'prefetch.patient.resourceType'],
    ['hook missing', () => ({ ...valid(), hook: undefined }), 'hook'],
  ];
  test.each(cases)('%s', async (_name, body, field) => {
    const response = await postHook(t.app, ELIGIBILITY, body());
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(/application\/fhir\+json/);
    expectOutcome(response.body, 'CDS_REQUEST_INVALID', field);
  });

  test('a hook the service does not serve', async () => {
    const response = await postHook(t.app, ELIGIBILITY, { ...validOrder(), hook: 'order-select' });
    expect(response.status).toBe(400);
    expectOutcome(response.body, 'CDS_HOOK_MISMATCH', 'hook');
    expect(response.body.issue[0].diagnostics).toContain("does not serve hook 'order-select'");
  });

  const orderCases: [string, () => unknown, string][] = [
    ['order-select without selections', () => ({ ...validOrder(), context: { ...validOrder().context, selections: undefined } }), 'context.selections'],
    ['order-select with empty selections', () => ({ ...validOrder(), context: { ...validOrder().context, selections: [] } }), 'context.selections'],
    ['order-select without draftOrders', () => ({ ...validOrder(), context: { ...validOrder().context, draftOrders: undefined } }), 'context.draftOrders'],
    ['draftOrders that is not a Bundle', () => ({ ...validOrder(), context: { ...validOrder().context, draftOrders: { resourceType: 'List' } } }), 'context.draftOrders.resourceType'],
    ['a selection that is not in draftOrders', () => ({ ...validOrder(), context: { ...validOrder().context, selections: ['MedicationRequest/elsewhere'] } }), 'context.selections'],
    ['order-sign without draftOrders', () => ({ ...orderRequest('order-sign', { patientId: 'pt-1', draftOrders: [] }), context: { userId: 'Practitioner/1', patientId: 'pt-1' } }), 'context.draftOrders'],
    ['order-select by a Patient user', () => ({ ...validOrder(), context: { ...validOrder().context, userId: 'Patient/pt-1' } }), 'context.userId'],
  ];
  test.each(orderCases)('%s', async (_name, body, field) => {
    const payload = body();
    const response = await postHook(t.app, orderService((payload as { hook: 'order-select' | 'order-sign' }).hook), payload);
    expect(response.status).toBe(400);
    expectOutcome(response.body, 'CDS_REQUEST_INVALID', field);
  });

  test('a body that is not JSON', async () => {
    const response = await request(t.app.server).post(`/cds-services/${ELIGIBILITY}`).set('content-type', 'application/json').send('{"hook":');
    expect(response.status).toBe(400);
    expectOutcome(response.body, 'CDS_REQUEST_INVALID');
  });

  test('a JSON array instead of an object', async () => {
    const response = await postHook(t.app, ELIGIBILITY, [valid()]);
    expect(response.status).toBe(400);
    expectOutcome(response.body, 'CDS_REQUEST_INVALID');
  });

  test('prototype-pollution keys are refused', async () => {
    const body = `{"hook":"patient-view","hookInstance":"${valid().hookInstance}","context":{"userId":"Practitioner/1","patientId":"p1","__proto__":{"admin":true}}}`;
    const response = await request(t.app.server).post(`/cds-services/${ELIGIBILITY}`).set('content-type', 'application/json').send(body);
    expect(response.status).toBe(400);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });
});

describe('other client errors', () => {
  test('unknown service: 404', async () => {
    const response = await postHook(t.app, 'no-such-service', valid());
    expect(response.status).toBe(404);
    expectOutcome(response.body, 'CDS_SERVICE_NOT_FOUND');
  });

  test('oversize body: 413', async () => {
    const big = { ...valid(), extension: { padding: 'x'.repeat(70_000) } };
    const response = await postHook(t.app, ELIGIBILITY, big);
    expect(response.status).toBe(413);
    expectOutcome(response.body, 'CDS_BODY_TOO_LARGE');
  });

  test('a non-JSON content type: 415', async () => {
    const response = await request(t.app.server).post(`/cds-services/${ELIGIBILITY}`).set('content-type', 'text/plain').send('hello');
    expect(response.status).toBe(415);
    expectOutcome(response.body, 'CDS_UNSUPPORTED_MEDIA_TYPE');
  });

  test('application/fhir+json bodies are accepted like JSON', async () => {
    const response = await request(t.app.server).post(`/cds-services/${ELIGIBILITY}`).set('content-type', 'application/fhir+json').send(JSON.stringify(valid()));
    // Valid request, but the required keys are neither prefetched nor fetchable.
    expect(response.status).toBe(412);
  });

  test('unknown route: 404 OperationOutcome', async () => {
    const response = await request(t.app.server).get('/nothing-here');
    expect(response.status).toBe(404);
    expectOutcome(response.body, 'CDS_NOT_FOUND');
  });
});
