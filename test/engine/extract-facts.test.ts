import { extractFacts } from '../../src/engine/extract-facts';
import { ResourceIndex, type AnyResource } from '../../src/engine/resource-index';
import type { Fact } from '../../src/schemas/facts';
import { projectCatalog } from '../support/catalog';
import { TEST_NOW } from '../support/clock';

/**
 * Table-driven checks of fact extraction with this repository's fact mappings: the same chart
 * fragments the scenarios use, one fact at a time, without a hook call.
 */
const catalog = projectCatalog();
const DAY = 86_400_000;
const PATIENT: AnyResource = { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1962-03-01' };
const subject = { reference: 'Patient/p1' };
const date = (daysAgo: number) => new Date(TEST_NOW - daysAgo * DAY).toISOString();

function extract(resources: AnyResource[], unavailable: string[] = []): Record<string, Fact> {
  const index = new ResourceIndex([PATIENT, ...resources], catalog.codeSystems, () => undefined);
  return extractFacts(catalog, { index, patient: PATIENT, unavailable: new Set(unavailable), now: TEST_NOW });
}

const lab = (id: string, code: string, value: Record<string, unknown>, daysAgo: number, status = 'final'): AnyResource => ({
  resourceType: 'Observation',
  id,
  status,
  subject,
  code: { coding: [{ system: 'http://loinc.org', code }] },
  effectiveDateTime: date(daysAgo),
  ...value,
});
const creatinine = (id: string, value: number, unit: string, daysAgo: number, status?: string) =>
  lab(id, '2160-0', { valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit } }, daysAgo, status);
const her2 = (id: string, text: string, daysAgo: number) => lab(id, '48676-1', { valueCodeableConcept: { text } }, daysAgo);

describe('creatinine (quantity: newest, UCUM, window, final results only)', () => {
  test.each([
    ['mg/dL as given', [creatinine('c1', 1.1, 'mg/dL', 5)], { state: 'known', value: 1.1 }],
    ['µmol/L converted with its molar mass', [creatinine('c1', 97, 'umol/L', 5)], { state: 'known', value: 1.1 }],
    [
      'the newest result wins',
      [creatinine('old', 2.0, 'mg/dL', 20), creatinine('new', 0.9, 'mg/dL', 3)],
      { state: 'known', value: 0.9, sources: ['Observation/new'] },
    ],
    ['a preliminary result is not used', [creatinine('c1', 1.1, 'mg/dL', 5, 'preliminary')], { state: 'unknown' }],
    ['older than the 30-day window', [creatinine('c1', 1.1, 'mg/dL', 45)], { state: 'stale' }],
    ['a unit that is not a concentration', [creatinine('c1', 1.1, 'mg', 5)], { state: 'unknown' }],
    ['no result at all', [], { state: 'unknown' }],
  ])('%s', (_what, resources, expected) => {
    expect(extract(resources).creatinine).toMatchObject(expected);
  });

  test('no result while Observations could not be fetched is unknown, and says so', () => {
    const fact = extract([], ['Observation']).creatinine!;
    expect(fact.state).toBe('unknown');
    expect(fact.notes.join(' ')).toMatch(/Observation/);
  });
});

describe('HER2 status (coded: answers, text answers, discordance)', () => {
  test.each([
    ['IHC 3+', [her2('h1', 'IHC 3+', 10)], { state: 'known', value: 'positive' }],
    ['not amplified', [her2('h1', 'not amplified', 10)], { state: 'known', value: 'negative' }],
    ['equivocal then amplified', [her2('h1', 'equivocal (2+)', 30), her2('h2', 'HER2 amplified', 10)], { state: 'known', value: 'positive' }],
    ['a newer negative after a positive is a conflict', [her2('h1', 'positive', 200), her2('h2', 'negative', 10)], { state: 'conflicting' }],
    [
      'a coded HER2-positive condition',
      [{ resourceType: 'Condition', id: 'c1', subject, code: { coding: [{ system: 'http://snomed.info/sct', code: '427685000' }] } }],
      { value: 'positive' },
    ],
    ['nothing recorded', [], { state: 'unknown' }],
  ])('%s', (_what, resources, expected) => {
    expect(extract(resources as AnyResource[]).her2Status).toMatchObject(expected);
  });
});

describe('patient facts', () => {
  test('sex and age come from the Patient resource at the injected now', () => {
    const facts = extract([]);
    expect(facts.sex).toMatchObject({ state: 'known', value: 'female' });
    expect(facts.age).toMatchObject({ state: 'known', value: 64 });
  });
});
