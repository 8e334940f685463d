import { CardSchema } from '../../src/schemas/cds-response';
import { createAjv, summarizeErrors } from '../../src/knowledge/ajv';
import type { Card } from '../../src/schemas/cds-response';

const validateCard = createAjv().compile(CardSchema);

/** Every place a null, "", [] or {} hides in a value (CDS Hooks 2.0 §Use of JSON). */
function emptyMembers(value: unknown, path: string, out: string[]): string[] {
  if (value === null || value === '') out.push(path);
  else if (Array.isArray(value)) {
    if (value.length === 0) out.push(path);
    value.forEach((item, i) => emptyMembers(item, `${path}[${i}]`, out));
  } else if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) out.push(path);
    for (const [key, child] of entries) emptyMembers(child, `${path}.${key}`, out);
  }
  return out;
}

/** The spec's card invariants, as this service promises them; returns the violations. */
export function cardViolations(card: Card): string[] {
  const problems: string[] = [];
  if (!validateCard(card)) problems.push(...summarizeErrors(validateCard.errors).map((e) => `${e.field}: ${e.message}`));
  if (typeof card.summary === 'string' && card.summary.length >= 140) problems.push('summary must be < 140 characters');
  if (card.suggestions && !card.selectionBehavior) problems.push('selectionBehavior is required with suggestions');
  for (const [i, s] of (card.suggestions ?? []).entries()) {
    for (const [j, action] of (s.actions ?? []).entries()) {
      if (action.type === 'delete' && !action.resourceId) problems.push(`suggestions[${i}].actions[${j}]: delete needs resourceId`);
      if ((action.type === 'create' || action.type === 'update') && !action.resource) problems.push(`suggestions[${i}].actions[${j}]: ${action.type} needs resource`);
      if (action.type === 'update' && !(action.resource as { id?: unknown } | undefined)?.id) problems.push(`suggestions[${i}].actions[${j}]: update needs the resource id`);
    }
    const recommended = (card.suggestions ?? []).filter((x) => x.isRecommended).length;
    if (recommended > 1 && card.selectionBehavior !== 'any') problems.push('several recommended suggestions need selectionBehavior any');
  }
  for (const reason of card.overrideReasons ?? []) if (!reason.display) problems.push('override reason without display');
  for (const [i, link] of (card.links ?? []).entries()) problems.push(...linkViolations(card, link).map((p) => `links[${i}]: ${p}`));
  problems.push(...emptyMembers(card, 'card', []).map((p) => `${p} is null or empty`));
  return problems;
}

/**
 * CDS Hooks 2.0 Link: appContext only on smart links. Ours names the card's rule and nothing else
 * (no patient data travels in a card): exactly {"rule": <source.topic.code>}.
 */
export function linkViolations(card: Card, link: NonNullable<Card['links']>[number]): string[] {
  if (link.type === 'absolute') return link.appContext === undefined ? [] : ['appContext is only valid on smart links'];
  if (!/^https?:\/\/.+\/smart-app\/launch\.html$/.test(link.url)) return [`smart link url '${link.url}' is not the app's launch URL`];
  let context: unknown;
  try {
    context = JSON.parse(link.appContext ?? '');
  } catch {
    return ['smart link appContext is not JSON'];
  }
  const keys = context && typeof context === 'object' ? Object.keys(context) : [];
  if (keys.length !== 1 || keys[0] !== 'rule') return [`smart link appContext must hold only the rule id, got keys ${JSON.stringify(keys)}`];
  if ((context as { rule: unknown }).rule !== card.source.topic?.code) return ['smart link appContext names another rule than the card'];
  return [];
}

const produced: Card[] = [];

/** Test helpers record every card they see; the jest setup validates them after each test. */
export function recordCards(cards: readonly Card[]): void {
  produced.push(...cards);
}

export function takeRecordedCards(): Card[] {
  return produced.splice(0, produced.length);
}
