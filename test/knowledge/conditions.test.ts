import { Problems } from '../../src/knowledge/compile/context';
import { compileConditions } from '../../src/knowledge/compile/conditions';
import { createWindowResolver } from '../../src/knowledge/compile/settings';
import type { ConditionNode } from '../../src/schemas/rule';

const factLabels = new Map([
  ['crcl', 'Creatinine clearance'],
  ['lastDose', 'Last dose'],
]);
const settings = new Map<string, unknown>([
  ['renal.severe', 35],
  ['windows.interval', 'P6M'],
]);

function compile(raw: Record<string, unknown>) {
  const problems = new Problems();
  const compiled = compileConditions(problems, raw as Record<string, ConditionNode>, {
    factLabels,
    settings,
    window: createWindowResolver(problems, settings),
  });
  return { problems: problems.list, ...compiled };
}

describe('named condition compiler', () => {
  test('replaces settings with their values and durations with Durations', () => {
    const { problems, conditions } = compile({
      severeRenal: { fact: 'crcl', lt: { setting: 'renal.severe' } },
      dueAgain: { fact: 'lastDose', olderThan: { setting: 'windows.interval' } },
    });
    expect(problems).toEqual([]);
    expect(conditions.get('severeRenal')).toEqual({ fact: 'crcl', lt: 35 });
    expect(conditions.get('dueAgain')).toEqual({ fact: 'lastDose', olderThan: { amount: 6, unit: 'M' } });
  });

  test.each([
    ['an unknown fact', { a: { fact: 'egfr', lt: 30 } }, "rules/conditions.yaml: conditions.a.fact: unknown fact 'egfr'"],
    ['an unknown reference', { a: { all: [{ ref: 'b' }] } }, "rules/conditions.yaml: conditions.a.all[0].ref: unknown condition 'b'"],
    [
      'a setting that is not a number',
      { a: { fact: 'crcl', gt: { setting: 'windows.interval' } } },
      "rules/conditions.yaml: conditions.a.gt: setting 'windows.interval' is missing or not a number",
    ],
    ['a cycle', { a: { ref: 'b' }, b: { not: { ref: 'a' } } }, 'rules/conditions.yaml: conditions.a: conditions refer to each other in a cycle (a → b → a)'],
  ])('%s is a problem', (_what, raw, message) => {
    expect(compile(raw).problems).toEqual([message]);
  });
});
