import { buildCard } from '../../src/engine/build-cards';
import { evaluateCondition, type RuleMatch, type Truth } from '../../src/engine/evaluate-rules';
import type { Fact } from '../../src/schemas/facts';
import type { TemplateScope } from '../../src/engine/render-template';
import { describeDuration, type Duration } from '../../src/fhir/dates';
import type { Catalog, CompiledRule } from '../../src/knowledge/types';
import type { Card } from '../../src/schemas/cds-response';
import type { ConditionNode, FactTest } from '../../src/schemas/rule';
import { el, externalLink } from './dom';
import type { PatientEvaluation } from './evaluate-patient';
import { factDate, factLabel, factValue, STATE_TEXT } from './fact-text';

export type Decision = 'fires' | 'hidden' | 'not-met' | 'undecided';

export interface RuleView {
  rule: CompiledRule;
  decision: Decision;
  /** The card the service would show now (same builder, same texts), when the rule fires. */
  card: Card | undefined;
  hiddenBy: CompiledRule | undefined;
}

export function findRule(catalog: Catalog, ruleId: string): CompiledRule | undefined {
  for (const ruleSet of catalog.ruleSets.values()) {
    const rule = ruleSet.rules.find((r) => r.id === ruleId);
    if (rule) return rule;
  }
  return undefined;
}

/** Where a rule stands for this patient now, and its card built by the service's card builder. */
export function viewRule(catalog: Catalog, evaluation: PatientEvaluation, rule: CompiledRule, scope: TemplateScope): RuleView {
  const result = evaluation.evaluations.get(rule.ruleSet)!;
  const ruleSet = catalog.ruleSets.get(rule.ruleSet)!;
  const match: RuleMatch | undefined = result.matches.find((m) => m.rule.id === rule.id);
  const suppressed = result.suppressed.find((s) => s.ruleId === rule.id);
  const truth = evaluateCondition(rule.when, evaluation.conditions);
  const decision: Decision = match ? 'fires' : suppressed ? 'hidden' : truth === undefined ? 'undecided' : 'not-met';
  const firing = match ?? (truth === true ? { rule, indicator: rule.indicator, summary: rule.card.summary } : undefined);
  const card = firing
    ? buildCard(firing, {
        catalog,
        ruleSet,
        scope,
        conditions: evaluation.conditions,
        dataGaps: [],
        notes: [],
        draft: undefined,
        uuid: () => crypto.randomUUID(),
      })
    : undefined;
  return { rule, decision, card, hiddenBy: suppressed ? findRule(catalog, suppressed.by) : undefined };
}

const DECISION_TEXT: Record<Decision, string> = {
  fires: 'This card applies to the patient now.',
  hidden: 'The rule holds, but a higher-priority card of the same kind is shown instead',
  'not-met': 'This card does not apply to the patient now.',
  undecided: 'Cannot be decided now: data the rule needs are missing.',
};

const TRUTH = (truth: Truth): { mark: string; text: string; state: string } =>
  truth === true
    ? { mark: '✓', text: 'true', state: 'true' }
    : truth === false
      ? { mark: '✗', text: 'false', state: 'false' }
      : { mark: '?', text: 'unknown', state: 'unknown' };

function asDuration(value: unknown): string {
  const d = value as Duration | undefined;
  return d && typeof d === 'object' && 'amount' in d ? describeDuration(d) : String(value);
}

/** "Creatinine clearance < 30", "Dental examination is yes", "Last dose more than 6 months ago". */
export function describeTest(test: FactTest, catalog: Catalog, fact?: Fact): string {
  const label = factLabel(test.fact, fact, catalog.factLabels);
  const parts: string[] = [];
  if (test.state) parts.push(`is ${test.state.map((s) => STATE_TEXT[s as Fact['state']] ?? s).join(' or ')}`);
  if (test.is !== undefined) parts.push(test.is ? 'is recorded' : 'is not recorded');
  if (test.equals !== undefined) parts.push(`is ${test.equals}`);
  if (test.in) parts.push(`is ${test.in.join(' or ')}`);
  if (test.lt !== undefined) parts.push(`< ${String(test.lt)}`);
  if (test.lte !== undefined) parts.push(`≤ ${String(test.lte)}`);
  if (test.gt !== undefined) parts.push(`> ${String(test.gt)}`);
  if (test.gte !== undefined) parts.push(`≥ ${String(test.gte)}`);
  if (test.olderThan !== undefined) parts.push(`at least ${asDuration(test.olderThan)} ago`);
  if (test.within !== undefined) parts.push(`within the last ${asDuration(test.within)}`);
  return `${label} ${parts.join(' and ')}`;
}

function conditionTitle(node: ConditionNode): string {
  if ('all' in node) return 'All of these';
  if ('any' in node) return 'Any of these';
  if ('not' in node) return 'Not';
  if ('notTrue' in node) return 'Not shown to be true';
  if ('ref' in node) return node.ref.replace(/-/g, ' ');
  return '';
}

/** The rule's condition as a tree, each step marked true / false / unknown for this patient. */
function decisionPath(node: ConditionNode, catalog: Catalog, evaluation: PatientEvaluation, depth = 0): HTMLElement {
  const truth = TRUTH(evaluateCondition(node, evaluation.conditions));
  const item = el('li', { 'data-truth': truth.state });
  const mark = el('span', { class: `truth truth--${truth.state}`, 'aria-label': truth.text, role: 'img' }, truth.mark);
  if ('fact' in node) {
    const fact = evaluation.facts[node.fact];
    item.append(
      mark,
      ' ',
      el('span', {}, describeTest(node, catalog, fact)),
      ' ',
      el('span', { class: 'muted' }, `(${factValue(fact)}${fact?.at !== undefined ? `, ${factDate(fact)}` : ''})`),
    );
    return item;
  }
  item.append(mark, ' ', el('span', { class: 'node-title' }, conditionTitle(node)));
  if (depth > 12) return item;
  const children: ConditionNode[] =
    'all' in node
      ? node.all
      : 'any' in node
        ? node.any
        : 'not' in node
          ? [node.not]
          : 'notTrue' in node
            ? [node.notTrue]
            : [catalog.conditions.get(node.ref)!].filter(Boolean);
  const list = el('ul');
  for (const child of children) list.append(decisionPath(child, catalog, evaluation, depth + 1));
  item.append(list);
  return item;
}

function factsTable(rule: CompiledRule, evaluation: PatientEvaluation, catalog: Catalog): HTMLElement {
  const ids = [...new Set([...rule.shownFacts, ...rule.absenceFacts, ...(rule.card.prerequisites ?? [])])];
  const body = el('tbody');
  for (const id of ids) {
    const fact = evaluation.facts[id];
    const state = fact?.state ?? 'unknown';
    body.append(
      el(
        'tr',
        { 'data-fact': id, 'data-state': state },
        el('th', { scope: 'row' }, factLabel(id, fact, catalog.factLabels)),
        el(
          'td',
          { class: 'fact-value', 'data-label': 'Value' },
          factValue(fact),
          state === 'known' ? undefined : el('span', { class: `badge badge--${state}` }, ` ${STATE_TEXT[state]}`),
        ),
        el('td', { class: 'fact-date', 'data-label': 'Date' }, factDate(fact)),
        el('td', { class: 'fact-sources', 'data-label': 'Source' }, fact && fact.sources.length > 0 ? fact.sources.join(', ') : '—'),
        el('td', { class: 'fact-notes', 'data-label': 'Notes' }, fact && fact.notes.length > 0 ? fact.notes.join('; ') : ''),
      ),
    );
  }
  return el(
    'div',
    { class: 'table-scroll' },
    el(
      'table',
      { class: 'facts-table' },
      el('caption', { class: 'visually-hidden' }, 'Facts the rule used'),
      el('thead', {}, el('tr', {}, ...['Fact', 'Value', 'Date', 'Source', 'Notes'].map((h) => el('th', { scope: 'col' }, h)))),
      body,
    ),
  );
}

export function renderWhy(container: HTMLElement, view: RuleView, catalog: Catalog, evaluation: PatientEvaluation): void {
  const { rule } = view;
  const decision = view.decision === 'hidden' && view.hiddenBy ? `${DECISION_TEXT.hidden} (${view.hiddenBy.title}).` : DECISION_TEXT[view.decision];
  const evidence = el('ul', { class: 'evidence' });
  for (const id of rule.card.evidence) {
    const item = catalog.evidence[id];
    if (item) evidence.append(el('li', {}, externalLink(item.label, item.url), ` — ${item.citation}`));
  }
  container.replaceChildren(
    el('h3', { class: 'rule-title' }, rule.title),
    el('p', { class: `decision decision--${view.decision}`, 'data-decision': view.decision }, decision),
    view.card
      ? el(
          'blockquote',
          { class: `card-summary card-summary--${view.card.indicator}`, 'data-rule': rule.id, 'data-indicator': view.card.indicator },
          view.card.summary,
        )
      : '',
    el('h4', {}, 'Facts used'),
    factsTable(rule, evaluation, catalog),
    el('h4', {}, 'Decision path'),
    el('ul', { class: 'decision-path' }, decisionPath(rule.when, catalog, evaluation)),
    el('h4', {}, 'Evidence'),
    evidence,
    el('p', { class: 'muted basis' }, `Rule ${rule.id} · ${rule.basis}`),
  );
}
