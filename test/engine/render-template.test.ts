import { renderResource, renderText, type TemplateScope } from '../../src/engine/render-template';
import type { Fact } from '../../src/schemas/facts';

/**
 * Card texts and suggested resources are rendered from `{{…}}` placeholders over facts, settings,
 * the request context, the clock and the draft order. Each row names what it proves.
 */
const NOW = Date.parse('2026-11-27T09:00:00Z');

function fact(id: string, fields: Partial<Fact>): Fact {
  return { id, label: id, state: 'known', sources: [], notes: [], ...fields };
}

const scope: TemplateScope = {
  facts: {
    egfr: fact('egfr', {
      value: 42,
      display: '42 mL/min/1.73m2, 2026-03-04',
      at: Date.parse('2026-03-04T10:00:00Z'),
      sources: ['Observation/egfr-1', 'Observation/egfr-0'],
    }),
    'renal.doseMg': fact('renal.doseMg', { value: 3.3 }),
    recentDental: fact('recentDental', { value: false }),
    tScore: fact('tScore', { state: 'unknown' }),
  },
  settings: new Map<string, unknown>([
    ['course.doses', 6],
    ['window.creatinine', 'P30D'],
    ['window.dexa', 'P2Y'],
    ['policy.name', 'ctibl-only'],
    ['flag.enabled', true],
    ['object.setting', { nested: 1 }],
  ]),
  context: { patientId: 'pat-1', userId: 'Practitioner/onc-1', encounterId: 'enc-9' },
  now: NOW,
  draftReference: 'MedicationRequest/draft-1',
};

describe('renderText', () => {
  test.each([
    ['text without placeholders is unchanged', 'Check the dose.', 'Check the dose.'],
    ['a fact display', 'eGFR {{fact.egfr.display}}.', 'eGFR 42 mL/min/1.73m2, 2026-03-04.'],
    ['a fact value', 'eGFR {{fact.egfr.value}}', 'eGFR 42'],
    ['a fact date (YYYY-MM-DD)', 'on {{fact.egfr.date}}', 'on 2026-03-04'],
    ['a fact reference is its first source', '{{fact.egfr.reference}}', 'Observation/egfr-1'],
    ['a dotted fact id', '{{fact.renal.doseMg.value}} mg', '3.3 mg'],
    ['display falls back to the value', '{{fact.renal.doseMg.display}} mg', '3.3 mg'],
    ['false is a value, not missing', 'dental: {{fact.recentDental.display}}', 'dental: false'],
    ['spaces inside the braces', '{{  fact.egfr.value  }}', '42'],
    ['several placeholders', '{{fact.egfr.value}} / {{setting.course.doses}}', '42 / 6'],
    ['a numeric setting', '{{setting.course.doses}} doses', '6 doses'],
    ['an ISO duration setting reads as words', 'within {{setting.window.creatinine}}', 'within 30 days'],
    ['a year duration setting', 'every {{setting.window.dexa}}', 'every 2 years'],
    ['a string setting', 'policy {{setting.policy.name}}', 'policy ctibl-only'],
    ['a boolean setting', '{{setting.flag.enabled}}', 'true'],
    ['context fields', '{{context.patientId}} {{context.encounterId}}', 'pat-1 enc-9'],
    ['the user when a practitioner', '{{user}}', 'Practitioner/onc-1'],
    ['today', '{{now.date}}', '2026-11-27'],
    ['now as an instant', '{{now}}', '2026-11-27T09:00:00.000Z'],
    ['the draft order', '{{draft}}', 'MedicationRequest/draft-1'],
    ['a fact without a value reads "unknown"', 'T-score {{fact.tScore.value}}', 'T-score unknown'],
    ['an undated fact date reads "unknown"', '{{fact.renal.doseMg.date}}', 'unknown'],
    ['an unknown fact reads "unknown"', '{{fact.nothing.value}}', 'unknown'],
    ['an unknown setting reads "unknown"', '{{setting.nope}}', 'unknown'],
    ['an object setting is not rendered', '{{setting.object.setting}}', 'unknown'],
    ['an unknown root reads "unknown"', '{{patient.name}}', 'unknown'],
    ['braces that are not a placeholder stay', '{{not a placeholder}} {x}', '{{not a placeholder}} {x}'],
    ['markdown around a placeholder is kept', '**{{fact.egfr.value}}**', '**42**'],
  ])('%s', (_what, template, expected) => {
    expect(renderText(template, scope)).toBe(expected);
  });

  test('no draft order: {{draft}} reads "unknown"', () => {
    const { draftReference: _draft, ...withoutDraft } = scope;
    expect(renderText('{{draft}}', withoutDraft)).toBe('unknown');
  });

  test('a patient user is not quoted as {{user}}', () => {
    expect(renderText('{{user}}', { ...scope, context: { ...scope.context, userId: 'Patient/pat-1' } })).toBe('unknown');
  });
});

describe('renderResource', () => {
  test.each<[string, unknown, unknown]>([
    ['a whole placeholder keeps the number type', '{{fact.egfr.value}}', 42],
    ['a whole placeholder keeps the boolean type', '{{setting.flag.enabled}}', true],
    ['a whole placeholder with spaces', '{{ setting.course.doses }}', 6],
    ['a whole placeholder without a value is dropped', '{{fact.tScore.value}}', undefined],
    ['a placeholder inside text becomes text', 'Patient/{{context.patientId}}', 'Patient/pat-1'],
    ['text with a missing placeholder is dropped', 'Patient/{{fact.tScore.value}}', undefined],
    ['a literal string is kept', 'active', 'active'],
    ['numbers, booleans and null are kept', [1, false, null], [1, false, null]],
    ['missing array items are removed', ['{{fact.tScore.value}}', '{{draft}}'], ['MedicationRequest/draft-1']],
    ['an array left empty is dropped', ['{{fact.tScore.value}}'], undefined],
    [
      'an object keeps rendered fields and drops missing ones',
      { subject: { reference: 'Patient/{{context.patientId}}' }, note: '{{fact.tScore.value}}', dose: '{{fact.renal.doseMg.value}}' },
      { subject: { reference: 'Patient/pat-1' }, dose: 3.3 },
    ],
    ['an object left empty is dropped', { note: { text: '{{fact.tScore.value}}' } }, undefined],
    ['nested empties are pruned up the tree', { resourceType: 'Task', input: [{ value: { text: '{{fact.nothing.value}}' } }] }, { resourceType: 'Task' }],
  ])('%s', (_what, template, expected) => {
    expect(renderResource(template, scope)).toEqual(expected);
  });

  test('the template is not changed by rendering', () => {
    const template = { a: '{{fact.egfr.value}}', b: ['{{fact.tScore.value}}'] };
    const copy = structuredClone(template);
    renderResource(template, scope);
    expect(template).toEqual(copy);
  });
});
