import { placeholderError, placeholdersIn } from '../placeholders';
import {
  RuleFileSchema,
  RuleSchema,
  type ConditionNode,
  type EvidenceFile,
  type OverrideReasonsFile,
  type Rule,
  type RuleFile,
  type SeedStatementsFile,
} from '../../schemas/rule';
import type { Catalog, CompiledRule, CompiledRuleSet } from '../types';
import type { ConditionResolver } from './conditions';
import { type CompileContext } from './context';

export interface RuleSetDeps {
  factLabels: ReadonlyMap<string, string>;
  settings: ReadonlyMap<string, unknown>;
  conditions: ReadonlyMap<string, ConditionNode>;
  resolveCondition: ConditionResolver;
  evidence: EvidenceFile['evidence'];
  overrideReasons: OverrideReasonsFile;
  seed: SeedStatementsFile;
  resources: Catalog['resources'];
}

export interface CompiledRuleSets {
  ruleSets: Map<string, CompiledRuleSet>;
  /** Seed statements some rule or appendix note implements. */
  implemented: Set<string>;
}

/** State shared while compiling the rule sets: ids are unique across all sets. */
interface RuleSetCompilation {
  ctx: CompileContext;
  deps: RuleSetDeps;
  ruleIds: Set<string>;
  implemented: Set<string>;
  /** Records a problem when a card text has a placeholder that can never resolve. */
  checkText(file: string, field: string, text: string): void;
}

/** rules/sets/*.yaml. */
export function compileRuleSets(ctx: CompileContext, setsDir: string, deps: RuleSetDeps): CompiledRuleSets {
  const factIds = new Set(deps.factLabels.keys());
  const compilation: RuleSetCompilation = {
    ctx,
    deps,
    ruleIds: new Set(),
    implemented: new Set(),
    checkText(file, field, text) {
      for (const placeholder of placeholdersIn(text)) {
        const error = placeholderError(placeholder, factIds, deps.settings);
        if (error) ctx.problems.add(file, field, error);
      }
    },
  };
  const ruleSets = new Map<string, CompiledRuleSet>();
  for (const filePath of ctx.listYaml(setsDir)) {
    const ruleFile = ctx.read<RuleFile>(filePath, RuleFileSchema);
    if (!ruleFile) continue;
    const file = ctx.rel(filePath);
    if (ruleSets.has(ruleFile.ruleSet)) ctx.problems.add(file, 'ruleSet', `duplicate rule set '${ruleFile.ruleSet}'`);
    const rules = ruleFile.rules.flatMap((raw, index) => compileRule(compilation, file, ruleFile.ruleSet, raw, index));
    const appendix = (ruleFile.appendix ?? []).map((note, i) => compileAppendixNote(compilation, file, rules, note, i));
    ruleSets.set(ruleFile.ruleSet, { id: ruleFile.ruleSet, rules, appendix });
  }
  return { ruleSets, implemented: compilation.implemented };
}

function compileRule(c: RuleSetCompilation, file: string, ruleSet: string, raw: unknown, index: number): CompiledRule[] {
  const rule = c.ctx.check<Rule>(file, raw, RuleSchema, `rules[${index}]`);
  if (!rule) return [];
  const f = `rules[${index}]`;
  checkRuleReferences(c, file, f, rule);
  c.checkText(file, `${f}.card.summary`, rule.card.summary);
  c.checkText(file, `${f}.card.detail`, rule.card.detail);
  const resolve = c.deps.resolveCondition;
  const when = resolve(file, `${f}.when`, rule.when);
  const variants = rule.variants?.map((v, i) => {
    if (v.summary) c.checkText(file, `${f}.variants[${i}].summary`, v.summary);
    return { ...v, when: resolve(file, `${f}.variants[${i}].when`, v.when) };
  });
  const read = factsOf(c.deps.conditions, when, { positive: [], absence: [] });
  const shownFacts = [...read.positive];
  for (const id of rule.card.facts ?? []) if (!shownFacts.includes(id)) shownFacts.push(id);
  const absenceFacts = read.absence.filter((id) => !shownFacts.includes(id));
  const suggestions = rule.card.suggestions?.map((sg, i) => {
    c.checkText(file, `${f}.card.suggestions[${i}].label`, sg.label);
    return sg.when ? { ...sg, when: resolve(file, `${f}.card.suggestions[${i}].when`, sg.when as ConditionNode) } : sg;
  });
  const card = suggestions ? { ...rule.card, suggestions } : rule.card;
  return [{ ...rule, card, when, ...(variants ? { variants } : {}), ruleSet, shownFacts, absenceFacts }];
}

/** Ids, seed statements, evidence, override reasons, suggestion actions and card facts a rule names. */
function checkRuleReferences(c: RuleSetCompilation, file: string, f: string, rule: Rule): void {
  const { problems } = c.ctx;
  const { seed, evidence, overrideReasons, resources, factLabels } = c.deps;
  if (c.ruleIds.has(rule.id)) problems.add(file, `${f}.id`, `duplicate rule id '${rule.id}'`);
  c.ruleIds.add(rule.id);
  for (const id of rule.implements) {
    if (!(id in seed.statements)) problems.add(file, `${f}.implements`, `unknown seed statement '${id}'`);
    c.implemented.add(id);
  }
  rule.card.evidence.forEach((id, i) => {
    if (!evidence[id]) problems.add(file, `${f}.card.evidence[${i}]`, `unknown evidence '${id}' (rules/evidence.yaml)`);
  });
  (rule.card.overrideReasons ?? []).forEach((id, i) => {
    if (!overrideReasons.reasons[id]) problems.add(file, `${f}.card.overrideReasons[${i}]`, `unknown override reason '${id}'`);
  });
  (rule.card.suggestions ?? []).forEach((s, i) =>
    s.actions.forEach((a, j) => {
      const field = `${f}.card.suggestions[${i}].actions[${j}]`;
      if (a.type === 'delete') {
        if (!a.resourceId || a.resource) problems.add(file, field, 'a delete action needs resourceId (and no resource)');
        else c.checkText(file, `${field}.resourceId`, a.resourceId);
      } else if (!a.resource) problems.add(file, `${field}.resource`, `is required for ${a.type}`);
      else if (!resources[a.resource]) problems.add(file, `${field}.resource`, `unknown resource template '${a.resource}'`);
      c.checkText(file, `${field}.description`, a.description);
    }),
  );
  for (const [i, id] of [...(rule.card.facts ?? []), ...(rule.card.prerequisites ?? [])].entries()) {
    if (!factLabels.has(id)) problems.add(file, `${f}.card.facts/prerequisites[${i}]`, `unknown fact '${id}'`);
  }
}

function compileAppendixNote(
  c: RuleSetCompilation,
  file: string,
  rules: readonly CompiledRule[],
  note: NonNullable<RuleFile['appendix']>[number],
  i: number,
): CompiledRuleSet['appendix'][number] {
  const { problems } = c.ctx;
  c.checkText(file, `appendix[${i}].text`, note.text);
  for (const id of note.appliesTo ?? [])
    if (!rules.some((r) => r.id === id)) problems.add(file, `appendix[${i}].appliesTo`, `unknown rule '${id}' in this set`);
  for (const id of note.implements ?? []) {
    if (!(id in c.deps.seed.statements)) problems.add(file, `appendix[${i}].implements`, `unknown seed statement '${id}'`);
    c.implemented.add(id);
  }
  return { id: note.id, when: c.deps.resolveCondition(file, `appendix[${i}].when`, note.when), text: note.text, appliesTo: note.appliesTo };
}

/**
 * Facts a condition reads. Those reached only through `notTrue` are absence checks (no metastasis,
 * no contraindication): shown when checked and absent, not listed as "missing" when unknown.
 */
function factsOf(
  conditions: ReadonlyMap<string, ConditionNode>,
  node: ConditionNode,
  out: { positive: string[]; absence: string[] },
  underNotTrue = false,
  seen = new Set<string>(),
): { positive: string[]; absence: string[] } {
  if ('all' in node) node.all.forEach((child) => factsOf(conditions, child, out, underNotTrue, seen));
  else if ('any' in node) node.any.forEach((child) => factsOf(conditions, child, out, underNotTrue, seen));
  else if ('not' in node) factsOf(conditions, node.not, out, underNotTrue, seen);
  else if ('notTrue' in node) factsOf(conditions, node.notTrue, out, true, seen);
  else if ('ref' in node) {
    const key = `${node.ref}:${underNotTrue}`;
    if (!seen.has(key) && conditions.has(node.ref)) {
      seen.add(key);
      factsOf(conditions, conditions.get(node.ref)!, out, underNotTrue, seen);
    }
  } else {
    const list = underNotTrue ? out.absence : out.positive;
    if (!list.includes(node.fact)) list.push(node.fact);
  }
  return out;
}
