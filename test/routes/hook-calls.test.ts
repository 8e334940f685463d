import type { AnyResource } from '../../src/engine/resource-index';
import { buildTestApp, cardFor, postHook, ruleIdsOf, type TestApp } from '../support/app';
import { chartOf, zoledronicDraft } from '../support/fixtures';
import { startFhirServer, type TestFhirServer } from '../support/fhir-server';
import { ELIGIBILITY, ORDER_SELECT, ORDER_SIGN, orderService, orderRequest, patientViewRequest, prefetchFor } from '../support/requests';

const PATIENT = 'pt-candidate';
const chart = chartOf('candidate-postmenopausal');
const PV_EXPECTED = ['PV-RECOMMEND', 'PV-CALCIUM-VITD'];
const ORDER_EXPECTED = ['OS-CALCIUM-VITD', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE'];

let t: TestApp;
let fhir: TestFhirServer;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());
afterEach(async () => {
  await fhir?.close();
});

describe('patient-view', () => {
  test('full prefetch: PV-RECOMMEND with a draft zoledronic acid order, and no FHIR call', async () => {
    fhir = await startFhirServer(chart);
    const prefetch = prefetchFor(ELIGIBILITY, chart, PATIENT);
    const response = await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, prefetch, fhirServer: fhir.url }));
    expect(response.status).toBe(200);
    expect(ruleIdsOf(response.body.cards)).toEqual(PV_EXPECTED);
    const card = cardFor(response.body.cards, 'PV-RECOMMEND')!;
    expect(card.indicator).toBe('info');
    expect(card.summary).toMatch(/zoledronic acid 4 mg IV every 6 months .*recommended/i);
    expect(card.source).toEqual({
      label: 'EBCTCG meta-analysis, Lancet 2015',
      url: 'https://doi.org/10.1016/S0140-6736(15)60908-4',
      topic: { system: 'https://zoledronic-cds.example.org/fhir/CodeSystem/rule', code: 'PV-RECOMMEND', display: 'Adjuvant zoledronic acid recommended' },
    });
    const order = card.suggestions![0]!.actions![0]!.resource as AnyResource;
    expect(card.suggestions![0]!.isRecommended).toBe(true);
    expect(order).toMatchObject({
      resourceType: 'MedicationRequest',
      status: 'draft',
      subject: { reference: `Patient/${PATIENT}` },
      requester: { reference: 'Practitioner/onc-1' },
      // Revision 2 §5.4: one orderable product, a bounded course, the indication referenced.
      medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '351114' }] },
      reasonReference: [{ reference: 'Condition/cond-bc' }],
      dosageInstruction: [{ timing: { repeat: { period: 6, periodUnit: 'mo', count: 6, duration: 15, durationUnit: 'min' } }, doseAndRate: [{ doseQuantity: { value: 4, code: 'mg' } }] }],
    });
    expect((order.dosageInstruction as { text: string }[])[0]!.text).toMatch(/never a calcium-containing solution/);
    expect(card.detail).toContain('postmenopausal (inferred: age 66 ≥ 60)');
    // The dose comes from the CrCl of this weight (68 kg): 4 mg for CrCl > 60 mL/min.
    expect(card.detail).toContain('4 mg for CrCl 74 mL/min');
    expect(fhir.requests).toHaveLength(0);
  });

  test('no prefetch: every query goes to fhirServer in parallel, without Authorization when none was given', async () => {
    fhir = await startFhirServer(chart);
    const response = await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, fhirServer: fhir.url }));
    expect(response.status).toBe(200);
    expect(ruleIdsOf(response.body.cards)).toEqual(PV_EXPECTED);
    const paths = fhir.requests.map((r) => r.path.split('?')[0]);
    expect(paths).toEqual(expect.arrayContaining(['/Patient/pt-candidate', '/Condition', '/Observation', '/MedicationRequest', '/Procedure']));
    expect(fhir.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
    expect(fhir.requests.find((r) => r.path.startsWith('/Condition'))!.path).toBe('/Condition?patient=pt-candidate');
  });

  test('no prefetch with fhirAuthorization: the bearer token goes with every FHIR call', async () => {
    fhir = await startFhirServer(chart);
    const response = await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, fhirServer: fhir.url, accessToken: 'opaque-token-123' }));
    expect(response.status).toBe(200);
    expect(ruleIdsOf(response.body.cards)).toEqual(PV_EXPECTED);
    expect(fhir.requests.length).toBeGreaterThan(5);
    expect(fhir.requests.every((r) => r.headers.authorization === 'Bearer opaque-token-123')).toBe(true);
  });

  test('an OperationOutcome prefetch is fetched again; the other keys are used as sent', async () => {
    fhir = await startFhirServer(chart);
    const prefetch = prefetchFor(ELIGIBILITY, chart, PATIENT);
    prefetch.conditions = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout' }] };
    const response = await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, prefetch, fhirServer: fhir.url }));
    expect(response.status).toBe(200);
    expect(ruleIdsOf(response.body.cards)).toEqual(PV_EXPECTED);
    expect(fhir.requests.map((r) => r.path)).toEqual(['/Condition?patient=pt-candidate']);
  });

  test('a null prefetch means "no data": no conditions, so no breast cancer and no card, and no fetch', async () => {
    fhir = await startFhirServer(chart);
    const prefetch = prefetchFor(ELIGIBILITY, chart, PATIENT);
    prefetch.conditions = { resourceType: 'Bundle', type: 'searchset', total: 0 };
    const response = await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, prefetch, fhirServer: fhir.url }));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ cards: [] });
    expect(fhir.requests).toHaveLength(0);
  });

  test('neither prefetch nor fhirServer: 412 with an OperationOutcome naming the missing keys', async () => {
    const response = await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT }));
    expect(response.status).toBe(412);
    expect(response.headers['content-type']).toMatch(/application\/fhir\+json/);
    expect(response.body.resourceType).toBe('OperationOutcome');
    expect(response.body.issue[0].details.coding[0].code).toBe('CDS_PREFETCH_UNAVAILABLE');
    expect(response.body.issue[0].expression).toEqual(['prefetch.patient', 'prefetch.conditions', 'prefetch.tumorMarkers', 'prefetch.medicationRequests']);
  });

  test('a required key the FHIR server cannot answer: 412', async () => {
    fhir = await startFhirServer(chart, {
      handle: (path, respond) => {
        if (!path.startsWith('/Condition')) return false;
        respond(500, '{"resourceType":"OperationOutcome"}');
        return true;
      },
    });
    const response = await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, fhirServer: fhir.url }));
    expect(response.status).toBe(412);
    expect(response.body.issue[0].expression).toEqual(['prefetch.conditions']);
  });

  test('an optional key the FHIR server cannot answer: cards still come, and say what is missing', async () => {
    fhir = await startFhirServer(chart, {
      handle: (path, respond) => {
        if (!path.startsWith('/Procedure')) return false;
        respond(503, 'busy');
        return true;
      },
    });
    const response = await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, fhirServer: fhir.url }));
    expect(response.status).toBe(200);
    const card = cardFor(response.body.cards, 'PV-RECOMMEND')!;
    expect(card.detail).toContain('Procedure data (procedures) could not be obtained');
    expect(card.detail).toMatch(/Dental examination \(6 months\): Procedure data could not be obtained/);
  });

  test('searchset pages are followed through next links', async () => {
    fhir = await startFhirServer(chart, { pageSize: 2 });
    const response = await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, fhirServer: fhir.url }));
    expect(response.status).toBe(200);
    expect(ruleIdsOf(response.body.cards)).toEqual(PV_EXPECTED);
    expect(fhir.requests.some((r) => r.path.includes('_offset=2'))).toBe(true);
  });

  test('a patient without breast cancer gets no card at all', async () => {
    const noCancer = chart.filter((r) => r.resourceType !== 'Condition');
    const response = await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, prefetch: prefetchFor(ELIGIBILITY, noCancer, PATIENT) }));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ cards: [] });
  });
});

describe('order-select and order-sign', () => {
  const draft = zoledronicDraft(PATIENT);

  test.each(['order-select', 'order-sign'] as const)('%s with full prefetch: first-dose cards for the zoledronic acid draft', async (hook) => {
    const prefetch = prefetchFor(ORDER_SELECT, chart, PATIENT);
    const response = await postHook(t.app, orderService(hook), orderRequest(hook, { patientId: PATIENT, prefetch, draftOrders: [draft] }));
    expect(response.status).toBe(200);
    expect(ruleIdsOf(response.body.cards)).toEqual(ORDER_EXPECTED);
    expect(cardFor(response.body.cards, 'OS-ACUTE-PHASE')!.summary).toMatch(/acetaminophen/i);
  });

  test.each(['order-select', 'order-sign'] as const)('%s without prefetch: data come from fhirServer', async (hook) => {
    fhir = await startFhirServer(chart);
    const response = await postHook(t.app, orderService(hook), orderRequest(hook, { patientId: PATIENT, fhirServer: fhir.url, draftOrders: [draft] }));
    expect(response.status).toBe(200);
    expect(ruleIdsOf(response.body.cards)).toEqual(ORDER_EXPECTED);
    expect(fhir.requests.length).toBeGreaterThan(5);
  });

  test('order-select of another drug: no card, and no FHIR call at all', async () => {
    fhir = await startFhirServer(chart);
    const other = {
      ...zoledronicDraft(PATIENT),
      id: 'draft-amox',
      medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '617993' }], text: 'Amoxicillin 120 MG/ML / clavulanate potassium 8.58 MG/ML Oral Suspension' },
    };
    const response = await postHook(t.app, ORDER_SELECT, orderRequest('order-select', { patientId: PATIENT, fhirServer: fhir.url, draftOrders: [other, draft], selections: ['MedicationRequest/draft-amox'] }));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ cards: [] });
    expect(fhir.requests).toHaveLength(0);
  });

  test('Epic-style medicationReference resolved from the draftOrders Bundle', async () => {
    const medication = { resourceType: 'Medication', id: 'med-zol', code: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '351114' }], text: 'ZOLEDRONIC ACID 4 MG/5 ML IV CONC' } };
    const { medicationCodeableConcept: _omit, ...rest } = draft;
    const byReference = { ...rest, medicationReference: { reference: 'Medication/med-zol' } };
    const prefetch = prefetchFor(ORDER_SELECT, chart, PATIENT);
    const response = await postHook(t.app, ORDER_SIGN, orderRequest('order-sign', { patientId: PATIENT, prefetch, draftOrders: [byReference, medication] }));
    expect(ruleIdsOf(response.body.cards)).toEqual(ORDER_EXPECTED);
  });

  test('medicationReference to a contained Medication', async () => {
    const { medicationCodeableConcept: _omit, ...rest } = draft;
    const contained = {
      ...rest,
      contained: [{ resourceType: 'Medication', id: 'm1', code: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '77655', display: 'zoledronic acid' }] } }],
      medicationReference: { reference: '#m1' },
    };
    const prefetch = prefetchFor(ORDER_SELECT, chart, PATIENT);
    const response = await postHook(t.app, ORDER_SELECT, orderRequest('order-select', { patientId: PATIENT, prefetch, draftOrders: [contained] }));
    expect(ruleIdsOf(response.body.cards)).toEqual(ORDER_EXPECTED);
  });

  test('medicationReference read from fhirServer when neither contained nor in the Bundle', async () => {
    const medication = { resourceType: 'Medication', id: 'med-remote', code: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '351114' }] } };
    fhir = await startFhirServer([...chart, medication]);
    const { medicationCodeableConcept: _omit, ...rest } = draft;
    const remote = { ...rest, medicationReference: { reference: 'Medication/med-remote' } };
    const prefetch = prefetchFor(ORDER_SELECT, chart, PATIENT);
    const response = await postHook(t.app, ORDER_SELECT, orderRequest('order-select', { patientId: PATIENT, prefetch, fhirServer: fhir.url, draftOrders: [remote] }));
    expect(ruleIdsOf(response.body.cards)).toEqual(ORDER_EXPECTED);
    expect(fhir.requests.map((r) => r.path)).toEqual(['/Medication/med-remote']);
  });

  test('an order for a patient without breast cancer: no card', async () => {
    const noCancer = chart.filter((r) => r.resourceType !== 'Condition');
    const prefetch = prefetchFor(ORDER_SELECT, noCancer, PATIENT);
    const response = await postHook(t.app, ORDER_SIGN, orderRequest('order-sign', { patientId: PATIENT, prefetch, draftOrders: [draft] }));
    expect(response.body).toEqual({ cards: [] });
  });

  test.each(['order-select', 'order-sign'] as const)('%s with an OperationOutcome prefetch: that key is fetched again', async (hook) => {
    fhir = await startFhirServer(chart);
    const prefetch = prefetchFor(ORDER_SELECT, chart, PATIENT);
    prefetch.labs = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception' }] };
    const response = await postHook(t.app, orderService(hook), orderRequest(hook, { patientId: PATIENT, prefetch, fhirServer: fhir.url, draftOrders: [draft] }));
    expect(response.status).toBe(200);
    expect(ruleIdsOf(response.body.cards)).toEqual(ORDER_EXPECTED);
    expect(fhir.requests.map((r) => r.path.split('?')[0])).toEqual(['/Observation']);
  });

  test('order-select: no prefetch and no fhirServer: 412', async () => {
    const response = await postHook(t.app, ORDER_SELECT, orderRequest('order-select', { patientId: PATIENT, draftOrders: [draft] }));
    expect(response.status).toBe(412);
    expect(response.body.issue[0].details.coding[0].code).toBe('CDS_PREFETCH_UNAVAILABLE');
  });

  test('no prefetch and no fhirServer: 412', async () => {
    const response = await postHook(t.app, ORDER_SIGN, orderRequest('order-sign', { patientId: PATIENT, draftOrders: [draft] }));
    expect(response.status).toBe(412);
    expect(response.body.resourceType).toBe('OperationOutcome');
  });
});
