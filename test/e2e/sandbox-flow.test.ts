import { acceptedFeedback, ruleIdsOf, zoledronicDraftOrders } from '../../tools/cds-client/cds-client';
import { decodeJwt } from '../../tools/cds-client/jwt';
import { daysSinceAnchor } from '../../tools/demo-fhir/demo-dates';
import { readDemoManifest } from '../../tools/demo-fhir/load-demo-patients';
import { checkCards, requestLogOf, startSandboxEnv, type SandboxEnv } from './support/sandbox-env';

/**
 * End to end, as a clinician would meet it in the CDS Hooks sandbox: the demo FHIR server and the
 * service run as separate processes; the harness discovers the services, resolves the prefetch
 * against the FHIR server like the sandbox (form-encoded POST _search with bare patient ids), signs
 * a JWT per call and calls the hooks. Every demo patient must get exactly the cards its story
 * promises (examples/patients/manifest.json), today, with the service's real clock.
 */
const manifest = readDemoManifest();
const ELIGIBILITY = 'zoledronic-acid-eligibility';
const ORDER_SELECT = 'zoledronic-acid-order-select';
const ORDER_SIGN = 'zoledronic-acid-order-sign';

let env: SandboxEnv;
beforeAll(async () => {
  env = await startSandboxEnv();
}, 90_000);
afterAll(async () => {
  await env?.close();
});

test('the demo FHIR server loads every demo patient with its dates moved to today', () => {
  expect(env.fhir.ready.patients).toBe(manifest.patients.length);
  expect(env.fhir.ready.shiftDays).toBe(daysSinceAnchor(manifest.anchorDate, new Date()));
});

test('discovery lists one service per hook, so a client keying services by id reaches all three', async () => {
  const discovery = await env.client.discover();
  expect(discovery.status).toBe(200);
  expect(discovery.services.map((s) => [s.hook, s.id])).toEqual([
    ['patient-view', ELIGIBILITY],
    ['order-select', ORDER_SELECT],
    ['order-sign', ORDER_SIGN],
  ]);
});

describe.each(manifest.patients.map((p) => [p.id, p] as const))('%s', (patientId, patient) => {
  test(`patient-view: ${patient.expected['patient-view'].join(', ') || 'no cards'}`, async () => {
    const call = await env.client.patientView(patientId);
    expect(call.status).toBe(200);
    checkCards(call.cards);
    expect(ruleIdsOf(call.cards)).toEqual(patient.expected['patient-view']);
  });

  test(`order-select of zoledronic acid: ${patient.expected['order-select'].join(', ') || 'no cards'}`, async () => {
    const call = await env.client.orderSelect(patientId, zoledronicDraftOrders(patientId));
    expect(call.status).toBe(200);
    checkCards(call.cards);
    expect(ruleIdsOf(call.cards)).toEqual(patient.expected['order-select']);
  });

  test(`order-sign: ${patient.expected['order-sign'].join(', ') || 'no cards'}`, async () => {
    const call = await env.client.orderSign(patientId, zoledronicDraftOrders(patientId));
    expect(call.status).toBe(200);
    checkCards(call.cards);
    expect(ruleIdsOf(call.cards)).toEqual(patient.expected['order-sign']);
  });
});

describe('the sandbox path in detail', () => {
  test('prefetch goes to the FHIR server as form-encoded POST _search with the bare patient id, and the service makes no FHIR call', async () => {
    const call = await env.client.patientView('zol-01');
    const searches = call.fhirCalls.filter((c) => c.method === 'POST');
    expect(searches.length).toBeGreaterThan(10);
    for (const search of searches) {
      expect(search.url).toMatch(/\/[A-Z][A-Za-z]+\/_search$/);
      expect(search.contentType).toBe('application/x-www-form-urlencoded');
      expect(new URLSearchParams(search.body).get('patient')).toBe('zol-01');
      expect(search.status).toBe(200);
    }
    expect(call.fhirCalls.some((c) => c.method === 'GET' && c.url.endsWith('/Patient/zol-01'))).toBe(true);
    expect(call.skippedPrefetch).toEqual([]);
    const conditions = (call.request.prefetch as Record<string, { total?: number; entry?: { fullUrl?: string }[] }>).conditions!;
    expect(conditions.total).toBe(1);
    expect(conditions.entry![0]!.fullUrl).toBe(`${env.fhir.url}/Condition/zol01-breast-cancer`);
    expect(ruleIdsOf(call.cards)).toEqual(['PV-RECOMMEND', 'PV-CALCIUM-VITD']);
    const log = await requestLogOf(env.service, call.request.hookInstance as string);
    expect(log).toMatchObject({ status: 200, fhirFetches: 0, ruleIds: ['PV-RECOMMEND', 'PV-CALCIUM-VITD'] });
  });

  test('a prefetched search with a next page: the service reads the rest from the FHIR server and sees the newest creatinine', async () => {
    const call = await env.client.orderSelect('zol-10', zoledronicDraftOrders('zol-10'));
    const labs = (call.request.prefetch as Record<string, { total: number; entry: unknown[]; link: { relation: string }[] }>).labs!;
    expect(labs.total).toBe(26);
    expect(labs.entry).toHaveLength(20);
    expect(labs.link.map((l) => l.relation)).toContain('next');
    expect(ruleIdsOf(call.cards)).toEqual(['OS-RENAL-DETERIORATION']);
    expect(call.cards[0]!.detail).toContain('creatinine 1.25 mg/dL');
    expect(call.cards[0]!.detail).toContain('baseline 0.7 mg/dL');
  });

  test.each([['zol-01'], ['zol-10']])('%s without prefetch: the service queries the FHIR server itself (bare ids) and gives the same cards', async (patientId) => {
    const patient = manifest.patients.find((p) => p.id === patientId)!;
    const call = await env.client.patientView(patientId, { prefetch: 'none' });
    expect(call.fhirCalls).toEqual([]);
    expect(call.status).toBe(200);
    checkCards(call.cards);
    expect(ruleIdsOf(call.cards)).toEqual(patient.expected['patient-view']);
    const templates = Object.keys((await env.client.serviceFor('patient-view')).prefetch!);
    expect(await requestLogOf(env.service, call.request.hookInstance as string)).toMatchObject({ status: 200, fhirFetches: templates.length });
  });

  test('the order draft shaped like the sandbox (Bundle without type, category object, an unselected second draft) is accepted', async () => {
    const draft = zoledronicDraftOrders('zol-12');
    expect(draft.draftOrders.type).toBeUndefined();
    expect((draft.draftOrders.entry as unknown[]).length).toBe(2);
    const call = await env.client.orderSelect('zol-12', draft);
    expect(call.status).toBe(200);
    expect(ruleIdsOf(call.cards)).toEqual(['OS-DENTAL', 'OS-VITAMIN-D', 'OS-ACUTE-PHASE']);
    const dental = call.cards[0]!;
    expect(dental.indicator).toBe('warning');
    expect(dental.overrideReasons!.every((r) => r.display)).toBe(true);
  });

  test('an order-select whose selection is not zoledronic acid gives no card', async () => {
    const draft = zoledronicDraftOrders('zol-09');
    const call = await env.client.orderSelect('zol-09', { ...draft, selections: ['MedicationRequest/draft-ondansetron'] });
    expect(call.status).toBe(200);
    expect(call.cards).toEqual([]);
  });

  test('every call carries an ES384 JWT whose aud is the URL called', async () => {
    const call = await env.client.patientView('zol-02');
    const token = decodeJwt(call.authorization!.replace(/^Bearer /, ''));
    expect(token.header).toMatchObject({ alg: 'ES384', typ: 'JWT', kid: env.issuer.key.kid, jku: env.issuer.jwksUri });
    expect(token.payload).toMatchObject({ iss: env.issuer.iss, aud: `${env.service.url}/cds-services/${ELIGIBILITY}` });
    expect((token.payload.exp as number) - (token.payload.iat as number)).toBe(300);
  });

  test('feedback on an accepted suggestion is posted with aud = …/feedback (404 "no route" until the feedback endpoint exists)', async () => {
    const call = await env.client.patientView('zol-01');
    const recommend = call.cards.find((c) => c.source.topic?.code === 'PV-RECOMMEND')!;
    const entry = acceptedFeedback(recommend);
    expect(entry).toMatchObject({ card: recommend.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: recommend.suggestions![0]!.uuid }] });
    const result = await env.client.sendFeedback(ELIGIBILITY, [entry]);
    expect(decodeJwt(result.authorization!.replace(/^Bearer /, '')).payload.aud).toBe(`${env.service.url}/cds-services/${ELIGIBILITY}/feedback`);
    if (result.status === 404) {
      // Without the feedback route the app's not-found handler answers; an unknown service would be CDS_SERVICE_NOT_FOUND.
      const code = (result.body as { issue: { details: { coding: { code: string }[] } }[] }).issue[0]!.details.coding[0]!.code;
      expect(code).toBe('CDS_NOT_FOUND');
    } else {
      expect(result.status).toBe(200);
    }
  });
});
