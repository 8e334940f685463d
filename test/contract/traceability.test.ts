import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { traceability } from '../../tools/knowledge/traceability';
import { PROJECT_ROOT, projectCatalog } from '../support/catalog';
import { loadScenarios } from '../support/scenarios';

describe('clinical traceability (what npm run rules:check enforces)', () => {
  const report = traceability(projectCatalog(), loadScenarios());

  test('every rule is cited, fires in a scenario and has a near-miss scenario', () => {
    expect(report.problems).toEqual([]);
  });

  test('at least 40 clinical scenarios', () => {
    expect(loadScenarios().length).toBeGreaterThanOrEqual(40);
  });

  test('rules/README.md is the current generated traceability table', () => {
    expect(readFileSync(join(PROJECT_ROOT, 'rules', 'README.md'), 'utf8')).toBe(report.markdown);
  });

  test('a rule without a near-miss is reported', () => {
    const scenarios = loadScenarios().map((s) => ({ ...s, scenario: { ...s.scenario, proves: { ...s.scenario.proves, nearMissFor: s.scenario.proves.nearMissFor.filter((id) => id !== 'PV-CTIBL') } } }));
    expect(traceability(projectCatalog(), scenarios).problems).toContain('PV-CTIBL: no near-miss scenario proves it does not fire');
  });
});
