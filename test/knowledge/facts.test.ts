import { join } from 'node:path';
import { Problems } from '../../src/knowledge/compile/context';
import { createCodesResolver } from '../../src/knowledge/compile/code-lists';
import { compileDerivedFacts } from '../../src/knowledge/compile/derived-facts';
import { createSourceCompiler } from '../../src/knowledge/compile/fact-sources';
import { compileExtractedFacts, factLabelsOf, readFactDefinitions, type FactEntry } from '../../src/knowledge/compile/facts';
import { createWindowResolver } from '../../src/knowledge/compile/settings';
import { CodeSystems } from '../../src/fhir/codes';
import { UnitConverter } from '../../src/fhir/units';
import type { FactDefinition } from '../../src/schemas/fact-mapping';
import type { FactDef } from '../../src/knowledge/types';
import { fixtureContext } from './fixtures';

const DEFAULTS = { resourceTypes: { Observation: { date: 'effective.ofType(dateTime)' }, Patient: { date: 'birthDate' } } };

function compilers(problems: Problems) {
  const codeLists = { codeSystems: new CodeSystems({ systems: [] }), units: new UnitConverter({}), codeLists: new Map(), codeListFiles: new Map() };
  return {
    problems,
    sources: createSourceCompiler(problems, DEFAULTS, createCodesResolver(problems, codeLists)),
    window: createWindowResolver(problems, new Map()),
  };
}

const entry = (def: Record<string, unknown>, index = 0): FactEntry => ({ file: 'facts.yaml', index, def: def as FactDefinition });
const creatinine = {
  id: 'creatinine',
  label: 'Creatinine',
  kind: 'quantity',
  unit: 'mg/dL',
  select: 'newest',
  sources: [{ resourceType: 'Observation', codes: [{ system: 'http://loinc.org', code: '2160-0' }] }],
};

describe('fact compiler', () => {
  test('reads each fact against the schema of its kind; a file with a bad item is named', () => {
    const ctx = fixtureContext({
      'facts/01.yaml': 'facts:\n  - { id: birthDate, label: Birth date, kind: patient, field: birthDate }\n',
      'facts/02.yaml': 'facts:\n  - { id: odd, label: Odd, kind: patient, field: shoeSize }\n',
    });
    const entries = readFactDefinitions(ctx, join(ctx.root, 'facts'));
    expect(entries.map((e) => `${e.file}:${e.def.id}`)).toEqual(['facts/01.yaml:birthDate']);
    expect(ctx.problems.list.length).toBeGreaterThan(0);
    for (const problem of ctx.problems.list) expect(problem).toMatch(/^facts\/02\.yaml: facts\[0\]/);
  });

  test('labels cover medication outputs and draft facts; a duplicate id is a problem', () => {
    const problems = new Problems();
    const labels = factLabelsOf(problems, [
      entry({ id: 'zoledronic', label: 'Zoledronic acid', kind: 'medication', codes: [] }),
      entry({ id: 'zoledronic.lastDose', label: 'Again', kind: 'patient', field: 'birthDate' }, 1),
    ]);
    expect(labels.get('zoledronic.doseCount')).toBe('Zoledronic acid');
    expect(problems.list).toEqual(["facts.yaml: facts[1].id: duplicate fact id 'zoledronic.lastDose'"]);
  });

  test.each([
    ['a quantity with neither unit nor unitless', { ...creatinine, unit: undefined }, 'facts.yaml: facts[0]: needs unit (UCUM) or unitless'],
    ['a quantity with a unit that is not UCUM', { ...creatinine, unit: 'mg per dl' }, "facts.yaml: facts[0].unit: 'mg per dl' is not a valid UCUM unit"],
    ['lowest without a window', { ...creatinine, select: 'lowest' }, 'facts.yaml: facts[0].window: is required for select: lowest'],
    [
      'a source whose FHIRPath does not compile',
      { ...creatinine, sources: [{ ...creatinine.sources[0], where: 'status = (' }] },
      'facts.yaml: facts[0].sources[0].where: FHIRPath does not compile',
    ],
    [
      'a resource type without defaults',
      { ...creatinine, sources: [{ ...creatinine.sources[0], resourceType: 'Procedure' }] },
      'no defaults for resource type Procedure',
    ],
  ])('%s is a problem', (_what, def, message) => {
    const problems = new Problems();
    compileExtractedFacts(compilers(problems), [entry(def)]);
    expect(problems.list.join('\n')).toContain(message);
  });

  test('a valid quantity fact compiles with its reads and defaults', () => {
    const problems = new Problems();
    const [fact] = compileExtractedFacts(compilers(problems), [entry(creatinine)]);
    expect(problems.list).toEqual([]);
    expect(fact).toMatchObject({ kind: 'quantity', id: 'creatinine', unit: 'mg/dL', decimals: 2, reads: ['Observation'] });
  });
});

describe('derived fact compiler', () => {
  const BIRTH_DATE: FactDef[] = [{ kind: 'patient', id: 'birthDate', label: 'Birth date', field: 'birthDate', reads: ['Patient'] }];
  const labels = new Map([
    ['birthDate', 'Birth date'],
    ['age', 'Age'],
  ]);

  test('orders derived facts after their inputs and resolves params from settings', () => {
    const problems = new Problems();
    const known = new Map([...labels, ['menopausalStatus', 'M']]);
    const inputs = { documented: 'birthDate', bilateralOophorectomy: 'birthDate', age: 'age', sex: 'birthDate' };
    const entries = [
      entry(
        {
          id: 'menopausalStatus',
          label: 'M',
          kind: 'derived',
          calculator: 'menopausal-status',
          inputs,
          params: { postmenopausalFromAge: { setting: 'menopause.age' } },
        },
        0,
      ),
      entry({ id: 'age', label: 'Age', kind: 'derived', calculator: 'age-years', inputs: { birthDate: 'birthDate' } }, 1),
    ];
    const derived = compileDerivedFacts(problems, entries, BIRTH_DATE, known, new Map([['menopause.age', 60]]));
    expect(problems.list).toEqual([]);
    expect(derived.map((d) => d.id)).toEqual(['age', 'menopausalStatus']);
    expect(derived[1]).toMatchObject({ params: { postmenopausalFromAge: 60 } });
  });

  test('a param naming a missing setting says so', () => {
    const problems = new Problems();
    const inputs = { documented: 'birthDate', bilateralOophorectomy: 'birthDate', age: 'birthDate', sex: 'birthDate' };
    const entries = [
      entry({ id: 'm', label: 'M', kind: 'derived', calculator: 'menopausal-status', inputs, params: { postmenopausalFromAge: { setting: 'nope' } } }),
    ];
    compileDerivedFacts(problems, entries, BIRTH_DATE, labels, new Map());
    expect(problems.list).toHaveLength(1);
    expect(problems.list[0]).toMatch(/^facts\.yaml: facts\[0\]\.params\.postmenopausalFromAge: .*\(setting not found\)$/);
  });

  test.each([
    ['an unknown calculator', { calculator: 'guess', inputs: {} }, "facts.yaml: facts[0].calculator: unknown calculator 'guess'"],
    ['an unknown input fact', { calculator: 'age-years', inputs: { birthDate: 'dob' } }, "facts.yaml: facts[0].inputs.birthDate: unknown fact 'dob'"],
    [
      'a parameter the calculator lacks',
      { calculator: 'age-years', inputs: { birthDate: 'birthDate' }, params: { x: 1 } },
      "facts.yaml: facts[0].params.x: calculator 'age-years' has no parameter 'x'",
    ],
  ])('%s is a problem', (_what, def, message) => {
    const problems = new Problems();
    compileDerivedFacts(problems, [entry({ id: 'age', label: 'Age', kind: 'derived', ...def })], BIRTH_DATE, labels, new Map());
    expect(problems.list.some((problem) => problem.startsWith(message))).toBe(true);
  });

  test('derived facts that read each other are refused as a cycle', () => {
    const problems = new Problems();
    const cyclic = new Map([
      ['a', 'A'],
      ['b', 'B'],
    ]);
    compileDerivedFacts(
      problems,
      [
        entry({ id: 'a', label: 'A', kind: 'derived', calculator: 'age-years', inputs: { birthDate: 'b' } }, 0),
        entry({ id: 'b', label: 'B', kind: 'derived', calculator: 'age-years', inputs: { birthDate: 'a' } }, 1),
      ],
      [],
      cyclic,
      new Map(),
    );
    expect(problems.list).toEqual([
      'facts.yaml: facts[0].inputs: derived facts depend on each other in a cycle',
      'facts.yaml: facts[1].inputs: derived facts depend on each other in a cycle',
    ]);
  });
});
