import { Problems } from '../../src/knowledge/compile/context';
import { compileResources } from '../../src/knowledge/compile/resources';
import type { ResourceTemplatesFile } from '../../src/schemas/rule';
import { projectCatalog } from '../support/catalog';

const catalog = projectCatalog();
const deps = { conditionNames: new Set(catalog.conditions.keys()), factLabels: catalog.factLabels, settings: catalog.settings };

function compile(specs: Record<string, unknown>) {
  const problems = new Problems();
  const resources = compileResources(problems, specs as ResourceTemplatesFile['resources'], deps);
  return { problems: problems.list, resources };
}

describe('resource compiler', () => {
  test('a template whose placeholders resolve compiles as written', () => {
    const template = { resourceType: 'Task', status: 'requested', for: { reference: 'Patient/{{context.patientId}}' } };
    expect(compile({ task: { template } })).toEqual({ problems: [], resources: { task: { template } } });
  });

  test('a template placeholder naming an unknown fact is a problem', () => {
    const { problems } = compile({ note: { template: { resourceType: 'Task', description: '{{fact.shoeSize.value}}' } } });
    expect(problems).toEqual(["rules/resources.yaml: resources.note.template: 'fact.shoeSize.value': unknown fact 'shoeSize'"]);
  });

  test('an unknown builder is a problem and the resource is left out', () => {
    expect(compile({ order: { builder: 'magic-order' } })).toEqual({
      problems: ["rules/resources.yaml: resources.order.builder: unknown builder 'magic-order'"],
      resources: {},
    });
  });

  test("a builder's params must name existing conditions, facts and settings", () => {
    const { problems } = compile({ order: { builder: 'corrected-zoledronic-order', params: { adjuvantCondition: 'noSuchCondition' } } });
    expect(problems).toContain("rules/resources.yaml: resources.order.params.adjuvantCondition: unknown condition 'noSuchCondition'");
    expect(problems).toContain('rules/resources.yaml: resources.order.params.renalDoseFact: is required (fact name)');
  });
});
