import { validateResource } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { runHook, type HookDeps } from '../../src/engine/run-hook';
import type { AnyResource } from '../../src/engine/resource-index';
import type { FhirClient } from '../../src/fhir/fhir-client';
import type { Card } from '../../src/schemas/cds-response';
import type { CdsHookRequest } from '../../src/schemas/cds-request';
import { indexR4Definitions } from '../../tools/demo-fhir/fhir-definitions';
import { projectCatalog } from '../support/catalog';
import { TEST_NOW } from '../support/clock';
import { chartOf, zoledronicDraft } from '../support/fixtures';
import { ELIGIBILITY, ORDER_SELECT, orderRequest, patientViewRequest, prefetchFor } from '../support/requests';

/**
 * Issue 11 item 5 / catalogue §5.4: every suggestion that creates or updates a MedicationRequest is a
 * pharmacy-grade, valid FHIR R4 resource (validated with @medplum/core against the R4 definitions).
 */
const catalog = projectCatalog();
const PATIENT = 'pt-candidate';
const noFhir = new Proxy({} as FhirClient, { get: () => () => { throw new Error('no FHIR call expected'); } });
const deps: HookDeps = { catalog, fhirClient: noFhir, now: () => TEST_NOW, uuid: () => '00000000-0000-4000-8000-000000000001', fhirTimeoutMs: 1000, maxMedicationReads: 5 };

beforeAll(() => indexR4Definitions());

function creatinine(value: number): AnyResource {
  return {
    resourceType: 'Observation', id: 'obs-creat', status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '2160-0', display: 'Creatinine [Mass/volume] in Serum or Plasma' }] },
    subject: { reference: `Patient/${PATIENT}` }, effectiveDateTime: '2026-11-10T08:30:00-06:00',
    valueQuantity: { value, unit: 'mg/dL', system: 'http://unitsofmeasure.org', code: 'mg/dL' },
  };
}

async function cards(hook: 'patient-view' | 'order-select', chart: AnyResource[], draft?: AnyResource): Promise<Card[]> {
  const serviceId = hook === 'patient-view' ? ELIGIBILITY : ORDER_SELECT;
  const prefetch = prefetchFor(serviceId, chart, PATIENT);
  const body = hook === 'patient-view' ? patientViewRequest({ patientId: PATIENT, prefetch }) : orderRequest('order-select', { patientId: PATIENT, prefetch, draftOrders: [draft!] });
  return (await runHook(catalog.services.get(serviceId)!, body as unknown as CdsHookRequest, deps)).cards;
}

function medicationRequests(all: readonly Card[]): { rule: string; resource: AnyResource }[] {
  return all.flatMap((card) =>
    (card.suggestions ?? []).flatMap((s) => (s.actions ?? []).filter((a) => (a.resource as AnyResource | undefined)?.resourceType === 'MedicationRequest').map((a) => ({ rule: card.source.topic!.code!, resource: a.resource as AnyResource }))),
  );
}

test('the PV-RECOMMEND draft order is valid FHIR R4 and pharmacy-grade (§5.4)', async () => {
  const [order] = medicationRequests(await cards('patient-view', chartOf('candidate-postmenopausal'))).filter((o) => o.rule === 'PV-RECOMMEND');
  expect(order).toBeDefined();
  expect(() => validateResource(order!.resource as unknown as Resource)).not.toThrow();
  const resource = order!.resource as any;
  expect(resource).toMatchObject({ status: 'draft', intent: 'order', reasonReference: [{ reference: 'Condition/cond-bc' }] });
  expect(resource.medicationCodeableConcept.coding).toEqual([{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '351114' }]);
  const dosage = resource.dosageInstruction[0];
  expect(dosage.timing.repeat).toEqual({ count: 6, frequency: 1, period: 6, periodUnit: 'mo', duration: 15, durationUnit: 'min' });
  expect(dosage.route.coding[0].code).toBe('47625008');
  expect(dosage.doseAndRate[0].doseQuantity).toEqual({ value: 4, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' });
  expect(dosage.text).toMatch(/0\.9 % sodium chloride or 5 % glucose; never a calcium-containing solution/);
});

test.each([
  [0.8, 4],
  [1.1, 3.5],
  [1.35, 3.3],
  [1.6, 3],
])('creatinine %s mg/dL: the draft order carries the label-table dose %s mg (baseline CrCl band)', async (scr, mg) => {
  const chart = chartOf('candidate-postmenopausal').filter((r) => r.id !== 'obs-creat').concat(creatinine(scr));
  const [order] = medicationRequests(await cards('patient-view', chart)).filter((o) => o.rule === 'PV-RECOMMEND');
  expect(order).toBeDefined();
  expect((order!.resource as any).dosageInstruction[0].doseAndRate[0].doseQuantity.value).toBe(mg);
  expect(() => validateResource(order!.resource as unknown as Resource)).not.toThrow();
});

test('CrCl below 30 mL/min: no one-click order at all', async () => {
  const chart = chartOf('candidate-postmenopausal').filter((r) => r.id !== 'obs-creat').concat(creatinine(2.4));
  expect(medicationRequests(await cards('patient-view', chart))).toEqual([]);
});

test('every MedicationRequest the order check suggests (corrected orders, supportive orders) is valid FHIR R4', async () => {
  const chart = chartOf('candidate-postmenopausal').filter((r) => r.id !== 'obs-creat').concat(creatinine(1.1));
  const draft = zoledronicDraft(PATIENT, {
    dosageInstruction: [{ text: '4 mg IV every 3 months', timing: { repeat: { frequency: 1, period: 3, periodUnit: 'mo', duration: 15, durationUnit: 'min' } }, doseAndRate: [{ doseQuantity: { value: 4, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }] }],
  });
  const orders = medicationRequests(await cards('order-select', chart, draft));
  expect(orders.map((o) => o.rule).sort()).toEqual(['OS-ACUTE-PHASE', 'OS-CALCIUM-VITD', 'OS-REGIMEN', 'OS-RENAL-ADJUST']);
  for (const { resource } of orders) expect(() => validateResource(resource as unknown as Resource)).not.toThrow();
});
