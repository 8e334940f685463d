import { subtractDuration, type Duration } from '../fhir/dates';
import type { CompiledRule, CompiledRuleSet } from '../knowledge/types';
import type { ConditionNode, FactTest } from '../schemas/rule';
import type { Fact, Facts } from '../schemas/facts';

/** Three-valued truth: undefined is "unknown" (a fact the test needs has no value). */
export type Truth = boolean | undefined;

export interface ConditionContext {
  facts: Facts;
  conditions: ReadonlyMap<string, ConditionNode>;
  now: number;
}

/** Conditions arrive with settings already resolved: numbers, and durations parsed at start-up. */
type ResolvedNumber = number;
type ResolvedDuration = Duration;

function testFact(test: FactTest, fact: Fact | undefined, now: number): Truth {
  if (test.state) return fact !== undefined && test.state.includes(fact.state as never);
  if (!fact || fact.state === 'unknown' || fact.value === undefined) {
    // Date tests only need the date; a fact without value or date is unknown.
    return undefined;
  }
  const dated = test.olderThan !== undefined || test.within !== undefined;
  if (dated && fact.at === undefined) return undefined;
  // Every listed comparison must hold. Plain checks, no allocation: this runs for every rule, every call.
  const value = fact.value;
  if (test.is !== undefined && value !== test.is) return false;
  if (test.equals !== undefined && value !== test.equals) return false;
  if (test.in !== undefined && !(typeof value === 'string' && test.in.includes(value))) return false;
  const numeric = typeof value === 'number';
  if (test.lt !== undefined && !(numeric && value < (test.lt as ResolvedNumber))) return false;
  if (test.lte !== undefined && !(numeric && value <= (test.lte as ResolvedNumber))) return false;
  if (test.gt !== undefined && !(numeric && value > (test.gt as ResolvedNumber))) return false;
  if (test.gte !== undefined && !(numeric && value >= (test.gte as ResolvedNumber))) return false;
  if (dated) {
    if (test.olderThan !== undefined && !(fact.at! <= subtractDuration(now, test.olderThan as unknown as ResolvedDuration))) return false;
    if (test.within !== undefined && !(fact.at! > subtractDuration(now, test.within as unknown as ResolvedDuration))) return false;
  }
  return true;
}

/** Kleene logic: all = false if any false, else unknown if any unknown; any mirrors it; not keeps unknown. */
export function evaluateCondition(node: ConditionNode, ctx: ConditionContext): Truth {
  if ('all' in node) {
    let result: Truth = true;
    for (const child of node.all) {
      const value = evaluateCondition(child, ctx);
      if (value === false) return false;
      if (value === undefined) result = undefined;
    }
    return result;
  }
  if ('any' in node) {
    let result: Truth = false;
    for (const child of node.any) {
      const value = evaluateCondition(child, ctx);
      if (value === true) return true;
      if (value === undefined) result = undefined;
    }
    return result;
  }
  if ('not' in node) {
    const value = evaluateCondition(node.not, ctx);
    return value === undefined ? undefined : !value;
  }
  if ('notTrue' in node) return evaluateCondition(node.notTrue, ctx) !== true;
  if ('ref' in node) {
    const named = ctx.conditions.get(node.ref);
    if (!named) throw new Error(`unknown condition '${node.ref}' (start-up validation should have caught this)`);
    return evaluateCondition(named, ctx);
  }
  return testFact(node, ctx.facts[node.fact], ctx.now);
}

export interface RuleMatch {
  rule: CompiledRule;
  indicator: CompiledRule['indicator'];
  summary: string;
}

export interface Evaluation {
  matches: RuleMatch[];
  /** Fired but hidden by a higher-priority rule of the same exclusive group. */
  suppressed: { ruleId: string; by: string }[];
  /** Rules whose condition could not be decided for lack of data. */
  undecided: string[];
}

const INDICATOR_RANK = { critical: 0, warning: 1, info: 2 } as const;
const CATEGORY_RANK = { safety: 0, eligibility: 1, prerequisite: 2, monitoring: 3 } as const;

/** Pure: facts × rule set → the rules that fire, one per id, in display order (critical first). */
export function evaluateRules(ruleSet: CompiledRuleSet, ctx: ConditionContext): Evaluation {
  const fired: RuleMatch[] = [];
  const undecided: string[] = [];
  for (const rule of ruleSet.rules) {
    const truth = evaluateCondition(rule.when, ctx);
    if (truth === undefined) undecided.push(rule.id);
    if (truth !== true) continue;
    let indicator = rule.indicator;
    let summary = rule.card.summary;
    for (const variant of rule.variants ?? []) {
      if (evaluateCondition(variant.when, ctx) === true) {
        indicator = variant.indicator ?? indicator;
        summary = variant.summary ?? summary;
        break;
      }
    }
    fired.push({ rule, indicator, summary });
  }
  const suppressed: Evaluation['suppressed'] = [];
  const winners = new Map<string, RuleMatch>();
  for (const match of fired) {
    const group = match.rule.exclusiveGroup;
    if (!group) continue;
    const current = winners.get(group);
    if (!current || match.rule.priority > current.rule.priority) winners.set(group, match);
  }
  const matches = fired.filter((match) => {
    const group = match.rule.exclusiveGroup;
    if (!group) return true;
    const winner = winners.get(group)!;
    if (winner === match) return true;
    suppressed.push({ ruleId: match.rule.id, by: winner.rule.id });
    return false;
  });
  matches.sort(
    (a, b) =>
      INDICATOR_RANK[a.indicator] - INDICATOR_RANK[b.indicator] ||
      CATEGORY_RANK[a.rule.category] - CATEGORY_RANK[b.rule.category] ||
      b.rule.priority - a.rule.priority ||
      a.rule.id.localeCompare(b.rule.id),
  );
  return { matches, suppressed, undecided };
}
