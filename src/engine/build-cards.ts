import type { Card, CardAction, Suggestion } from '../schemas/cds-response';
import type { Catalog, CompiledRule, CompiledRuleSet } from '../knowledge/types';
import { evaluateCondition, type ConditionContext, type RuleMatch } from './evaluate-rules';
import type { Fact } from './facts';
import { renderResource, renderText, type TemplateScope } from './render-template';
import { RESOURCE_BUILDERS } from './resource-builders';
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

function factLine(fact: Fact): string {
  const value = fact.display ?? (fact.value === undefined ? 'unknown' : String(fact.value));
  const state = fact.state === 'known' ? '' : ` _(${fact.state})_`;
  const sources = fact.sources.length > 0 ? ` — ${fact.sources.slice(0, 3).join(', ')}` : '';
  const notes = fact.notes.length > 0 ? `; ${fact.notes.join('; ')}` : '';
  return `- **${fact.label}**: ${value}${state}${sources}${notes}`;
}

function missingLine(fact: Fact): string {
  const why = fact.notes.length > 0 ? fact.notes.join('; ') : fact.state === 'stale' ? 'out of date' : 'not documented';
  return `- **${fact.label}**: ${fact.state === 'stale' && fact.display ? `${fact.display} — ` : ''}${why}`;
}

/** A fact that only says "checked, nothing recorded" (no medication, no contraindication…). */
function isAbsence(fact: Fact): boolean {
  return fact.value === false && fact.state === 'known' && fact.sources.length === 0;
}

function composeDetail(rule: CompiledRule, ctx: CardBuildContext): string {
  const { facts } = ctx.scope;
  const parts = [renderText(rule.card.detail, ctx.scope).trim()];
  const prerequisiteIds = rule.card.prerequisites ?? [];
  const shown = rule.shownFacts
    .filter((id) => !prerequisiteIds.includes(id))
    .map((id) => facts[id])
    .filter((f): f is Fact => f !== undefined);
  const used = shown.filter((f) => (f.state === 'known' || f.state === 'conflicting') && !isAbsence(f));
  const checked = rule.absenceFacts.map((id) => facts[id]).filter((f): f is Fact => f !== undefined);
  const absent = [...shown, ...checked].filter(isAbsence);
  const missing = shown.filter((f) => f.state === 'unknown' || f.state === 'stale');
  if (used.length > 0) parts.push(`**Facts used**\n${used.map(factLine).join('\n')}`);
  if (absent.length > 0) parts.push(`**Checked, none recorded**: ${absent.map((f) => f.label).join('; ')}.`);
  if (missing.length > 0) parts.push(`**Not documented or out of date**\n${missing.map(missingLine).join('\n')}`);
  const prerequisites = prerequisiteIds.map((id) => facts[id]).filter((f): f is Fact => f !== undefined);
  if (prerequisites.length > 0) parts.push(`**Prerequisites**\n${prerequisites.map(factLine).join('\n')}`);
  const byName = [...shown, ...prerequisites].filter((f) => f.matchedByName);
  if (byName.length > 0) {
    parts.push(`_Identified by name, not by a verified code: ${byName.map((f) => f.label).join('; ')}. Check the record._`);
  }
  for (const note of ctx.notes) parts.push(note);
  for (const note of ctx.ruleSet.appendix) {
    if (note.appliesTo && !note.appliesTo.includes(rule.id)) continue;
    if (evaluateCondition(note.when, ctx.conditions) === true) parts.push(renderText(note.text, ctx.scope).trim());
  }
  if (ctx.dataGaps.length > 0) parts.push(`**Data not available**\n${ctx.dataGaps.map((gap) => `- ${gap}`).join('\n')}`);
  const evidence = rule.card.evidence.map((id) => ctx.catalog.evidence[id]!);
  parts.push(`**Evidence**\n${evidence.map((e) => `- [${e.label}](${e.url}) — ${e.citation}`).join('\n')}`);
  parts.push(`_Rule ${rule.id}._`);
  return parts.join('\n\n');
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
  const links: NonNullable<Card['links']> = (rule.card.links ?? []).map((link) => ({ label: link.label, url: link.url, type: 'absolute' as const }));
  if (ctx.appLaunchUrl && APP_CATEGORIES.has(rule.category)) links.push(appLink(rule, ctx.appLaunchUrl));
  if (links.length > 0) card.links = links;
  return card;
}

export function buildCards(matches: readonly RuleMatch[], ctx: CardBuildContext): Card[] {
  return matches.map((match) => buildCard(match, ctx));
}
