import type { AnyResource } from '../../src/engine/resource-index';
import { runHook, type HookDeps } from '../../src/engine/run-hook';
import type { FhirClient } from '../../src/fhir/fhir-client';
import type { Card } from '../../src/schemas/cds-response';
import type { HookRequest } from '../../src/cds-hooks/hook-module';
import { projectCatalog } from '../support/catalog';
import { TEST_NOW } from '../support/clock';
import { hookRequest, prefetchFor, serviceForHook } from '../support/requests';
import { loadScenarios } from '../support/scenarios';

/**
 * Issue 12 item 1, checked over every card of every clinical scenario: a clinician reads a card in
 * five seconds. The summary says the decision (≤ 140 characters); the detail is short markdown (never
 * over 1,000 characters) with no resource ids, rule ids, code-system URLs, code-list caveats or fact
 * blocks — those belong in the SMART app and the audit record. Evidence beyond the card's source is
 * in links of type absolute.
 */
const catalog = projectCatalog();
const noFhir = new Proxy({} as FhirClient, { get: () => () => Promise.reject(new Error('complete prefetch expected')) });
const deps: HookDeps = {
  catalog,
  fhirClient: noFhir,
  now: () => TEST_NOW,
  uuid: () => '00000000-0000-4000-8000-000000000002',
  fhirTimeoutMs: 1000,
  maxMedicationReads: 5,
};

const FORBIDDEN: [string, RegExp][] = [
  [
    'a FHIR resource id',
    /\b(Observation|Condition|MedicationRequest|MedicationStatement|MedicationAdministration|MedicationDispense|Medication|Procedure|Patient|AllergyIntolerance|ServiceRequest|FamilyMemberHistory|Encounter)\/[A-Za-z0-9\-.]+/,
  ],
  ['a rule id', /\b(PV|OS)-[A-Z][A-Z0-9-]+/],
  ['a URL (evidence goes in links)', /https?:\/\//],
  ['a code-list caveat', /code list|not fully verified|verified code/i],
  ['a repeated fact block', /Facts used|Checked, none recorded|\*\*Evidence\*\*|\*\*Prerequisites\*\*/],
  ['a raw code', /\b(SNOMED|LOINC|RxNorm|ICD-10-CM) [A-Z0-9][\d.]+/],
];

const scenarios = loadScenarios().filter((s) => s.scenario.delivery !== 'fhir-server');

async function cardsOf({ scenario, chart }: (typeof scenarios)[number]): Promise<Card[]> {
  const serviceId = serviceForHook(scenario.hook);
  const prefetch = prefetchFor(serviceId, chart, scenario.patientId);
  const body = hookRequest(scenario.hook, {
    patientId: scenario.patientId,
    prefetch,
    ...(scenario.draftOrders ? { draftOrders: scenario.draftOrders as AnyResource[] } : {}),
    ...(scenario.selections ? { selections: scenario.selections } : {}),
  });
  return (await runHook(catalog.services.get(serviceId)!, body as unknown as HookRequest, deps)).cards;
}

test.each(scenarios.map((s) => [s.file, s] as const))('%s: every card reads in five seconds', async (_file, loaded) => {
  for (const card of await cardsOf(loaded)) {
    const rule = card.source.topic?.code;
    expect([rule, card.summary.length <= 140]).toEqual([rule, true]);
    expect([rule, card.detail!.length <= 1000]).toEqual([rule, true]);
    for (const [what, pattern] of FORBIDDEN) {
      expect([rule, what, pattern.exec(card.summary)?.[0], pattern.exec(card.detail ?? '')?.[0]]).toEqual([rule, what, undefined, undefined]);
    }
    for (const link of card.links ?? []) expect(['absolute', 'smart']).toContain(link.type);
  }
});

test('cards are short: typically under 500 characters of detail', async () => {
  const lengths: number[] = [];
  for (const loaded of scenarios) for (const card of await cardsOf(loaded)) lengths.push(card.detail!.length);
  lengths.sort((a, b) => a - b);
  const median = lengths[Math.floor(lengths.length / 2)]!;
  expect(median).toBeLessThan(500);
});
