import { join } from 'node:path';
import { compileCodeLists, createCodesResolver } from '../../src/knowledge/compile/code-lists';
import { fixtureContext } from './fixtures';

const SYSTEMS = 'systems:\n  - { name: LOINC, uri: http://loinc.org, source: test }\n';
const list = (id: string, code: string) =>
  `id: ${id}\ntitle: ${id}\nsource: [test]\nstatus: verified\ncodes:\n  - { system: http://loinc.org, code: "${code}", display: ${id}, status: verified }\n`;

describe('code list compiler', () => {
  test('compiles the lists of fhir-mappings/code-lists and matches their codes', () => {
    const ctx = fixtureContext({
      'm/code-systems.yaml': SYSTEMS,
      'm/units.yaml': 'aliases: {}\n',
      'm/code-lists/creatinine.yaml': list('creatinine', '2160-0'),
    });
    const compiled = compileCodeLists(ctx, join(ctx.root, 'm'));
    expect(ctx.problems.list).toEqual([]);
    expect([...compiled.codeLists.keys()]).toEqual(['creatinine']);
    expect(ctx.files).toEqual(['m/code-systems.yaml', 'm/units.yaml', 'm/code-lists/creatinine.yaml']);
  });

  test('a list whose id differs from its file name, and a unit alias that is not UCUM, are problems', () => {
    const ctx = fixtureContext({
      'm/code-systems.yaml': SYSTEMS,
      'm/units.yaml': 'aliases: { "mg/dl": "not-a-unit!" }\n',
      'm/code-lists/creatinine.yaml': list('kreatinin', '2160-0'),
    });
    compileCodeLists(ctx, join(ctx.root, 'm'));
    expect(ctx.problems.list).toEqual([
      "fhir-mappings/units.yaml: aliases.mg/dl: 'not-a-unit!' is not a valid UCUM unit",
      "m/code-lists/creatinine.yaml: id: must equal the file name ('creatinine')",
    ]);
  });

  test('a union of lists has every code of each; an unknown list in it is a problem', () => {
    const ctx = fixtureContext({
      'm/code-systems.yaml': SYSTEMS,
      'm/units.yaml': 'aliases: {}\n',
      'm/code-lists/a.yaml': list('a', '1-1'),
      'm/code-lists/b.yaml': list('b', '2-2'),
    });
    const codes = createCodesResolver(ctx.problems, compileCodeLists(ctx, join(ctx.root, 'm')));
    const union = codes('facts.yaml', 'facts[0].codes', ['a', 'b'], 'x');
    expect(union?.id).toBe('a+b');
    expect(codes('facts.yaml', 'facts[1].codes', ['a', 'missing'], 'y')).toBeUndefined();
    expect(ctx.problems.list).toEqual(["facts.yaml: facts[1].codes: unknown code list 'missing'"]);
  });

  test('a YAML syntax error names the file and the line', () => {
    const ctx = fixtureContext({ 'm/code-systems.yaml': 'systems: [\n', 'm/units.yaml': 'aliases: {}\n' });
    compileCodeLists(ctx, join(ctx.root, 'm'));
    expect(ctx.problems.list).toHaveLength(1);
    expect(ctx.problems.list[0]).toMatch(/^m\/code-systems\.yaml: line \d+: /);
  });
});
