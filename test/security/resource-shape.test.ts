import request from 'supertest';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../../src/security/json-depth';
import { arrayItemsOf, MAX_ARRAY_LENGTH, ShapeBudget } from '../../src/security/resource-shape';
import { buildTestApp, cardFor, postHook, ruleIdsOf, type TestApp } from '../support/app';
import { chartOf, zoledronicDraft } from '../support/fixtures';
import { ELIGIBILITY, ORDER_SELECT, orderRequest, patientViewRequest, prefetchFor } from '../support/requests';

/**
 * Shapes no real FHIR resource has, which would otherwise cost minutes of CPU (FHIRPath compares
 * array items pairwise) or overflow the stack (recursion over deep nesting): refused at the edge, or
 * — for chart data — set aside as "could not be used", so the facts they feed are unknown.
 */
const PATIENT = 'pt-candidate';
const chart = chartOf('candidate-postmenopausal');
const nested = (depth: number) => `${'['.repeat(depth)}0${']'.repeat(depth)}`;

describe('limits', () => {
  test('nesting depth is measured without recursion, whatever the depth', () => {
    expect(exceedsJsonDepth(JSON.parse(nested(MAX_JSON_DEPTH)))).toBe(false);
    expect(exceedsJsonDepth(JSON.parse(nested(MAX_JSON_DEPTH + 1)))).toBe(true);
    expect(exceedsJsonDepth(JSON.parse(`${'{"a":'.repeat(200_000)}1${'}'.repeat(200_000)}`))).toBe(true);
    expect(exceedsJsonDepth('text')).toBe(false);
  });

  test('array items are counted; one array over the limit makes a resource malformed', () => {
    expect(arrayItemsOf({ a: [1, 2, [3, 4]], b: { c: [] } })).toBe(5);
    expect(arrayItemsOf({ code: { coding: Array.from({ length: MAX_ARRAY_LENGTH + 1 }, () => ({})) } })).toBeUndefined();
    const budget = new ShapeBudget(10);
    expect(budget.admit({ a: [1, 2, 3, 4, 5, 6] })).toBe('ok');
    expect(budget.admit({ a: [1, 2, 3, 4, 5] })).toBe('over-budget');
    expect(budget.admit({ a: [1, 2, 3, 4] })).toBe('ok');
    expect(budget.admit({ a: Array.from({ length: 300 }, () => 0) })).toBe('malformed');
  });
});

describe('through the service', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  test('a request nested deeper than the limit is a 400, not a stack overflow', async () => {
    const body = JSON.stringify(patientViewRequest({ patientId: PATIENT, prefetch: prefetchFor(ELIGIBILITY, chart, PATIENT) })).replace('"context":', `"extension":{"deep":${nested(5000)}},"context":`);
    const raw = await request(t.app.server).post(`/cds-services/${ELIGIBILITY}`).set('content-type', 'application/json').send(body);
    expect(raw.status).toBe(400);
    expect(raw.body.issue[0].diagnostics).toBe(`The request body is nested more than ${MAX_JSON_DEPTH} levels deep`);
  });

  test('a prefetched resource with a 40 000-item array is set aside: its type is "could not be used", the other cards stand', async () => {
    const prefetch = prefetchFor(ELIGIBILITY, chart, PATIENT) as Record<string, { entry?: { resource: Record<string, unknown> }[] }>;
    const procedure = prefetch.procedures!.entry![0]!.resource;
    procedure.status = Array.from({ length: 40_000 }, (_, i) => (i % 2 ? 'completed' : { resourceType: 'Condition' }));
    const response = await postHook(t.app, ELIGIBILITY, patientViewRequest({ patientId: PATIENT, prefetch }));
    expect(response.status).toBe(200);
    expect(ruleIdsOf(response.body.cards)).toEqual(['PV-RECOMMEND', 'PV-CALCIUM-VITD']);
    const card = cardFor(response.body.cards, 'PV-RECOMMEND')!;
    expect(card.detail).toContain('Procedure data could not be used: a resource had an implausibly long list');
    expect(card.detail).toMatch(/Dental examination \(6 months\): Procedure data could not be obtained/);
  });

  test('a draft order with an absurd array is a 400 naming it (the order itself cannot be set aside)', async () => {
    const draft = zoledronicDraft(PATIENT, { note: Array.from({ length: 5000 }, () => ({ text: 'x' })) });
    const response = await postHook(t.app, ORDER_SELECT, orderRequest('order-select', { patientId: PATIENT, prefetch: prefetchFor(ORDER_SELECT, chart, PATIENT), draftOrders: [draft] }));
    expect(response.status).toBe(400);
    expect(response.body.issue[0].expression).toEqual(['context.draftOrders.entry[0].resource']);
  });
});
