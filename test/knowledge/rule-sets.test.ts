import { knowledgeFilesOnDisk } from '../../src/knowledge/knowledge-files-on-disk';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileConditions, readNamedConditions } from '../../src/knowledge/compile/conditions';
import { createCompileContext, Problems } from '../../src/knowledge/compile/context';
import { compileRuleSets, type RuleSetDeps } from '../../src/knowledge/compile/rule-sets';
import { createWindowResolver } from '../../src/knowledge/compile/settings';
import { PROJECT_ROOT, projectCatalog } from '../support/catalog';
import { fixtureContext } from './fixtures';

const catalog = projectCatalog();
const patientViewRules = readFileSync(join(PROJECT_ROOT, 'rules', 'sets', 'patient-view.yaml'), 'utf8');

function deps(): RuleSetDeps {
  const problems = new Problems();
  const raw = readNamedConditions(createCompileContext(knowledgeFilesOnDisk(PROJECT_ROOT)), 'rules');
  const conditions = compileConditions(problems, raw, {
    factLabels: catalog.factLabels,
    settings: catalog.settings,
    window: createWindowResolver(problems, catalog.settings),
  });
  return {
    factLabels: catalog.factLabels,
    settings: catalog.settings,
    conditions: conditions.conditions,
    resolveCondition: conditions.resolve,
    evidence: catalog.evidence,
    overrideReasons: catalog.overrideReasons,
    seed: catalog.seed,
    resources: catalog.resources,
  };
}

describe('rule set compiler', () => {
  test("compiles this repository's patient-view set as the catalogue holds it", () => {
    const ctx = fixtureContext({ 'sets/patient-view.yaml': patientViewRules });
    const { ruleSets, implemented } = compileRuleSets(ctx, join(ctx.root, 'sets'), deps());
    expect(ctx.problems.list).toEqual([]);
    const compiled = ruleSets.get('patient-view')!;
    const expected = catalog.ruleSets.get('patient-view')!;
    expect(compiled.rules.map((r) => [r.id, r.shownFacts, r.absenceFacts])).toEqual(expected.rules.map((r) => [r.id, r.shownFacts, r.absenceFacts]));
    expect(implemented.size).toBeGreaterThan(0);
  });

  test('the same set in two files: duplicate set and duplicate rule ids are problems', () => {
    const ctx = fixtureContext({ 'sets/a.yaml': patientViewRules, 'sets/b.yaml': patientViewRules });
    compileRuleSets(ctx, join(ctx.root, 'sets'), deps());
    expect(ctx.problems.list).toContain("sets/b.yaml: ruleSet: duplicate rule set 'patient-view'");
    expect(ctx.problems.list).toContainEqual(expect.stringMatching(/^sets\/b\.yaml: rules\[0\]\.id: duplicate rule id 'PV-/));
  });

  test('a rule citing unknown evidence, or a card text naming an unknown fact, is a problem', () => {
    const broken = patientViewRules.replace(/evidence: \[/, 'evidence: [NO-SUCH-PAPER, ').replace(/summary: "?/, (m) => `${m}{{fact.shoeSize.value}} `);
    const ctx = fixtureContext({ 'sets/patient-view.yaml': broken });
    compileRuleSets(ctx, join(ctx.root, 'sets'), deps());
    expect(ctx.problems.list.join('\n')).toContain("unknown evidence 'NO-SUCH-PAPER' (rules/evidence.yaml)");
    expect(ctx.problems.list.join('\n')).toContain("'fact.shoeSize.value': unknown fact 'shoeSize'");
  });
});
