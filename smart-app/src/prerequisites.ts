import type { Fact } from '../../src/schemas/facts';
import type { Catalog } from '../../src/knowledge/types';
import { el } from './dom';
import { factDate, factLabel, factValue } from './fact-text';

export type PrerequisiteStatus = 'done' | 'missing' | 'out-of-date';

/** The prerequisites the rules list (card.prerequisites), in the order they first appear. */
export function prerequisiteIds(catalog: Catalog): string[] {
  const ids: string[] = [];
  for (const ruleSet of catalog.ruleSets.values())
    for (const rule of ruleSet.rules) for (const id of rule.card.prerequisites ?? []) if (!ids.includes(id)) ids.push(id);
  return ids;
}

export function prerequisiteStatus(fact: Fact | undefined): PrerequisiteStatus {
  if (!fact || fact.state === 'unknown' || fact.value === undefined || fact.value === false) return 'missing';
  if (fact.state === 'stale') return 'out-of-date';
  return 'done';
}

const MARK: Record<PrerequisiteStatus, { mark: string; text: string }> = {
  done: { mark: '✓', text: 'done' },
  missing: { mark: '✗', text: 'missing' },
  'out-of-date': { mark: '!', text: 'out of date' },
};

export function renderPrerequisites(list: HTMLElement, catalog: Catalog, facts: Readonly<Record<string, Fact>>): void {
  list.replaceChildren(
    ...prerequisiteIds(catalog).map((id) => {
      const fact = facts[id];
      const status = prerequisiteStatus(fact);
      return el(
        'li',
        { 'data-fact': id, 'data-status': status, class: `check check--${status}` },
        el('span', { class: 'check-mark', role: 'img', 'aria-label': MARK[status].text }, MARK[status].mark),
        el('span', { class: 'check-label' }, factLabel(id, fact, catalog.factLabels)),
        el('span', { class: 'check-value' }, factValue(fact)),
        el('span', { class: 'check-date' }, fact?.at !== undefined ? factDate(fact) : ''),
      );
    }),
  );
}
