import type { AnyResource } from '../../src/engine/resource-index';
import type { Card } from '../../src/schemas/cds-response';
import { buildTestApp, cardFor, postHook, ruleIdsOf, type TestApp } from '../support/app';
import { startFhirServer } from '../support/fhir-server';
import { ELIGIBILITY, orderService, orderRequest, patientViewRequest, prefetchFor } from '../support/requests';
import { loadScenarios, type LoadedScenario } from '../support/scenarios';

const scenarios = loadScenarios();

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

function at(resource: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => {
    if (value === undefined || value === null) return undefined;
    if (Array.isArray(value) && /^\d+$/.test(key)) return value[Number(key)];
    return (value as Record<string, unknown>)[key];
  }, resource);
}

async function run({ scenario, chart }: LoadedScenario): Promise<Card[]> {
  const serviceId = scenario.hook === 'patient-view' ? ELIGIBILITY : orderService(scenario.hook);
  // Like a real EHR, the client always names its FHIR server (medicationReference reads go there);
  // 'fhir-server' scenarios send no prefetch at all.
  const server = await startFhirServer(chart);
  try {
    const delivery =
      scenario.delivery === 'fhir-server'
        ? { fhirServer: server.url }
        : { fhirServer: server.url, prefetch: prefetchFor(serviceId, chart, scenario.patientId) };
    const body =
      scenario.hook === 'patient-view'
        ? patientViewRequest({ patientId: scenario.patientId, ...delivery })
        : orderRequest(scenario.hook, {
            patientId: scenario.patientId,
            ...delivery,
            draftOrders: (scenario.draftOrders ?? []) as AnyResource[],
            ...(scenario.selections ? { selections: scenario.selections } : {}),
          });
    const response = await postHook(t.app, serviceId, body);
    expect(response.status).toBe(200);
    return response.body.cards as Card[];
  } finally {
    await server.close();
  }
}

describe.each(scenarios.map((s) => [s.file, s] as const))('%s', (_file, loaded) => {
  const { scenario } = loaded;
  test(scenario.title, async () => {
    const cards = await run(loaded);
    expect(ruleIdsOf(cards)).toEqual(scenario.expect.rules);
    for (const absent of scenario.expect.absent) expect(ruleIdsOf(cards)).not.toContain(absent);
    for (const [ruleId, check] of Object.entries(scenario.expect.cards ?? {})) {
      const card = cardFor(cards, ruleId);
      expect(card).toBeDefined();
      if (check.indicator) expect([ruleId, card!.indicator]).toEqual([ruleId, check.indicator]);
      for (const words of check.summary ?? []) expect(card!.summary.toLowerCase()).toContain(words.toLowerCase());
      for (const words of check.detail ?? []) expect(card!.detail).toContain(words);
      if (check.suggestion) {
        const action = card!.suggestions?.[0]?.actions?.[0];
        expect(action?.type).toBe(check.suggestion.type);
        if (check.suggestion.resourceType) expect(action?.resource?.resourceType).toBe(check.suggestion.resourceType);
        if (check.suggestion.resourceId) expect(action?.resourceId).toBe(check.suggestion.resourceId);
        for (const [path, value] of Object.entries(check.suggestion.resource ?? {})) expect([path, at(action?.resource, path)]).toEqual([path, value]);
      }
    }
  });
});

test('every scenario is consistent: what it proves is what it expects', () => {
  for (const { file, scenario } of scenarios) {
    for (const id of scenario.proves.fires) expect([file, id, scenario.expect.rules.includes(id)]).toEqual([file, id, true]);
    for (const id of scenario.proves.nearMissFor) expect([file, id, scenario.expect.absent.includes(id)]).toEqual([file, id, true]);
  }
});
