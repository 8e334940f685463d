import { buildCard, type CardBuildContext } from '../../src/engine/build-cards';
import type { Fact } from '../../src/schemas/facts';
import { cardViolations, recordCards } from '../support/card-invariants';
import { projectCatalog } from '../support/catalog';
import { seededUuid, TEST_NOW } from '../support/clock';

const catalog = projectCatalog();
const rules = new Map([...catalog.ruleSets.values()].flatMap((set) => set.rules.map((rule) => [rule.id, { rule, set }] as const)));

function context(ruleId: string, facts: Record<string, Fact> = {}, extra: Partial<CardBuildContext> = {}): CardBuildContext {
  const { set } = rules.get(ruleId)!;
  return {
    catalog,
    ruleSet: set,
    scope: { facts, settings: catalog.settings, context: { patientId: 'p1', userId: 'PractitionerRole/r1' }, now: TEST_NOW },
    conditions: { facts, conditions: catalog.conditions, now: TEST_NOW },
    dataGaps: [],
    notes: [],
    draft: undefined,
    uuid: seededUuid(),
    ...extra,
  };
}

function build(ruleId: string, ctx: CardBuildContext, summary?: string) {
  const { rule } = rules.get(ruleId)!;
  const card = buildCard({ rule, indicator: rule.indicator, summary: summary ?? rule.card.summary }, ctx);
  recordCards([card]);
  return card;
}

describe('buildCard: the one function that makes cards', () => {
  test('every rule of the catalogue renders a card that meets the CDS Hooks invariants, even with no facts at all', () => {
    for (const [id] of rules) {
      const card = build(id, context(id));
      expect([id, cardViolations(card)]).toEqual([id, []]);
      expect(card.source.topic?.code).toBe(id);
    }
  });

  test('placeholders without a value drop the field: no encounter, a PractitionerRole user → requester kept, encounter dropped', () => {
    const card = build('PV-DEXA', context('PV-DEXA'));
    const request = card.suggestions![0]!.actions![0]!.resource as Record<string, unknown>;
    expect(request).not.toHaveProperty('encounter');
    expect(request.requester).toEqual({ reference: 'PractitionerRole/r1' });
    expect(request.authoredOn).toBe('2026-11-27T12:00:00.000Z');
    expect(card.selectionBehavior).toBe('at-most-one');
    expect(card.suggestions![0]!.uuid).toBe('00000000-0000-4000-8000-000000000002');
  });

  test('a summary that would reach 140 characters is shortened, never sent too long', () => {
    const card = build('PV-DEXA', context('PV-DEXA'), 'x'.repeat(200));
    expect(card.summary.length).toBe(139);
    expect(card.summary.endsWith('…')).toBe(true);
  });

  test('warning and critical cards carry override reasons with a display', () => {
    const card = build('OS-DENTAL', context('OS-DENTAL'));
    expect(card.overrideReasons).toEqual([
      { system: 'https://zoledronic-cds.example.org/fhir/CodeSystem/override-reason', code: 'dental-exam-done-elsewhere', display: 'Dental examination done elsewhere' },
      { system: 'https://zoledronic-cds.example.org/fhir/CodeSystem/override-reason', code: 'urgent-treatment', display: 'Treatment is urgent; dental review will follow' },
      { system: 'https://zoledronic-cds.example.org/fhir/CodeSystem/override-reason', code: 'patient-declined', display: 'Patient declined' },
    ]);
  });

  test('an update suggestion without a draft to update is left out rather than sent half-made', () => {
    const card = build('OS-REGIMEN', context('OS-REGIMEN'));
    expect(card.suggestions).toBeUndefined();
    expect(card.selectionBehavior).toBeUndefined();
  });

  test('data gaps are said on the card', () => {
    const card = build('PV-DEXA', context('PV-DEXA', {}, { dataGaps: ['Procedure data (procedures) could not be obtained: the FHIR server did not answer in time.'] }));
    expect(card.detail).toContain('_Not available from the EHR: Procedure data (procedures) could not be obtained');
  });
});
