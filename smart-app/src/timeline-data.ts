import type { Fact, SeriesPoint } from '../../src/schemas/facts';
import { referenceOf, type AnyResource, type ResourceIndex } from '../../src/engine/resource-index';
import { parseFhirDate, subtractDuration, type Duration } from '../../src/fhir/dates';
import type { Catalog, DerivedFactDef, FactDef, MedicationFactDef } from '../../src/knowledge/types';

/**
 * What the timeline shows, taken from the engine's facts and the catalogue's code lists. The series
 * are mapped from known fact ids and settings (the only clinical names this module knows); values
 * over time come from the facts' own series, and derived values (creatinine clearance, corrected
 * calcium) are recomputed at each measurement with the catalogue's own calculators.
 */
export const TIMELINE_FACTS = {
  tScore: { fact: 'lowestTScore', thresholds: ['ctibl.tScoreBelow'] },
  crcl: { fact: 'crcl', thresholds: ['renal.severeCrclBelow', 'renal.adjustCrclAtMost'] },
  calcium: { fact: 'correctedCalcium', thresholds: ['calcium.lowCorrectedBelow'] },
  doses: { fact: 'zoledronicAcid' },
  therapies: ['aromataseInhibitor', 'ovarianSuppression', 'chemotherapy'],
} as const;

export interface TimelinePoint {
  at: number;
  value: number;
  display: string;
  source: string;
}

export interface Threshold {
  value: number;
  label: string;
}

export interface ValueSeries {
  id: string;
  label: string;
  points: TimelinePoint[];
  thresholds: Threshold[];
}

export interface DosePoint {
  at: number;
  display: string;
  source: string;
}

export interface Band {
  start: number;
  end: number;
  /** The end is today because the therapy is ongoing, or estimated because none was recorded. */
  endKind: 'recorded' | 'ongoing' | 'not recorded';
  display: string;
  source: string;
}

export interface TherapyLane {
  id: string;
  label: string;
  bands: Band[];
}

export interface TimelineData {
  values: ValueSeries[];
  doses: { id: string; label: string; points: DosePoint[] };
  therapies: TherapyLane[];
}

const MEDICATION_TYPES = ['MedicationAdministration', 'MedicationStatement', 'MedicationRequest'];
const NOT_GIVEN = new Set(['not-done', 'entered-in-error', 'cancelled']);
const ONGOING = new Set(['active', 'on-hold', 'intended']);
const DEFAULT_PERIOD: Duration = { amount: 3, unit: 'M' };

const findDef = (catalog: Catalog, id: string): FactDef | undefined => catalog.facts.find((def) => def.id === id);
const labelOf = (catalog: Catalog, id: string): string => catalog.factLabels.get(id) ?? id;

function thresholdsOf(catalog: Catalog, keys: readonly string[]): Threshold[] {
  const out: Threshold[] = [];
  for (const key of keys) {
    const value = catalog.settings.get(key);
    if (typeof value === 'number') out.push({ value, label: `${value}` });
  }
  return out;
}

/**
 * One point of a fact's series as a fact of its own: the newest measured at or before `at` (the
 * measurement that drives the history), or the nearest in time either side (a companion value such
 * as the weight or albumin taken with it, as the engine pairs them within its windows).
 */
function factAt(fact: Fact, at: number, pick: 'at-or-before' | 'nearest'): Fact {
  const dated = (fact.series ?? []).filter((p): p is SeriesPoint & { at: number } => p.at !== undefined);
  const candidates = pick === 'at-or-before' ? dated.filter((p) => p.at <= at) : dated;
  const chosen = candidates.sort((a, b) => (pick === 'at-or-before' ? b.at - a.at : Math.abs(a.at - at) - Math.abs(b.at - at)))[0];
  if (!chosen) return { ...fact, state: 'unknown', value: undefined, at: undefined, display: undefined, sources: [], notes: ['no result yet'], series: [] };
  const series = dated.filter((p) => p.at <= chosen.at).sort((a, b) => b.at - a.at);
  return { ...fact, state: 'known', value: chosen.value, at: chosen.at, display: undefined, sources: [chosen.reference], notes: [], series };
}

/**
 * A derived fact as it stood at `at`: its inputs taken as of that date (the driving measurement at
 * or before it, companion measurements nearest to it, derived inputs recomputed the same way, e.g.
 * age at that date), then the catalogue's own calculator.
 */
function derivedAsOf(catalog: Catalog, facts: Readonly<Record<string, Fact>>, def: DerivedFactDef, at: number, driver: string, depth = 0): Fact | undefined {
  if (depth > 5) return undefined;
  const inputs: Record<string, Fact> = {};
  for (const [name, id] of Object.entries(def.inputs)) {
    const inputDef = findDef(catalog, id);
    const current = facts[id];
    if (inputDef?.kind === 'derived') inputs[name] = derivedAsOf(catalog, facts, inputDef, at, driver, depth + 1) ?? current!;
    else if (current?.series && current.series.length > 0) inputs[name] = factAt(current, at, id === driver ? 'at-or-before' : 'nearest');
    else if (current) inputs[name] = current;
    else return undefined;
  }
  const result = def.calculator.compute(inputs, def.params, { now: at }) as Fact;
  return { ...result, id: def.id, label: def.label };
}

function valueHistory(catalog: Catalog, facts: Readonly<Record<string, Fact>>, id: string, thresholdKeys: readonly string[]): ValueSeries {
  const def = findDef(catalog, id);
  const fact = facts[id];
  const series: ValueSeries = { id, label: labelOf(catalog, id), points: [], thresholds: thresholdsOf(catalog, thresholdKeys) };
  if (!def || !fact) return series;
  if (def.kind === 'quantity') {
    const unit = def.unit ? ` ${def.unit}` : '';
    for (const point of fact.series ?? []) {
      if (point.at !== undefined) series.points.push({ at: point.at, value: point.value, display: `${point.value}${unit}`, source: point.reference });
    }
  } else if (def.kind === 'derived') {
    // Recompute at every date one of its measured inputs changed (the measurement with most points).
    const measured = Object.values(def.inputs)
      .map((inputId) => facts[inputId])
      .filter((f): f is Fact => f !== undefined && (f.series?.length ?? 0) > 0)
      .sort((a, b) => (b.series?.length ?? 0) - (a.series?.length ?? 0));
    const driver = measured[0];
    for (const point of driver?.series ?? []) {
      if (point.at === undefined) continue;
      const value = derivedAsOf(catalog, facts, def, point.at, driver!.id);
      if (value && typeof value.value === 'number' && (value.state === 'known' || value.state === 'stale')) {
        series.points.push({
          at: point.at,
          value: value.value,
          display: value.display ?? String(value.value),
          source: value.sources.join(', ') || point.reference,
        });
      }
    }
  }
  series.points.sort((a, b) => a.at - b.at);
  return series;
}

const textOf = (resource: AnyResource): string => {
  const concept = resource.medicationCodeableConcept as { text?: string; coding?: { display?: string }[] } | undefined;
  return concept?.text ?? concept?.coding?.find((c) => c.display)?.display ?? referenceOf(resource);
};

function medicationResources(index: ResourceIndex, def: MedicationFactDef): AnyResource[] {
  return MEDICATION_TYPES.flatMap((type) => index.candidates(type, def.codes).map((c) => c.resource)).filter((r) => !NOT_GIVEN.has(String(r.status)));
}

function dosesOf(catalog: Catalog, index: ResourceIndex, id: string): DosePoint[] {
  const def = findDef(catalog, id);
  if (def?.kind !== 'medication') return [];
  const doses: DosePoint[] = [];
  for (const resource of medicationResources(index, def)) {
    if (resource.resourceType !== 'MedicationAdministration') continue;
    const at = parseFhirDate(resource.effectiveDateTime) ?? parseFhirDate((resource.effectivePeriod as { start?: unknown } | undefined)?.start);
    if (at !== undefined) doses.push({ at, display: textOf(resource), source: referenceOf(resource) });
  }
  return doses.sort((a, b) => a.at - b.at);
}

function addDuration(from: number, duration: Duration): number {
  // subtractDuration with a negative amount adds calendar units the same way.
  return subtractDuration(from, { ...duration, amount: -duration.amount });
}

function bandsOf(catalog: Catalog, index: ResourceIndex, id: string, now: number): Band[] {
  const def = findDef(catalog, id);
  if (def?.kind !== 'medication') return [];
  const bands: Band[] = [];
  for (const resource of medicationResources(index, def)) {
    const period = (resource.effectivePeriod ?? (resource.dispenseRequest as { validityPeriod?: unknown } | undefined)?.validityPeriod) as
      { start?: unknown; end?: unknown } | undefined;
    const start = parseFhirDate(period?.start) ?? parseFhirDate(resource.effectiveDateTime) ?? parseFhirDate(resource.authoredOn);
    if (start === undefined) continue;
    const recordedEnd = parseFhirDate(period?.end);
    const ongoing = recordedEnd === undefined && ONGOING.has(String(resource.status));
    const end = recordedEnd ?? (ongoing ? now : addDuration(start, def.recentDoseWindow ?? DEFAULT_PERIOD));
    bands.push({
      start,
      end: Math.max(end, start),
      endKind: recordedEnd !== undefined ? 'recorded' : ongoing ? 'ongoing' : 'not recorded',
      display: textOf(resource),
      source: referenceOf(resource),
    });
  }
  return bands.sort((a, b) => a.start - b.start);
}

export function timelineData(catalog: Catalog, facts: Readonly<Record<string, Fact>>, index: ResourceIndex, now: number): TimelineData {
  return {
    values: [TIMELINE_FACTS.tScore, TIMELINE_FACTS.crcl, TIMELINE_FACTS.calcium].map((s) => valueHistory(catalog, facts, s.fact, s.thresholds)),
    doses: { id: TIMELINE_FACTS.doses.fact, label: labelOf(catalog, TIMELINE_FACTS.doses.fact), points: dosesOf(catalog, index, TIMELINE_FACTS.doses.fact) },
    therapies: TIMELINE_FACTS.therapies.map((id) => ({ id, label: labelOf(catalog, id), bands: bandsOf(catalog, index, id, now) })),
  };
}
