import { evaluateCondition, evaluateRules, type ConditionContext } from '../../src/engine/evaluate-rules';
import type { Fact } from '../../src/schemas/facts';
import type { CompiledRule } from '../../src/knowledge/types';
import type { ConditionNode } from '../../src/schemas/rule';
import { TEST_NOW } from '../support/clock';

const known = (id: string, value: Fact['value'], extra: Partial<Fact> = {}): Fact => ({ id, label: id, state: 'known', value, sources: [], notes: [], ...extra });
const unknown = (id: string): Fact => ({ id, label: id, state: 'unknown', sources: [], notes: [] });

function ctx(facts: Fact[], conditions: Record<string, ConditionNode> = {}): ConditionContext {
  return { facts: Object.fromEntries(facts.map((f) => [f.id, f])), conditions: new Map(Object.entries(conditions)), now: TEST_NOW };
}

describe('three-valued (Kleene) condition logic', () => {
  const t = { fact: 'a', is: true } as const;
  const f = { fact: 'b', is: true } as const;
  const u = { fact: 'c', is: true } as const;
  const c = ctx([known('a', true), known('b', false), unknown('c')]);

  test.each([
    ['all(true, unknown)', { all: [t, u] }, undefined],
    ['all(false, unknown)', { all: [f, u] }, false],
    ['any(true, unknown)', { any: [t, u] }, true],
    ['any(false, unknown)', { any: [f, u] }, undefined],
    ['not(unknown)', { not: u }, undefined],
    ['notTrue(unknown)', { notTrue: u }, true],
    ['notTrue(true)', { notTrue: t }, false],
    ['state of an unknown fact', { fact: 'c', state: ['unknown'] }, true],
    ['comparison on an unknown fact', { fact: 'c', lt: 30 }, undefined],
  ] as [string, ConditionNode, boolean | undefined][])('%s', (_name, node, expected) => {
    expect(evaluateCondition(node, c)).toBe(expected);
  });

  test.each([
    [29, true],
    [29.9, true],
    [30, false],
    [31, false],
  ])('CrCl %s < 30 → %s', (value, expected) => {
    expect(evaluateCondition({ fact: 'crcl', lt: 30 }, ctx([known('crcl', value)]))).toBe(expected);
  });

  test('a range test is the conjunction of its bounds', () => {
    const node: ConditionNode = { fact: 'crcl', gte: 30, lte: 60 };
    expect(evaluateCondition(node, ctx([known('crcl', 30)]))).toBe(true);
    expect(evaluateCondition(node, ctx([known('crcl', 60)]))).toBe(true);
    expect(evaluateCondition(node, ctx([known('crcl', 60.1)]))).toBe(false);
  });

  test('date tests use the fact date against the injected clock', () => {
    const sevenMonthsAgo = known('lastDose', '2026-04-20', { at: Date.parse('2026-04-20') });
    const months = (n: number) => ({ amount: n, unit: 'M' as const });
    expect(evaluateCondition({ fact: 'lastDose', olderThan: months(6) as never }, ctx([sevenMonthsAgo]))).toBe(true);
    expect(evaluateCondition({ fact: 'lastDose', within: months(6) as never }, ctx([sevenMonthsAgo]))).toBe(false);
  });
});

describe('rule selection', () => {
  const rule = (id: string, priority: number, extra: Partial<CompiledRule> = {}): CompiledRule => ({
    id,
    title: id,
    implements: [],
    basis: 'test',
    category: 'eligibility',
    priority,
    indicator: 'info',
    when: { fact: 'x', is: true },
    card: { summary: id, detail: id, evidence: ['EBCTCG-2015'] },
    ruleSet: 'test',
    shownFacts: [],
    absenceFacts: [],
    ...extra,
  });

  test('only the highest priority of an exclusive group is shown; the rest are reported suppressed', () => {
    const ruleSet = { id: 'test', appendix: [], rules: [rule('PV-B', 50, { exclusiveGroup: 'eligibility' }), rule('PV-A', 100, { exclusiveGroup: 'eligibility' }), rule('PV-C', 10)] };
    const evaluation = evaluateRules(ruleSet, ctx([known('x', true)]));
    expect(evaluation.matches.map((m) => m.rule.id)).toEqual(['PV-A', 'PV-C']);
    expect(evaluation.suppressed).toEqual([{ ruleId: 'PV-B', by: 'PV-A' }]);
  });

  test('cards are ordered critical → warning → info, then by category and priority', () => {
    const ruleSet = {
      id: 'test',
      appendix: [],
      rules: [
        rule('OS-INFO', 90),
        rule('OS-WARN', 10, { indicator: 'warning', category: 'safety' }),
        rule('OS-CRIT', 5, { indicator: 'critical', category: 'safety' }),
      ],
    };
    expect(evaluateRules(ruleSet, ctx([known('x', true)])).matches.map((m) => m.rule.id)).toEqual(['OS-CRIT', 'OS-WARN', 'OS-INFO']);
  });

  test('a variant escalates the indicator and replaces the summary', () => {
    const ruleSet = { id: 'test', appendix: [], rules: [rule('OS-ONJ', 1, { indicator: 'warning', variants: [{ when: { fact: 'active', is: true }, indicator: 'critical', summary: 'active' }] })] };
    const [match] = evaluateRules(ruleSet, ctx([known('x', true), known('active', true)])).matches;
    expect(match).toMatchObject({ indicator: 'critical', summary: 'active' });
  });

  test('rules whose condition lacks data are reported as undecided, not fired', () => {
    const evaluation = evaluateRules({ id: 'test', appendix: [], rules: [rule('PV-X', 1)] }, ctx([unknown('x')]));
    expect(evaluation.matches).toEqual([]);
    expect(evaluation.undecided).toEqual(['PV-X']);
  });
});
