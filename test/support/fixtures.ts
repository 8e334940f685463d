import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyResource } from '../../src/engine/resource-index';

const FIXTURES = join(__dirname, '..', 'fixtures');

/** A patient chart fixture (FHIR Bundle) as its list of resources. */
export function chartOf(name: string): AnyResource[] {
  const bundle = JSON.parse(readFileSync(join(FIXTURES, 'patients', `${name}.json`), 'utf8')) as { entry: { resource: AnyResource }[] };
  return bundle.entry.map((e) => e.resource);
}

/** A zoledronic acid 4 mg IV draft order as order-select/order-sign carry it. */
export function zoledronicDraft(patientId: string, overrides: Partial<AnyResource> = {}): AnyResource {
  return {
    resourceType: 'MedicationRequest',
    id: 'draft-zol',
    status: 'draft',
    intent: 'order',
    medicationCodeableConcept: {
      coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '351114' }],
      text: 'zoledronic acid 4 mg/5 mL injection',
    },
    subject: { reference: `Patient/${patientId}` },
    dosageInstruction: [
      {
        text: '4 mg IV over 15 minutes every 6 months',
        timing: { repeat: { frequency: 1, period: 6, periodUnit: 'mo', duration: 15, durationUnit: 'min' } },
        route: { coding: [{ system: 'http://snomed.info/sct', code: '47625008', display: 'Intravenous route' }] },
        doseAndRate: [{ doseQuantity: { value: 4, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }],
      },
    ],
    ...overrides,
  };
}
