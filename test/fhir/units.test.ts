import { UnitConverter } from '../../src/fhir/units';
import { projectCatalog } from '../support/catalog';

const units = projectCatalog().units;
const UCUM = 'http://unitsofmeasure.org';

describe('UCUM conversion (never read a number in the wrong unit)', () => {
  test.each([
    ['creatinine 88.4 µmol/L (UCUM code)', { value: 88.4, unit: 'µmol/L', system: UCUM, code: 'umol/L' }, 'mg/dL', 113.12, 1.0],
    ['creatinine 70 µmol/L given only as display unit', { value: 70, unit: 'µmol/L' }, 'mg/dL', 113.12, 0.79],
    ['creatinine 1.2 mg/dL', { value: 1.2, unit: 'mg/dL', system: UCUM, code: 'mg/dL' }, 'mg/dL', 113.12, 1.2],
    ['calcium 2.1 mmol/L', { value: 2.1, unit: 'mmol/L', system: UCUM, code: 'mmol/L' }, 'mg/dL', 40.078, 8.42],
    ['weight 150 lb', { value: 150, unit: 'lb', system: UCUM, code: '[lb_av]' }, 'kg', undefined, 68.04],
    ['weight 150 lbs (display only)', { value: 150, unit: 'lbs' }, 'kg', undefined, 68.04],
    ['weight 68000 g', { value: 68000, unit: 'g', system: UCUM, code: 'g' }, 'kg', undefined, 68],
    ['height 65 in', { value: 65, unit: 'in' }, 'cm', undefined, 165.1],
    ['albumin 38 g/L', { value: 38, unit: 'g/L', system: UCUM, code: 'g/L' }, 'g/dL', undefined, 3.8],
  ])('%s', (_name, quantity, target, molarMass, expected) => {
    const result = units.convert(quantity, target, molarMass);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.value).toBeCloseTo(expected, 2);
  });

  test.each([
    ['an unknown unit', { value: 70, unit: 'units' }, 'mg/dL', 113.12, "unit 'units' cannot be converted to mg/dL"],
    ['no unit at all', { value: 70 }, 'mg/dL', 113.12, 'no unit'],
    ['µmol/L without a molar mass', { value: 70, unit: 'umol/L', system: UCUM, code: 'umol/L' }, 'mg/dL', undefined, "unit 'umol/L' cannot be converted to mg/dL"],
    ['a number sent as a string', { value: '70', unit: 'mg/dL', system: UCUM, code: 'mg/dL' }, 'mg/dL', undefined, 'no numeric value'],
    ['a value with a comparator', { value: 0.3, comparator: '<', unit: 'mg/dL', system: UCUM, code: 'mg/dL' }, 'mg/dL', undefined, "value has comparator '<'"],
    ['mass where volume is asked', { value: 4, unit: 'mg', system: UCUM, code: 'mg' }, 'mL', undefined, "unit 'mg' cannot be converted to mL"],
  ])('refuses %s', (_name, quantity, target, molarMass, reason) => {
    expect(units.convert(quantity, target, molarMass)).toEqual({ ok: false, reason });
  });

  test('UCUM validity check used at start-up', () => {
    expect(UnitConverter.isValidUcum('mg/dL')).toBe(true);
    expect(UnitConverter.isValidUcum('mL/min/{1.73_m2}')).toBe(true);
    expect(UnitConverter.isValidUcum('lbs')).toBe(false);
  });
});
