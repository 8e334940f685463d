import { CALCULATORS, type FactResult } from '../../src/clinical/calculators';
import type { DerivedFactDef } from '../../src/knowledge/types';
import type { Fact, FactValue } from '../../src/schemas/facts';
import { projectCatalog } from '../support/catalog';
import { TEST_NOW } from '../support/clock';

/**
 * Table-driven checks of the clinical calculators, each with the params this repository configures
 * (rules/settings.yaml through the fact mappings), so a changed threshold shows up here by name.
 */
const catalog = projectCatalog();
const DAY = 86_400_000;

function compute(calculator: string, inputs: Record<string, Fact | undefined>): FactResult {
  const def = catalog.facts.find((f): f is DerivedFactDef => f.kind === 'derived' && f.calculatorName === calculator);
  if (!def) throw new Error(`no derived fact uses calculator ${calculator}`);
  return CALCULATORS[calculator]!.compute(inputs as Record<string, Fact>, def.params, { now: TEST_NOW });
}

const known = (id: string, value: FactValue, extra: Partial<Fact> = {}): Fact => ({
  id,
  label: id,
  state: 'known',
  value,
  sources: [`Observation/${id}`],
  notes: [],
  ...extra,
});
const unknownFact = (id: string): Fact => ({ id, label: id, state: 'unknown', sources: [], notes: [] });

describe('cockcroft-gault: [(140 − age) × kg] / (72 × SCr), × 0.85 for women', () => {
  const base = { age: known('age', 60), sex: known('sex', 'female'), weight: known('weight', 70), creatinine: known('creatinine', 1.0) };
  test.each([
    ['woman, 60 y, 70 kg, SCr 1.0', base, 'known', 66.1],
    ['man, same values', { ...base, sex: known('sex', 'male') }, 'known', 77.8],
    ['SCr 2.0 halves it', { ...base, creatinine: known('creatinine', 2.0) }, 'known', 33.1],
    ['a stale weight makes the result stale', { ...base, weight: known('weight', 70, { state: 'stale', at: TEST_NOW - 400 * DAY }) }, 'stale', 66.1],
  ])('%s', (_what, inputs, state, value) => {
    expect(compute('cockcroft-gault', inputs)).toMatchObject({ state, value });
  });

  test.each([
    ['no weight', { ...base, weight: unknownFact('weight') }, 'missing body weight'],
    ['sex other than female/male', { ...base, sex: known('sex', 'other') }, 'missing sex (female/male)'],
    ['a creatinine of zero', { ...base, creatinine: known('creatinine', 0) }, 'creatinine value is not positive'],
  ])('unknown with %s', (_what, inputs, note) => {
    const result = compute('cockcroft-gault', inputs);
    expect(result.state).toBe('unknown');
    expect(result.notes.join(' ')).toContain(note);
  });
});

describe('renal-dose: the label table by creatinine clearance', () => {
  test.each([
    [75, 4.0],
    [60, 3.5],
    [50, 3.5],
    [49.9, 3.3],
    [40, 3.3],
    [30, 3.0],
  ])('CrCl %s mL/min → %s mg', (crcl, dose) => {
    expect(compute('renal-dose', { crcl: known('crcl', crcl) })).toMatchObject({ state: 'known', value: dose });
  });

  test('below the table there is no dose, and it says why', () => {
    const result = compute('renal-dose', { crcl: known('crcl', 25) });
    expect(result.value).toBeUndefined();
    expect(result.notes).toEqual(['no dose for CrCl 25 mL/min (not recommended below the table)']);
  });
});

describe('corrected-calcium: Ca + 0.8 × (4.0 − albumin) when albumin is close in time', () => {
  const at = TEST_NOW - 2 * DAY;
  test.each([
    ['albumin 3.0 the same day', known('albumin', 3.0, { at }), 8.8, 'corrected for albumin 3 g/dL'],
    ['albumin 4.0: no change', known('albumin', 4.0, { at }), 8.0, 'corrected for albumin 4 g/dL'],
    ['albumin a year earlier: not corrected', known('albumin', 3.0, { at: at - 365 * DAY }), 8.0, 'not albumin-corrected'],
    ['no albumin: not corrected', undefined, 8.0, 'not albumin-corrected'],
  ])('%s', (_what, albumin, value, display) => {
    const result = compute('corrected-calcium', { calcium: known('calcium', 8.0, { at }), albumin });
    expect(result.value).toBe(value);
    expect(result.display).toContain(display);
  });
});

describe('recurrence-risk from staging', () => {
  test.each([
    ['stage IIA', { stageGroup: known('stageGroup', 'IIA') }, 'intermediate-or-high'],
    ['node-positive', { nCategory: known('nCategory', 'N1') }, 'intermediate-or-high'],
    ['T1 N0', { tCategory: known('tCategory', 'T1c'), nCategory: known('nCategory', 'N0') }, 'low'],
    ['stage IV', { stageGroup: known('stageGroup', 'IV') }, 'metastatic'],
    ['NX alone says nothing', { nCategory: known('nCategory', 'NX') }, undefined],
  ])('%s → %s', (_what, inputs, value) => {
    const result = compute('recurrence-risk', inputs);
    expect(result.value).toBe(value);
    if (value === undefined) expect(result.state).toBe('unknown');
  });
});

describe('menopausal-status (NCCN): documented, oophorectomy, or age', () => {
  const documented = unknownFact('documented');
  test.each([
    ['a man', { documented, sex: known('sex', 'male'), age: known('age', 50) }, 'not-applicable'],
    ['a woman of 62', { documented, sex: known('sex', 'female'), age: known('age', 62) }, 'postmenopausal'],
    [
      'a woman of 45 after bilateral oophorectomy',
      { documented, sex: known('sex', 'female'), age: known('age', 45), bilateralOophorectomy: known('o', true) },
      'postmenopausal',
    ],
    [
      'a woman of 45 documented premenopausal',
      { documented: known('documented', 'premenopausal'), sex: known('sex', 'female'), age: known('age', 45) },
      'premenopausal',
    ],
    ['a woman of 45, nothing documented', { documented, sex: known('sex', 'female'), age: known('age', 45) }, undefined],
    ['sex unknown: not inferred from age', { documented, sex: unknownFact('sex'), age: known('age', 70) }, undefined],
  ])('%s → %s', (_what, inputs, value) => {
    expect(compute('menopausal-status', inputs).value).toBe(value);
  });
});

test('age-years counts completed years at the injected now', () => {
  const birth = Date.parse('1966-11-28T00:00:00Z');
  expect(compute('age-years', { birthDate: known('birthDate', '1966-11-28', { at: birth }) })).toMatchObject({ state: 'known', value: 59 });
  expect(compute('age-years', { birthDate: unknownFact('birthDate') }).state).toBe('unknown');
});
