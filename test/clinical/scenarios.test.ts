import { runHook, type HookDeps } from '../../src/engine/run-hook';
import type { AnyResource } from '../../src/engine/resource-index';
import { validateHookRequest } from '../../src/engine/validate-request';
import type { Card } from '../../src/schemas/cds-response';
import { buildTestApp, cardFor, postHook, ruleIdsOf, type TestApp } from '../support/app';
import { recordCards } from '../support/card-invariants';
import { projectCatalog } from '../support/catalog';
import { seededUuid, TEST_NOW } from '../support/clock';
import { startFhirServer } from '../support/fhir-server';
import { IN_MEMORY_FHIR_BASE, inMemoryFhirClient } from '../support/in-memory-fhir-client';
import { hookRequest, prefetchFor, serviceForHook } from '../support/requests';
import { loadScenarios, type LoadedScenario } from '../support/scenarios';

/**
 * Every clinical scenario runs in-process through runHook (validation, facts, rules, cards: no HTTP,
 * no sockets), so a failure points at the knowledge or the engine. A thin HTTP tier then replays a few
 * scenarios (each hook, and each FHIR-server delivery) through the real app and a real FHIR server,
 * and requires the very same cards.
 */
const scenarios = loadScenarios();
const catalog = projectCatalog();

function serviceIdOf({ scenario }: LoadedScenario): string {
  return serviceForHook(scenario.hook);
}

/** The hook request a scenario describes; like a real EHR, the client always names its FHIR server. */
function requestFor({ scenario, chart }: LoadedScenario, fhirServer: string): unknown {
  const delivery =
    scenario.delivery === 'fhir-server'
      ? { fhirServer, hookInstance: '11111111-1111-4111-8111-111111111111' }
      : {
          fhirServer,
          prefetch: prefetchFor(serviceIdOf({ scenario, chart } as LoadedScenario), chart, scenario.patientId),
          hookInstance: '11111111-1111-4111-8111-111111111111',
        };
  return hookRequest(scenario.hook, {
    patientId: scenario.patientId,
    ...delivery,
    ...(scenario.draftOrders ? { draftOrders: scenario.draftOrders as AnyResource[] } : {}),
    ...(scenario.selections ? { selections: scenario.selections } : {}),
  });
}

async function runInProcess(loaded: LoadedScenario): Promise<Card[]> {
  const service = catalog.services.get(serviceIdOf(loaded))!;
  const { client } = inMemoryFhirClient(loaded.chart);
  const deps: HookDeps = { catalog, fhirClient: client, now: () => TEST_NOW, uuid: seededUuid(), fhirTimeoutMs: 10_000, maxMedicationReads: 5 };
  const outcome = await runHook(service, validateHookRequest(service, requestFor(loaded, IN_MEMORY_FHIR_BASE)), deps);
  recordCards(outcome.cards);
  return outcome.cards;
}

function at(resource: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => {
    if (value === undefined || value === null) return undefined;
    if (Array.isArray(value) && /^\d+$/.test(key)) return value[Number(key)];
    return (value as Record<string, unknown>)[key];
  }, resource);
}

function expectScenarioCards({ scenario }: LoadedScenario, cards: Card[]): void {
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
}

describe.each(scenarios.map((s) => [s.file, s] as const))('%s', (_file, loaded) => {
  test(loaded.scenario.title, async () => {
    expectScenarioCards(loaded, await runInProcess(loaded));
  });
});

test('every scenario is consistent: what it proves is what it expects', () => {
  for (const { file, scenario } of scenarios) {
    for (const id of scenario.proves.fires) expect([file, id, scenario.expect.rules.includes(id)]).toEqual([file, id, true]);
    for (const id of scenario.proves.nearMissFor) expect([file, id, scenario.expect.absent.includes(id)]).toEqual([file, id, true]);
  }
});

/** The first scenario of each hook with cards, and every scenario fetching from the FHIR server. */
function httpTier(): LoadedScenario[] {
  const chosen = new Map<string, LoadedScenario>();
  for (const loaded of scenarios) {
    const { hook, delivery, expect: expected } = loaded.scenario;
    if (delivery === 'fhir-server') chosen.set(loaded.file, loaded);
    else if (expected.rules.length > 0 && ![...chosen.values()].some((c) => c.scenario.hook === hook && c.scenario.delivery !== 'fhir-server'))
      chosen.set(loaded.file, loaded);
  }
  return [...chosen.values()];
}

describe('over HTTP, with a real FHIR server: the same cards as in-process', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  // The app's uuids run on across requests: compare cards with uuids masked.
  // The service also links its SMART app (its URL is deployment configuration, not clinical content):
  // compared without that link.
  const withoutAppLink = (cards: Card[]) =>
    cards.map((card) => {
      const links = (card.links ?? []).filter((link) => link.type !== 'smart');
      const { links: _links, ...rest } = card;
      return links.length > 0 ? { ...rest, links } : rest;
    });
  const masked = (cards: Card[]) => JSON.parse(JSON.stringify(withoutAppLink(cards)).replace(/00000000-0000-4000-8000-[0-9a-f]{12}/g, '<uuid>')) as unknown;

  test.each(httpTier().map((s) => [s.file, s] as const))('%s', async (_file, loaded) => {
    const server = await startFhirServer(loaded.chart);
    try {
      const response = await postHook(t.app, serviceIdOf(loaded), requestFor(loaded, server.url));
      expect(response.status).toBe(200);
      const cards = response.body.cards as Card[];
      expectScenarioCards(loaded, cards);
      expect(masked(cards)).toEqual(masked(await runInProcess(loaded)));
    } finally {
      await server.close();
    }
  });

  test('the HTTP tier covers every hook and both deliveries', () => {
    const tier = httpTier();
    expect(new Set(tier.map((s) => s.scenario.hook))).toEqual(new Set(['patient-view', 'order-select', 'order-sign']));
    expect(tier.some((s) => s.scenario.delivery === 'fhir-server')).toBe(true);
  });
});
