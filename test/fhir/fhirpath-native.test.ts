import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NATIVE_FHIRPATH } from '../../src/fhir/fhirpath-native';
import { compilePath } from '../../src/fhir/fhirpath';
import { PROJECT_ROOT } from '../support/catalog';
import { loadScenarios } from '../support/scenarios';

/** Every resource the tests know, plus malformed variants of each (what hostile or sloppy EHRs send). */
function corpus(): Record<string, unknown>[] {
  const resources: Record<string, unknown>[] = [];
  const fixtures = join(PROJECT_ROOT, 'test', 'fixtures', 'patients');
  for (const name of readdirSync(fixtures)) {
    const bundle = JSON.parse(readFileSync(join(fixtures, name), 'utf8')) as { entry: { resource: Record<string, unknown> }[] };
    resources.push(...bundle.entry.map((e) => e.resource));
  }
  for (const { chart, scenario } of loadScenarios()) resources.push(...(chart as Record<string, unknown>[]), ...((scenario.draftOrders ?? []) as Record<string, unknown>[]));
  // Types the fixtures do not carry yet: planned dental work and family history.
  for (let i = 0; i < 10; i++) {
    resources.push(
      { resourceType: 'ServiceRequest', id: `sr-${i}`, status: i % 2 ? 'active' : 'on-hold', intent: 'order', code: { coding: [{ system: 'http://snomed.info/sct', code: '55162003' }] }, subject: { reference: 'Patient/p' }, ...(i % 3 === 0 ? { occurrenceDateTime: `2026-0${(i % 9) + 1}-10` } : i % 3 === 1 ? { occurrencePeriod: { start: '2026-12-01' } } : {}), authoredOn: '2026-11-0' + ((i % 9) + 1) },
      { resourceType: 'FamilyMemberHistory', id: `fmh-${i}`, status: i % 4 === 0 ? 'entered-in-error' : 'completed', patient: { reference: 'Patient/p' }, ...(i % 2 ? { date: '2025-05-0' + ((i % 9) + 1) } : {}), relationship: { coding: [{ code: 'MTH' }] }, condition: [{ code: { text: 'Hip fracture' } }] },
    );
  }
  const mutations: ((r: Record<string, unknown>) => Record<string, unknown>)[] = [
    (r) => ({ ...r, status: undefined }),
    (r) => ({ ...r, status: 5 }),
    (r) => ({ ...r, status: ['final'] }),
    (r) => ({ ...r, status: ['final', 'amended'] }),
    (r) => ({ ...r, status: null }),
    (r) => ({ ...r, clinicalStatus: {} }),
    (r) => ({ ...r, clinicalStatus: { coding: [{ system: 'x' }] } }),
    (r) => ({ ...r, clinicalStatus: { coding: { code: 'active' } } }),
    (r) => ({ ...r, verificationStatus: { coding: [{ code: 'confirmed' }, { code: 'refuted' }] } }),
    (r) => ({ ...r, verificationStatus: { coding: [{ code: 5 }] } }),
    (r) => ({ ...r, effectiveDateTime: 20240101 }),
    (r) => ({ ...r, effectiveDateTime: undefined, effectivePeriod: { start: '2025-01-01', end: '2025-02-01' }, issued: '2025-01-03T00:00:00Z' }),
    (r) => ({ ...r, effectiveDateTime: undefined, issued: '2025-01-03T00:00:00Z' }),
    (r) => ({ ...r, effectiveDateTime: '2025-01-03T00:00:00Z', issued: '2025-01-03T00:00:00Z' }),
    (r) => ({ ...r, effectivePeriod: [{ start: '2025-01-01' }, { start: '2025-02-01' }] }),
    (r) => ({ ...r, valueQuantity: [{ value: 1 }, { value: 2 }] }),
    (r) => ({ ...r, valueString: 'positive', valueCodeableConcept: undefined }),
    (r) => ({ ...r, interpretation: { coding: [{ code: 'POS' }] } }),
    (r) => ({ ...r, interpretation: [{ coding: [{ code: 'POS' }] }, { coding: [{ code: 'POS' }] }] }),
    (r) => ({ ...r, onsetDateTime: undefined, onsetPeriod: { start: '2020-01-01' }, recordedDate: '2020-02-01' }),
    (r) => ({ ...r, performedDateTime: undefined, performedPeriod: { start: '2020-01-01', end: '2020-01-02' } }),
    (r) => ({ ...r, occurrencePeriod: { start: '2027-01-01' }, authoredOn: '2026-11-01' }),
    (r) => ({ ...r, date: ['2020-01-01'] }),
  ];
  const variants = resources.flatMap((r) => mutations.map((m) => JSON.parse(JSON.stringify(m(r))) as Record<string, unknown>));
  return [...resources, ...variants];
}

const normalise = (values: unknown[]) => values.map((v) => JSON.stringify(v));

describe('native FHIRPath fast paths give the same results as fhirpath.js', () => {
  const resources = corpus();
  test('the corpus is large', () => {
    expect(resources.length).toBeGreaterThan(2000);
  });
  test.each(Object.keys(NATIVE_FHIRPATH))('%s', (expression) => {
    const reference = compilePath(expression, { native: false });
    const native = compilePath(expression);
    const mismatches: string[] = [];
    // Other resource types are evaluated by fhirpath.js anyway; compare where the fast path runs.
    const relevant = resources.filter((r) => NATIVE_FHIRPATH[expression]!.types.includes(String(r.resourceType)));
    expect(relevant.length).toBeGreaterThan(50);
    for (const resource of relevant) {
      const expected = normalise(reference(resource));
      const actual = normalise(native(resource));
      if (JSON.stringify(expected) !== JSON.stringify(actual)) mismatches.push(`${JSON.stringify(resource).slice(0, 200)}\n  fhirpath.js: ${expected.join(', ')}\n  native:      ${actual.join(', ')}`);
    }
    expect(mismatches.slice(0, 3)).toEqual([]);
  });
});
