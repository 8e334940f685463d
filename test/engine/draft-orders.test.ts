import { DRAFT_FACTS, draftFacts } from '../../src/clinical/zoledronic-acid-draft-facts';
import { findTriggeringDraft } from '../../src/engine/draft-orders';
import type { AnyResource } from '../../src/engine/resource-index';
import type { Fact } from '../../src/schemas/facts';
import { projectCatalog } from '../support/catalog';
import { zoledronicDraft } from '../support/fixtures';

/** Table-driven checks of what the engine reads from a draft order: trigger, dose, interval, infusion. */
const catalog = projectCatalog();
const trigger = catalog.codeLists.get('zoledronic-acid')!;
const noMedications = () => undefined;

const withDosage = (dosage: Record<string, unknown>, extra: Partial<AnyResource> = {}) => zoledronicDraft('p1', { dosageInstruction: [dosage], ...extra });
const schedule = (
  repeat: Record<string, unknown>,
  dose: Record<string, unknown> = { value: 4, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' },
) => ({
  timing: { repeat },
  doseAndRate: [{ doseQuantity: dose }],
});

function factsOf(draft: AnyResource, facts: Record<string, Fact> = {}): Record<string, Fact> {
  const context = findTriggeringDraft([draft], trigger, noMedications);
  if (!context) throw new Error('the draft does not trigger');
  return draftFacts(context, facts, catalog.units, DRAFT_FACTS);
}

describe('which drafts trigger the order services', () => {
  test.each([
    ['an RxNorm-coded zoledronic acid order', zoledronicDraft('p1'), 'code'],
    ['a text-only order naming the drug', zoledronicDraft('p1', { medicationCodeableConcept: { text: 'Zometa 4 mg IV' } }), 'name'],
    [
      'another drug',
      zoledronicDraft('p1', {
        medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '1191' }], text: 'aspirin' },
      }),
      undefined,
    ],
    ['a zoledronic acid ServiceRequest (not a medication order)', { ...zoledronicDraft('p1'), resourceType: 'ServiceRequest' }, undefined],
  ])('%s → matched by %s', (_what, draft, by) => {
    expect(findTriggeringDraft([draft], trigger, noMedications)?.matchedBy).toBe(by);
  });

  test('several zoledronic acid drafts: the first is evaluated, all are counted', () => {
    const context = findTriggeringDraft([zoledronicDraft('p1', { id: 'a' }), zoledronicDraft('p1', { id: 'b' })], trigger, noMedications);
    expect(context).toMatchObject({ draftReference: 'MedicationRequest/a', triggeringCount: 2 });
  });
});

describe('product strength from the order text when no code gives it (code list productNames)', () => {
  test.each([
    ['a brand read before any written strength', 'Reclast infusion', { totalMg: 5, volumeMl: 100, mgPerMl: 0.05 }],
    ['the other name of the same brand', 'Aclasta 5 mg', { totalMg: 5, volumeMl: 100, mgPerMl: 0.05 }],
    ['a written strength wins over a brand read after it', 'Zometa 4 mg/100 mL', { totalMg: 4, volumeMl: 100, mgPerMl: 0.04 }],
    ['a brand read after the written strength, when none is written', 'Zometa IV', { totalMg: 4 }],
    ['a strength written as concentration and volume', '100 ML zoledronic acid 0.04 MG/ML', { totalMg: 4, volumeMl: 100, mgPerMl: 0.04 }],
    ['no strength and no brand', 'zoledronic acid IV', undefined],
  ])('%s: "%s"', (_what, text, product) => {
    const context = findTriggeringDraft([zoledronicDraft('p1', { medicationCodeableConcept: { text } })], trigger, noMedications);
    expect(context?.product).toEqual(product);
  });
});

describe('facts read from the draft', () => {
  test.each([
    [
      '4 mg every 6 months over 15 min',
      schedule({ frequency: 1, period: 6, periodUnit: 'mo', duration: 15, durationUnit: 'min' }),
      { doseMg: 4, intervalDays: 182.6, infusionMinutes: 15 },
    ],
    [
      'dose in grams is converted',
      schedule({ period: 1, periodUnit: 'a', duration: 0.5, durationUnit: 'h' }, { value: 0.004, unit: 'g', system: 'http://unitsofmeasure.org', code: 'g' }),
      { doseMg: 4, intervalDays: 365.3, infusionMinutes: 30 },
    ],
    [
      'twice a month',
      schedule({ frequency: 2, period: 1, periodUnit: 'mo', duration: 15, durationUnit: 'min' }),
      { doseMg: 4, intervalDays: 15.2, infusionMinutes: 15 },
    ],
    ['a single dose: no interval', schedule({ duration: 15, durationUnit: 'min' }), { doseMg: 4, intervalDays: undefined, infusionMinutes: 15 }],
    [
      'infusion from rate and volume',
      {
        doseAndRate: [
          {
            doseQuantity: { value: 100, unit: 'mL', system: 'http://unitsofmeasure.org', code: 'mL' },
            rateQuantity: { value: 400, unit: 'mL/h', system: 'http://unitsofmeasure.org', code: 'mL/h' },
          },
        ],
      },
      { infusionMinutes: 15 },
    ],
  ])('%s', (_what, dosage, expected) => {
    const facts = factsOf(withDosage(dosage));
    for (const [name, value] of Object.entries(expected)) expect([name, facts[`draft.${name}`]?.value]).toEqual([name, value]);
  });

  test('no structured dose: the dose is unknown, and the card can say why', () => {
    const facts = factsOf(withDosage({ text: 'as directed' }));
    expect(facts['draft.doseMg']).toMatchObject({ state: 'unknown', notes: ['no structured dose in the order'] });
  });

  test.each([
    [3.5, 4, false],
    [4, 4, true],
    [3.3, 3.3, true],
  ])('renal limit %s mg, ordered %s mg → within limit: %s', (limit, ordered, within) => {
    const facts = factsOf(
      withDosage(schedule({ period: 6, periodUnit: 'mo' }, { value: ordered, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' })),
      {
        renalDoseMg: { id: 'renalDoseMg', label: 'Renal dose', state: 'known', value: limit, sources: [], notes: [] },
      },
    );
    expect(facts['draft.doseWithinRenalLimit']?.value).toBe(within);
  });

  test('a 5 mg product ordered for osteoporosis is flagged as the osteoporosis indication', () => {
    const reclast = zoledronicDraft('p1', {
      medicationCodeableConcept: { text: 'Reclast (zoledronic acid 5 mg/100 mL)' },
      reasonCode: [{ text: 'postmenopausal osteoporosis' }],
    });
    const facts = factsOf(reclast);
    expect(facts['draft.productMg']?.value).toBe(5);
    expect(facts['draft.osteoporosisIndication']?.value).toBe(true);
  });
});
