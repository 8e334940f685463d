/**
 * Facts: what the extractors know about the patient at the time of the request. Every fact says how
 * sure it is (`state`), where it came from (resource references and dates) and what is missing.
 */
export type FactState = 'known' | 'unknown' | 'stale' | 'conflicting';
export type FactValue = string | number | boolean;

export interface SeriesPoint {
  value: number;
  at: number | undefined;
  reference: string;
}

export interface Fact {
  id: string;
  label: string;
  state: FactState;
  value?: FactValue;
  /** Human rendering for cards: "1.1 mg/dL (97 umol/L)", "positive", "2024-05-02". */
  display?: string;
  /** Epoch ms of the value's clinical date (effective, onset, performed…), when known. */
  at?: number;
  /** FHIR references (Type/id) the value came from. */
  sources: string[];
  /** Why a value is missing, stale, conflicting, or matched by name. Shown on cards. */
  notes: string[];
  /** The value came from a medication matched by name rather than code (uncertain code list). */
  matchedByName?: boolean;
  /** The lab's lower reference limit of the value used, in the fact's unit (quantity facts that keep it). */
  referenceLow?: number;
  /** All usable numeric results (quantity facts), newest first; used by calculators, not shown. */
  series?: SeriesPoint[];
}

export type Facts = Readonly<Record<string, Fact>>;

export function unknownFact(id: string, label: string, notes?: string | string[], series?: SeriesPoint[]): Fact {
  const fact: Fact = { id, label, state: 'unknown', sources: [], notes: notes === undefined ? [] : typeof notes === 'string' ? [notes] : notes };
  if (series) fact.series = series;
  return fact;
}
