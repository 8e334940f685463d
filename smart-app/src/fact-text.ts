import type { Fact } from '../../src/schemas/facts';
import { formatDate } from '../../src/fhir/dates';

/** The value as the cards write it ("1.1 mg/dL", "positive"); "not recorded" when unknown. */
export function factValue(fact: Fact | undefined): string {
  if (!fact) return 'not recorded';
  if (fact.display !== undefined) return fact.display;
  if (fact.value === undefined) return 'not recorded';
  if (fact.value === true) return 'yes';
  if (fact.value === false) return 'none recorded';
  return String(fact.value);
}

export const factDate = (fact: Fact | undefined): string => (fact?.at === undefined ? '—' : formatDate(fact.at));

export const STATE_TEXT: Record<Fact['state'], string> = {
  known: 'known',
  unknown: 'unknown',
  stale: 'out of date',
  conflicting: 'conflicting',
};

/**
 * A fact's name for the page: its label, plus which part of it for the sub-facts a medication fact
 * produces ("Zoledronic acid — last dose" for zoledronicAcid.lastDose).
 */
export function factLabel(id: string, fact: Fact | undefined, labels: ReadonlyMap<string, string>): string {
  const label = fact?.label ?? labels.get(id) ?? id;
  const part = id.includes('.') ? id.slice(id.indexOf('.') + 1) : '';
  if (!part) return label;
  const words = part
    .replace(/([A-Z])/g, ' $1')
    .toLowerCase()
    .trim();
  return label.toLowerCase().includes(words) ? label : `${label} — ${words}`;
}
