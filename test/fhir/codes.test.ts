import { CodeList, CodeSystems } from '../../src/fhir/codes';
import { projectCatalog } from '../support/catalog';

const catalog = projectCatalog();
const list = (id: string) => catalog.codeLists.get(id)!;

describe('code matching', () => {
  test.each([
    ['ICD-10-CM with the dot', { system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'C50.912' }],
    ['ICD-10-CM without the dot', { system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'C50912' }],
    ['ICD-10-CM lower case', { system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'c50.412' }],
    ['ICD-10-CM under the non-preferred THO URI', { system: 'http://terminology.hl7.org/CodeSystem/icd10CM', code: 'C50.411' }],
    ['SNOMED US-extension laterality code (mCODE)', { system: 'http://snomed.info/sct', code: '353431000119107' }],
    ['SNOMED by OID', { system: 'urn:oid:2.16.840.1.113883.6.96', code: '254837009' }],
  ])('breast cancer: %s', (_name, coding) => {
    expect(list('breast-cancer').matchConcept({ coding: [coding] })?.by).toBe('code');
  });

  test.each([
    ['DCIS (in situ, excluded)', { system: 'http://snomed.info/sct', code: '278053004' }],
    ['secondary neoplasm of breast', { system: 'http://snomed.info/sct', code: '94297009' }],
    ['ICD-10-CM D05.1 (carcinoma in situ)', { system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'D05.1' }],
    ['right code, wrong system', { system: 'http://loinc.org', code: '254837009' }],
  ])('breast cancer does not match %s', (_name, coding) => {
    expect(list('breast-cancer').matchConcept({ coding: [coding] })).toBeUndefined();
  });

  test('axillary lymph-node secondaries (C77.3) are regional, not distant metastases', () => {
    const metastatic = list('metastatic-disease');
    expect(metastatic.matchConcept({ coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'C77.3' }] })).toBeUndefined();
    expect(metastatic.matchConcept({ coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'C79.51' }] })?.by).toBe('code');
    expect(metastatic.matchConcept({ coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'C7800' }] })?.by).toBe('code');
  });

  test('serum HER2 is never a tumour HER2 test', () => {
    expect(list('her2-tumor-tests').matchConcept({ coding: [{ system: 'http://loinc.org', code: '42914-2' }] })).toBeUndefined();
    expect(list('her2-tumor-tests').matchConcept({ coding: [{ system: 'http://loinc.org', code: '85319-2' }] })?.by).toBe('code');
  });

  test('Z-scores and BMD are never T-scores', () => {
    for (const code of ['85394-5', '24966-4', '46278-8', '38267-8']) {
      expect(list('dxa-t-score').matchConcept({ coding: [{ system: 'http://loinc.org', code }] })).toBeUndefined();
    }
  });

  test('uncertain medication lists also match by name, and say so', () => {
    const zol = list('zoledronic-acid');
    expect(zol.matchConcept({ text: 'Zometa 4 mg/5 mL IV' })).toEqual({ by: 'name', matched: 'Zometa 4 mg/5 mL IV' });
    expect(zol.matchConcept({ coding: [{ system: 'urn:epic:med', code: '12345', display: 'ZOLEDRONIC ACID 4 MG/100 ML IV SOLN' }] })?.by).toBe('name');
    expect(zol.matchConcept({ coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '351114' }] })).toMatchObject({ by: 'code', product: { totalMg: 4, mgPerMl: 0.8 } });
  });

  test('calcium supplements are not confused with calcium salts of other drugs', () => {
    const calcium = list('calcium-supplements');
    expect(calcium.matchConcept({ text: 'atorvastatin calcium 20 MG Oral Tablet' })).toBeUndefined();
    expect(calcium.matchConcept({ text: 'Leucovorin Calcium 50 MG Injection' })).toBeUndefined();
    expect(calcium.matchConcept({ text: 'Calcium Carbonate 1250 MG Oral Tablet' })?.by).toBe('name');
  });

  test('excluded name terms (eye drops) are not systemic glucocorticoids', () => {
    const steroids = list('oral-glucocorticoids');
    expect(steroids.matchConcept({ text: 'dexamethasone 0.1% ophthalmic solution' })).toBeUndefined();
    expect(steroids.matchConcept({ text: 'prednisone 5 MG Oral Tablet' })?.by).toBe('name');
  });

  test('an inline list compiles with the same normalisation', () => {
    const systems = new CodeSystems({ systems: [{ name: 'ICD', uri: 'http://hl7.org/fhir/sid/icd-10-cm', normalize: 'icd', source: 'test' }] });
    const inline = new CodeList({ id: 't', title: 't', source: ['test'], status: 'verified', codes: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'Z17.0' }] }, systems);
    expect(inline.matchConcept({ coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'Z170' }] })?.by).toBe('code');
  });
});
