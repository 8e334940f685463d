import type { Card, CardAction, Suggestion } from '../schemas/cds-response';
import type { Catalog, CompiledRule, CompiledRuleSet } from '../knowledge/types';
import { evaluateCondition, type ConditionContext, type RuleMatch } from './evaluate-rules';
import type { Fact } from '../schemas/facts';
import { renderResource, renderText, type TemplateScope } from './render-template';
import { RESOURCE_BUILDERS } from '../clinical/resource-builders';
import type { AnyResource } from './resource-index';

/** Rule ids travel on each card as source.topic, so EHR analytics and feedback can group by rule. */
export const RULE_TOPIC_SYSTEM = 'https://zoledronic-cds.example.org/fhir/CodeSystem/rule';

export interface CardBuildContext {
  catalog: Catalog;
  ruleSet: CompiledRuleSet;
  scope: TemplateScope;
  conditions: ConditionContext;
  /** Human notes on data that could not be obtained; every card repeats them. */
  dataGaps: readonly string[];
  /** Other notes every card carries (e.g. the ordered drug was recognised by name only). */
  notes: readonly string[];
  draft: AnyResource | undefined;
  uuid: () => string;
  /** The SMART app's launch URL; when set, eligibility, safety and monitoring cards link to it. */
  appLaunchUrl?: string;
}

/** Cards whose "why" is a history (eligibility, safety, next dose) open the SMART app. */
const APP_CATEGORIES: ReadonlySet<CompiledRule['category']> = new Set(['eligibility', 'safety', 'monitoring']);
export const APP_LINK_LABEL = 'Bone-health timeline and why this card';

/**
 * CDS Hooks 2.0 Link of type smart. appContext names the rule only: the app reads the patient's data
 * itself, with the user's token, so no patient data travels in the card.
 */
function appLink(rule: CompiledRule, launchUrl: string): NonNullable<Card['links']>[number] {
  return { label: APP_LINK_LABEL, url: launchUrl, type: 'smart', appContext: JSON.stringify({ rule: rule.id }) };
}

const SUMMARY_MAX = 139;

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

const DETAIL_MAX = 1000;
const TODO_SHOWN = 4;
/** "Observation/obs-1", "MedicationRequest/x": resource ids belong in the app and the audit, not on cards. */
const RESOURCE_REFERENCE = /\b[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}\s*/g;

/** A fact note fit for a clinician: resource ids removed, code-list caveats left to the app. */
function cardNote(note: string): string | undefined {
  if (/identified by name|code list/i.test(note)) return undefined;
  return note.replace(RESOURCE_REFERENCE, '').replace(/\s+/g, ' ').trim() || undefined;
}

/** Why a fact the rule needs is missing or old, in a few words. */
function whatIsMissing(fact: Fact): string {
  if (fact.state === 'stale') return `out of date${fact.display ? ` (${cardNote(fact.display) ?? ''})` : ''}`;
  if (fact.value === false) return fact.display ?? 'none recorded';
  const note = fact.notes.map(cardNote).find((n) => n !== undefined);
  return note ? truncate(note, 90) : 'not documented';
}

/** A prerequisite is done when it is known and not an absence ("none within 6 months"). */
function prerequisiteDone(fact: Fact): boolean {
  return (fact.state === 'known' || fact.state === 'conflicting') && fact.value !== undefined && fact.value !== false;
}

/**
 * Card detail for a clinician who reads for five seconds: why (the rule's own text, with its key
 * values and dates), then what is missing or must be done, then data the EHR could not give. Facts
 * with their sources, the decision path and the evidence list live in the SMART app and the audit.
 */
function composeDetail(rule: CompiledRule, ctx: CardBuildContext): string {
  const { facts } = ctx.scope;
  const parts = [renderText(rule.card.detail, ctx.scope).trim()];
  const prerequisiteIds = rule.card.prerequisites ?? [];
  const todo: string[] = [];
  // Only the facts the rule's author lists (card.facts): alternatives the condition did not need
  // (e.g. the optional combined ER/PR result) are not "missing".
  for (const id of rule.card.facts ?? []) {
    const fact = facts[id];
    if (!fact || prerequisiteIds.includes(id) || (fact.state !== 'unknown' && fact.state !== 'stale')) continue;
    todo.push(`${fact.label}: ${whatIsMissing(fact)}`);
  }
  for (const id of prerequisiteIds) {
    const fact = facts[id];
    if (fact && !prerequisiteDone(fact)) todo.push(`${fact.label}: ${whatIsMissing(fact)}`);
  }
  if (todo.length > 0) {
    const more = todo.length > TODO_SHOWN ? `; and ${todo.length - TODO_SHOWN} more (see the app)` : '';
    parts.push(`**Missing or to do:** ${todo.slice(0, TODO_SHOWN).join('; ')}${more}.`);
  }
  for (const note of ctx.notes) parts.push(note);
  for (const note of ctx.ruleSet.appendix) {
    if (note.appliesTo && !note.appliesTo.includes(rule.id)) continue;
    if (evaluateCondition(note.when, ctx.conditions) === true) parts.push(renderText(note.text, ctx.scope).trim());
  }
  if (ctx.dataGaps.length > 0) parts.push(`_Not available from the EHR: ${ctx.dataGaps.join('; ').replace(/\.$/, '')}._`);
  return truncate(parts.join('\n\n'), DETAIL_MAX);
}

function buildActions(rule: CompiledRule, suggestionIndex: number, ctx: CardBuildContext): CardAction[] {
  const template = rule.card.suggestions![suggestionIndex]!;
  const actions: CardAction[] = [];
  for (const action of template.actions) {
    const description = renderText(action.description, ctx.scope);
    if (action.type === 'delete') {
      const resourceId = renderResource(action.resourceId, ctx.scope);
      if (typeof resourceId === 'string') actions.push({ type: 'delete', description, resourceId });
      continue;
    }
    const spec = ctx.catalog.resources[action.resource!]!;
    let resource: unknown;
    if (spec.builder) {
      resource = RESOURCE_BUILDERS[spec.builder]!.build({
        draft: ctx.draft,
        facts: ctx.scope.facts,
        settings: ctx.scope.settings,
        params: spec.params ?? {},
        conditionHolds: (name) => evaluateCondition({ ref: name }, ctx.conditions) === true,
      });
    } else {
      resource = renderResource(spec.template, ctx.scope);
    }
    // A suggestion we cannot build completely is left out rather than sent half-made.
    if (!resource || typeof resource !== 'object') continue;
    actions.push({ type: action.type, description, resource: resource as NonNullable<CardAction['resource']> });
  }
  return actions;
}

/**
 * The single place cards are made. Every card has a uuid, a summary under 140 characters, a source
 * with label, url and the rule id as topic; suggestions get uuids and a selectionBehavior; override
 * reasons carry a display; no member is null or empty.
 */
export function buildCard(match: RuleMatch, ctx: CardBuildContext): Card {
  const { rule } = match;
  const primary = ctx.catalog.evidence[rule.card.evidence[0]!]!;
  const card: Card = {
    uuid: ctx.uuid(),
    summary: truncate(renderText(match.summary, ctx.scope).replace(/\s+/g, ' ').trim(), SUMMARY_MAX),
    indicator: match.indicator,
    detail: composeDetail(rule, ctx),
    source: {
      label: primary.label,
      url: primary.url,
      topic: { system: RULE_TOPIC_SYSTEM, code: rule.id, display: rule.title },
    },
  };
  const suggestions: Suggestion[] = [];
  (rule.card.suggestions ?? []).forEach((template, index) => {
    if (template.when && evaluateCondition(template.when, ctx.conditions) !== true) return;
    const actions = buildActions(rule, index, ctx);
    if (actions.length !== template.actions.length) return;
    suggestions.push({
      label: renderText(template.label, ctx.scope),
      uuid: ctx.uuid(),
      ...(template.isRecommended !== undefined ? { isRecommended: template.isRecommended } : {}),
      actions,
    });
  });
  if (suggestions.length > 0) {
    card.suggestions = suggestions;
    card.selectionBehavior = rule.card.selectionBehavior ?? 'at-most-one';
  }
  if (rule.card.overrideReasons) {
    card.overrideReasons = rule.card.overrideReasons.map((id) => ({
      system: ctx.catalog.overrideReasons.system,
      code: id,
      display: ctx.catalog.overrideReasons.reasons[id]!.display,
    }));
  }
  // The first citation is the card's source; the others open in a new tab from the card's links.
  const evidenceLinks = rule.card.evidence.slice(1).map((id) => ctx.catalog.evidence[id]!);
  const links: NonNullable<Card['links']> = [
    ...evidenceLinks.map((e) => ({ label: e.label, url: e.url, type: 'absolute' as const })),
    ...(rule.card.links ?? []).map((link) => ({ label: link.label, url: link.url, type: 'absolute' as const })),
  ];
  if (ctx.appLaunchUrl && APP_CATEGORIES.has(rule.category)) links.push(appLink(rule, ctx.appLaunchUrl));
  if (links.length > 0) card.links = links;
  return card;
}

export function buildCards(matches: readonly RuleMatch[], ctx: CardBuildContext): Card[] {
  // Request-wide notes (e.g. the drug was recognised by name) are said once, on the first card.
  return matches.map((match, index) => buildCard(match, index === 0 ? ctx : { ...ctx, notes: [] }));
}
