import type { CodeList } from '../fhir/codes';
import { codingsOf, textsOf } from '../fhir/codes';
import { describeDuration, formatDate, isWithin, parseFhirDate, subtractDuration, type Duration } from '../fhir/dates';
import { asString, type CompiledPath } from '../fhir/fhirpath';
import type { QuantityLike } from '../fhir/units';
import { numericValue } from '../fhir/units';
import type {
  Catalog,
  CodedFactDef,
  DerivedFactDef,
  FactDef,
  MedicationFactDef,
  PatientFactDef,
  PresenceFactDef,
  PresenceSource,
  QuantityFactDef,
  QuantitySource,
  TextMatch,
} from '../knowledge/types';
import type { Fact, FactValue, SeriesPoint } from '../schemas/facts';
import { unknownFact } from '../schemas/facts';
import { conceptsOf, referenceOf, type AnyResource, type ResourceIndex } from './resource-index';

export interface ExtractionInput {
  index: ResourceIndex;
  patient: AnyResource | undefined;
  /** Resource types whose data could not be obtained: "nothing found" there means "unknown". */
  unavailable: ReadonlySet<string>;
  now: number;
}

/** Pure: compiled fact definitions × the request's data → facts. Derived facts run after their inputs. */
export function extractFacts(catalog: Catalog, input: ExtractionInput): Record<string, Fact> {
  const facts: Record<string, Fact> = {};
  for (const def of catalog.facts) {
    for (const fact of extractOne(def, input, facts, catalog)) facts[fact.id] = fact;
  }
  return facts;
}

function extractOne(def: FactDef, input: ExtractionInput, facts: Record<string, Fact>, catalog: Catalog): Fact[] {
  const missing = def.reads.filter((type) => input.unavailable.has(type));
  switch (def.kind) {
    case 'coded':
      return [withGap(extractCoded(def, input), missing)];
    case 'quantity':
      return [withGap(extractQuantity(def, input, catalog), missing)];
    case 'presence':
      return [withGap(extractPresence(def, input), missing)];
    case 'medication':
      return extractMedication(def, input).map((fact) => withGap(fact, missing));
    case 'patient':
      return [extractPatient(def, input)];
    case 'derived':
      return [extractDerived(def, input, facts)];
  }
}

/**
 * A data gap changes what absence means: "no result" or "none found" while that resource type could
 * not be fetched is not evidence of absence, so the fact becomes unknown (and says why).
 */
function withGap(fact: Fact, missingTypes: string[]): Fact {
  if (missingTypes.length === 0) return fact;
  const note = `${missingTypes.join(', ')} data could not be obtained from the EHR`;
  const absent = fact.state === 'unknown' || fact.value === false;
  if (absent) {
    const { value: _ignored, display: _display, ...rest } = fact;
    return { ...rest, state: 'unknown', notes: [...fact.notes, note] };
  }
  return { ...fact, notes: [...fact.notes, note] };
}

function firstDate(path: CompiledPath, resource: AnyResource): { at: number | undefined; text: string | undefined } {
  for (const item of path(resource)) {
    const text = asString(item);
    const at = parseFhirDate(text);
    if (at !== undefined) return { at, text };
  }
  return { at: undefined, text: undefined };
}

function passes(where: CompiledPath | undefined, resource: AnyResource): boolean {
  if (!where) return true;
  const result = where(resource);
  return result.length > 0 && result.every((item) => item === true);
}

function dated(at: number | undefined): string {
  return at === undefined ? 'undated' : formatDate(at);
}

function byNewest<T extends { at: number | undefined }>(a: T, b: T): number {
  return (b.at ?? -Infinity) - (a.at ?? -Infinity);
}

/** Answer → value: by answer code list, by text pattern, or a constant. */
function readAnswer(
  results: unknown[],
  answers: { value: string; list: CodeList }[],
  textAnswers: { value: string; patterns: RegExp[] }[],
): string | undefined {
  for (const result of results) {
    for (const { value, list } of answers) {
      if (codingsOf(result).length > 0 && list.matchConcept(result)?.by === 'code') return value;
    }
    for (const text of typeof result === 'string' ? [result] : textsOf(result)) {
      const normalised = text.trim();
      for (const { value, patterns } of textAnswers) if (patterns.some((p) => p.test(normalised))) return value;
    }
  }
  return undefined;
}

interface CodedResult {
  value: string;
  at: number | undefined;
  reference: string;
}

function gatherCoded(def: CodedFactDef, input: ExtractionInput): { results: CodedResult[]; unreadable: string[] } {
  const results: CodedResult[] = [];
  const unreadable: string[] = [];
  for (const source of def.sources) {
    for (const { resource } of input.index.candidates(source.resourceType, source.codes)) {
      if (!passes(source.where, resource)) continue;
      const { at } = firstDate(source.date, resource);
      const value = source.constant ?? readAnswer(source.answer(resource), source.answers, source.textAnswers);
      if (value === undefined) {
        unreadable.push(`${referenceOf(resource)} (${dated(at)}): result not recognised`);
        continue;
      }
      results.push({ value, at, reference: referenceOf(resource) });
    }
  }
  return { results, unreadable };
}

/** Staging: the most advanced category ever documented (clinical or pathologic) decides the risk. */
function highestCoded(def: CodedFactDef, results: CodedResult[], unreadable: string[]): Fact {
  results.sort((a, b) => def.values.indexOf(b.value) - def.values.indexOf(a.value) || byNewest(a, b));
  const top = results[0]!;
  return {
    id: def.id,
    label: def.label,
    state: 'known',
    value: top.value,
    display: `${top.value} (${dated(top.at)})${results.length > 1 ? `, highest of ${results.length} documented` : ''}`,
    at: top.at,
    sources: [top.reference],
    notes: unreadable,
  };
}

/** Newest wins; on the same date a definitive result (positive/negative) beats an equivocal one. */
function newestCoded(def: CodedFactDef, results: CodedResult[], unreadable: string[], now: number): Fact {
  results.sort((a, b) => byNewest(a, b) || Number(def.definitive.has(b.value)) - Number(def.definitive.has(a.value)));
  const newest = results[0]!;
  const notes = [...unreadable];
  let state: Fact['state'] = 'known';
  const disagreeing = def.definitive.has(newest.value) ? results.filter((r) => def.definitive.has(r.value) && r.value !== newest.value) : [];
  if (disagreeing.length > 0 && def.conflictWhenNewest && !def.conflictWhenNewest.has(newest.value)) {
    notes.push(`newest result ${newest.value} (${dated(newest.at)}) decides; earlier ${disagreeing.map((r) => `${r.value} (${dated(r.at)})`).join(', ')}`);
    disagreeing.length = 0;
  }
  if (disagreeing.length > 0) {
    state = 'conflicting';
    notes.push(
      `conflicting results: newest ${newest.value} (${dated(newest.at)}) used; also ${disagreeing
        .map((r) => `${r.value} (${dated(r.at)}, ${r.reference})`)
        .join(', ')}`,
    );
  }
  if (def.window && state === 'known' && (newest.at === undefined || !isWithin(newest.at, now, def.window))) {
    state = 'stale';
    notes.push(`newest result is older than ${describeWindow(def.window)}`);
  }
  return {
    id: def.id,
    label: def.label,
    state,
    value: newest.value,
    display: `${newest.value} (${dated(newest.at)})`,
    at: newest.at,
    sources: [newest.reference, ...disagreeing.map((r) => r.reference)],
    notes,
  };
}

function extractCoded(def: CodedFactDef, input: ExtractionInput): Fact {
  const { results, unreadable } = gatherCoded(def, input);
  if (results.length === 0) return unknownFact(def.id, def.label, ['not documented', ...unreadable]);
  return def.select === 'highest' ? highestCoded(def, results, unreadable) : newestCoded(def, results, unreadable, input.now);
}

interface QuantityResult {
  value: number;
  at: number | undefined;
  reference: string;
  /** The result as reported, when its unit differed from the target unit. */
  original: string | undefined;
  /** The lab's lower reference limit, in the target unit (when the fact keeps it). */
  low: number | undefined;
}

function describeQuantity(q: QuantityLike): string {
  const value = numericValue(q.value);
  const unit = typeof q.unit === 'string' ? q.unit : typeof q.code === 'string' ? q.code : '';
  return `${value ?? String(q.value)}${unit ? ` ${unit}` : ''}`;
}

function isUnitless(q: QuantityLike, accepted: string[]): boolean {
  const units = [q.code, q.unit].filter((u): u is string => typeof u === 'string' && u.trim() !== '');
  return units.length === 0 || units.every((u) => u === '1' || /^\{.*\}$/.test(u) || accepted.includes(u));
}

interface QuantityRejection {
  at: number | undefined;
  reference: string;
  reason: string;
}

/**
 * One result in the fact's unit (or unitless) into `usable`, or why it cannot be used into `rejected`.
 * Pushes rather than returning one of two shapes: a union return measured ~1.8× slower on the heavy
 * chart (bench/engine.ts heavy), most of it garbage collection.
 */
function readQuantity(
  def: QuantityFactDef,
  source: QuantitySource,
  resource: AnyResource,
  catalog: Catalog,
  usable: QuantityResult[],
  rejected: QuantityRejection[],
): void {
  const { at } = firstDate(source.date, resource);
  const reference = referenceOf(resource);
  const quantity = source.value(resource).find((v) => v !== null && typeof v === 'object') as QuantityLike | undefined;
  if (!quantity) {
    rejected.push({ at, reference, reason: 'no quantity value' });
    return;
  }
  let value: number | undefined;
  let unitChanged = false;
  if (def.unitless) {
    if (!isUnitless(quantity, def.unitless)) {
      rejected.push({ at, reference, reason: `unexpected unit '${String(quantity.unit ?? quantity.code)}'` });
      return;
    }
    value = numericValue(quantity.value);
    if (value === undefined) {
      rejected.push({ at, reference, reason: 'value is not a number' });
      return;
    }
  } else {
    const converted = catalog.units.convert(quantity, def.unit!, source.molarMass);
    if (!converted.ok) {
      rejected.push({ at, reference, reason: converted.reason });
      return;
    }
    value = converted.value;
    unitChanged = converted.fromUnit !== def.unit;
  }
  if (def.plausible && (value < def.plausible[0] || value > def.plausible[1])) {
    rejected.push({ at, reference, reason: `${describeQuantity(quantity)} is outside the plausible range` });
    return;
  }
  let low: number | undefined;
  if (def.referenceLow && def.unit) {
    const range = Array.isArray(resource.referenceRange) ? (resource.referenceRange[0] as { low?: QuantityLike } | undefined) : undefined;
    const converted = range?.low ? catalog.units.convert(range.low, def.unit, source.molarMass) : undefined;
    if (converted?.ok) low = round(converted.value, def.decimals);
  }
  usable.push({ value: round(value, def.decimals), at, reference, original: unitChanged ? describeQuantity(quantity) : undefined, low });
}

/** The fact's results, usable and rejected, each newest first. */
interface QuantityResults {
  def: QuantityFactDef;
  usable: QuantityResult[];
  rejected: QuantityRejection[];
  series: SeriesPoint[];
  render: (r: QuantityResult) => string;
}

function rejectionNotes(results: QuantityResults, after: number | undefined): string[] {
  return results.rejected
    .filter((r) => after === undefined || r.at === undefined || r.at >= after)
    .map((r) => `${r.reference} (${dated(r.at)}) not used: ${r.reason}`);
}

function gatherQuantities(def: QuantityFactDef, input: ExtractionInput, catalog: Catalog): QuantityResults {
  const usable: QuantityResult[] = [];
  const rejected: QuantityRejection[] = [];
  for (const source of def.sources) {
    for (const { resource } of input.index.candidates(source.resourceType, source.codes)) {
      if (!passes(source.where, resource)) continue;
      readQuantity(def, source, resource, catalog, usable, rejected);
    }
  }
  usable.sort(byNewest);
  rejected.sort(byNewest);
  const series: SeriesPoint[] = usable.map(({ value, at, reference }) => ({ value, at, reference }));
  const unitLabel = def.unit && def.unit !== '1' ? ` ${def.unit}` : '';
  const render = (r: QuantityResult) => `${r.value}${unitLabel}${r.original ? ` (reported ${r.original.replace(/\s+/g, ' ').trim()})` : ''}, ${dated(r.at)}`;
  return { def, usable, rejected, series, render };
}

/** select: lowest — the lowest result within the window; stale (with the last result) when none is. */
function lowestQuantity(results: QuantityResults, now: number): Fact {
  const { def, usable, series, render } = results;
  const inWindow = def.window ? usable.filter((r) => r.at !== undefined && isWithin(r.at, now, def.window!)) : usable;
  if (inWindow.length === 0) {
    const newest = usable[0];
    if (newest) {
      return {
        id: def.id,
        label: def.label,
        state: 'stale',
        display: `none within ${describeWindow(def.window!)}; last ${render(newest)}`,
        at: newest.at,
        sources: [newest.reference],
        notes: [`no result within ${describeWindow(def.window!)} (last: ${render(newest)})`, ...rejectionNotes(results, undefined)],
        series,
      };
    }
    return unknownFact(def.id, def.label, ['no result', ...rejectionNotes(results, undefined)], series);
  }
  const lowest = inWindow.reduce((min, r) => (r.value < min.value ? r : min));
  return {
    id: def.id,
    label: def.label,
    state: 'known',
    value: lowest.value,
    display: render(lowest),
    at: lowest.at,
    sources: [lowest.reference],
    notes: rejectionNotes(results, def.window ? subtractDuration(now, def.window) : undefined),
    series,
  };
}

/** The newest result decides; stale outside the window, conflicting when results at the same time disagree. */
function newestQuantity(results: QuantityResults, now: number): Fact {
  const { def, usable, rejected, series, render } = results;
  const newest = usable[0];
  const newestRejected = rejected[0];
  // A newer result we could not read (unknown unit…) means the current value is unknown: never fall
  // back silently to an older result, and never read the number as if it were in the expected unit.
  if (newestRejected && (!newest || (newestRejected.at ?? -Infinity) > (newest.at ?? -Infinity))) {
    return unknownFact(def.id, def.label, [`newest result ${newestRejected.reference} (${dated(newestRejected.at)}) could not be used: ${newestRejected.reason}`], series);
  }
  if (!newest) return unknownFact(def.id, def.label, ['no result'], series);
  const notes: string[] = [];
  let state: Fact['state'] = 'known';
  if (def.window && (newest.at === undefined || !isWithin(newest.at, now, def.window))) {
    state = 'stale';
    notes.push(`newest result (${dated(newest.at)}) is older than ${describeWindow(def.window)}`);
  }
  const sameTime = usable.filter((r) => r !== newest && r.at !== undefined && r.at === newest.at && r.value !== newest.value);
  if (sameTime.length > 0) {
    state = 'conflicting';
    notes.push(`other results at the same time disagree: ${sameTime.map(render).join('; ')}`);
  }
  const result: Fact = {
    id: def.id,
    label: def.label,
    state,
    value: newest.value,
    display: render(newest),
    at: newest.at,
    sources: [newest.reference],
    notes,
    series,
  };
  if (newest.low !== undefined) result.referenceLow = newest.low;
  return result;
}

function extractQuantity(def: QuantityFactDef, input: ExtractionInput, catalog: Catalog): Fact {
  const results = gatherQuantities(def, input, catalog);
  return def.select === 'lowest' ? lowestQuantity(results, input.now) : newestQuantity(results, input.now);
}

/** The texts a resource is described by (code.text, codings' display), for free-text matching. */
function describingTexts(resource: AnyResource): string[] {
  return conceptsOf(resource, () => undefined).flatMap((concept) => textsOf(concept));
}

/** The first text that matches a pattern once negated and excluded phrases are removed; undefined if none. */
function matchText(texts: readonly string[], textMatch: TextMatch): string | undefined {
  for (const text of texts) {
    let cleaned = text;
    for (const negation of textMatch.negations) cleaned = cleaned.replace(negation, ' ');
    if (textMatch.patterns.some((p) => p.test(cleaned))) return text.trim();
  }
  return undefined;
}

function claimsProfile(resource: AnyResource, profile: string): boolean {
  const profiles = (resource.meta as { profile?: unknown } | undefined)?.profile;
  return Array.isArray(profiles) && profiles.some((p) => typeof p === 'string' && p.split('|')[0] === profile);
}

function presenceCandidates(source: PresenceSource, input: ExtractionInput): { resource: AnyResource; matched: string; byName: boolean }[] {
  if (source.codes) {
    // Cards quote what the chart calls it (code.text, the coding's display), not "SNOMED 12345".
    return input.index
      .candidates(source.resourceType, source.codes)
      .map(({ resource, match }) => ({ resource, matched: describingTexts(resource)[0] ?? match.matched, byName: match.by === 'name' }));
  }
  return input.index.ofType(source.resourceType).map((resource) => ({ resource, matched: describingTexts(resource)[0] ?? referenceOf(resource), byName: false }));
}

function extractPresence(def: PresenceFactDef, input: ExtractionInput): Fact {
  const matches: { at: number | undefined; reference: string; text: string; byName: boolean }[] = [];
  for (const source of def.sources) {
    for (const candidate of presenceCandidates(source, input)) {
      const { resource } = candidate;
      if (source.profile && !claimsProfile(resource, source.profile)) continue;
      if (source.unlessBodySite) {
        const sites = Array.isArray(resource.bodySite) ? resource.bodySite : [];
        if (sites.some((site) => source.unlessBodySite!.matchConcept(site)?.by === 'code')) continue;
      }
      if (!passes(source.where, resource)) continue;
      let text = candidate.matched;
      if (source.textMatch) {
        const found = matchText(describingTexts(resource), source.textMatch);
        if (found === undefined) continue;
        text = found;
      }
      const { at } = firstDate(source.date, resource);
      const window = source.window ?? def.window;
      if (window && (at === undefined || !isWithin(at, input.now, window))) continue;
      if (source.answers || source.textAnswers) {
        const answers = source.answer(resource);
        const byCode = source.answers ? answers.some((a) => source.answers!.matchConcept(a)?.by === 'code') : false;
        const byText =
          source.textAnswers !== undefined &&
          answers.some((a) => (typeof a === 'string' ? [a] : textsOf(a)).some((t) => source.textAnswers!.some((p) => p.test(t.trim()))));
        if (!byCode && !byText) continue;
      }
      matches.push({ at, reference: referenceOf(resource), text, byName: candidate.byName });
    }
  }
  if (matches.length === 0) {
    return { id: def.id, label: def.label, state: 'known', value: false, display: def.window ? `none within ${describeWindow(def.window)}` : 'none recorded', sources: [], notes: [] };
  }
  matches.sort(byNewest);
  const newest = matches[0]!;
  const byName = matches.every((m) => m.byName);
  return {
    id: def.id,
    label: def.label,
    state: 'known',
    value: true,
    display: `yes: ${newest.text} (${dated(newest.at)})${matches.length > 1 ? ` and ${matches.length - 1} more` : ''}`,
    at: newest.at,
    sources: matches.slice(0, 5).map((m) => m.reference),
    notes: byName ? [`identified by name ("${newest.text}"): no verified code for it`] : [],
    matchedByName: byName || undefined,
  };
}

const ACTIVE_ORDER_INTENTS = new Set(['order', 'original-order', 'reflex-order', 'filler-order', 'instance-order', 'plan']);

function statusOf(resource: AnyResource): string | undefined {
  return typeof resource.status === 'string' ? resource.status : undefined;
}

function dateOf(resource: AnyResource, ...fields: string[]): number | undefined {
  for (const field of fields) {
    const [head, tail] = field.split('.');
    let value: unknown = resource[head!];
    if (tail && value && typeof value === 'object') value = (value as Record<string, unknown>)[tail];
    const at = parseFhirDate(value);
    if (at !== undefined) return at;
  }
  return undefined;
}

function newestDateOf(resource: AnyResource, ...fields: string[]): number | undefined {
  let newest: number | undefined;
  for (const field of fields) {
    const at = dateOf(resource, field);
    if (at !== undefined && (newest === undefined || at > newest)) newest = at;
  }
  return newest;
}

const DAY_MS = 86_400_000;

type EvidenceKind = 'administration' | 'dispense' | 'statement' | 'order';

interface UseEvidence {
  kind: EvidenceKind;
  at: number;
  /** Until when this evidence shows the therapy is being taken. */
  coversUntil: number;
  reference: string;
}

/** Why a course was stopped, when the record says (revision 2: ONJ and renal stops forbid a resume offer). */
function stopReasonOf(resource: AnyResource): { reason: string; text: string } | undefined {
  const texts = [...textsOf(resource.statusReason), ...(Array.isArray(resource.statusReason) ? resource.statusReason.flatMap((r) => textsOf(r)) : [])];
  for (const text of texts) {
    if (/osteonecrosis|\bonj\b|\bmronj\b/i.test(text)) return { reason: 'onj', text };
    if (/renal|kidney|creatinine|nephro/i.test(text)) return { reason: 'renal', text };
    if (/recurren|relapse|progress|metasta/i.test(text)) return { reason: 'recurrence', text };
  }
  return texts[0] ? { reason: 'other', text: texts[0] } : undefined;
}

function addDuration(from: number, duration: Duration): number {
  // subtractDuration handles months and years by the calendar; mirror it forwards.
  return from + (from - subtractDuration(from, duration));
}

function daysSupplyOf(resource: AnyResource): number | undefined {
  const supply = resource.daysSupply as { value?: unknown; unit?: unknown; code?: unknown } | undefined;
  const value = numericValue(supply?.value);
  if (value === undefined || value <= 0) return undefined;
  const unit = typeof supply?.code === 'string' ? supply.code : typeof supply?.unit === 'string' ? supply.unit : 'd';
  if (/^(d|day|days)$/i.test(unit)) return value;
  if (/^(wk|week|weeks)$/i.test(unit)) return value * 7;
  if (/^(mo|month|months)$/i.test(unit)) return value * 30;
  return undefined;
}

/** What the chart says about one medication class, gathered from its four resource types. */
interface MedicationUse {
  evidence: UseEvidence[];
  activeRecord: { at: number | undefined; reference: string; kind: EvidenceKind } | undefined;
  activeRefs: string[];
  doses: { at: number; reference: string }[];
  starts: number[];
  stop: { reason: string; text: string; at: number | undefined } | undefined;
  byName: string | undefined;
}

function noteActive(use: MedicationUse, resource: AnyResource, at: number | undefined, kind: EvidenceKind): void {
  use.activeRefs.push(referenceOf(resource));
  if (!use.activeRecord || (at ?? -Infinity) > (use.activeRecord.at ?? -Infinity)) use.activeRecord = { at, reference: referenceOf(resource), kind };
}

function noteStop(use: MedicationUse, resource: AnyResource, at: number | undefined): void {
  const why = stopReasonOf(resource);
  if (why && (!use.stop || (at ?? -Infinity) >= (use.stop.at ?? -Infinity))) use.stop = { ...why, at };
}

function readOrder(use: MedicationUse, def: MedicationFactDef, r: AnyResource): void {
  const rules = def.currentEvidence;
  const status = statusOf(r);
  const intent = typeof r.intent === 'string' ? r.intent : 'order';
  // A renewal shows as a new authoredOn or a new validity period.
  const validity = (r.dispenseRequest as { validityPeriod?: { start?: unknown } } | undefined)?.validityPeriod?.start;
  const renewed = parseFhirDate(validity);
  const authoredOn = dateOf(r, 'authoredOn');
  const authored = renewed !== undefined && (authoredOn === undefined || renewed > authoredOn) ? renewed : authoredOn;
  if (status === 'active' && ACTIVE_ORDER_INTENTS.has(intent)) {
    noteActive(use, r, authored, 'order');
    if (authored !== undefined) {
      use.starts.push(authored);
      if (rules) use.evidence.push({ kind: 'order', at: authored, coversUntil: addDuration(authored, rules.order), reference: referenceOf(r) });
    }
  }
  if ((status === 'completed' || status === 'stopped') && authored !== undefined) {
    use.starts.push(authored);
    if (def.completedOrdersAreDoses) use.doses.push({ at: authored, reference: referenceOf(r) });
  }
  if (status === 'stopped' || status === 'cancelled') noteStop(use, r, authored);
}

function readStatement(use: MedicationUse, def: MedicationFactDef, r: AnyResource): void {
  const rules = def.currentEvidence;
  const status = statusOf(r);
  const start = dateOf(r, 'effectiveDateTime', 'effectivePeriod.start', 'dateAsserted');
  const end = dateOf(r, 'effectivePeriod.end');
  const asserted = newestDateOf(r, 'dateAsserted', 'effectiveDateTime', 'effectivePeriod.start');
  if (status === 'active' || status === 'intended') {
    noteActive(use, r, asserted, 'statement');
    if (rules && asserted !== undefined) {
      const until = addDuration(asserted, rules.statement);
      use.evidence.push({ kind: 'statement', at: asserted, coversUntil: end !== undefined ? Math.min(until, end + DAY_MS) : until, reference: referenceOf(r) });
    }
  }
  if (status === 'active' || status === 'completed') {
    if (start !== undefined) {
      use.starts.push(start);
      use.doses.push({ at: start, reference: referenceOf(r) });
    }
    if (end !== undefined) use.doses.push({ at: end, reference: referenceOf(r) });
    if (rules && status === 'completed' && end !== undefined) use.evidence.push({ kind: 'statement', at: end, coversUntil: end + DAY_MS, reference: referenceOf(r) });
  }
  if (status === 'stopped') noteStop(use, r, end ?? start);
}

function readAdministration(use: MedicationUse, def: MedicationFactDef, r: AnyResource, productText: string): void {
  const rules = def.currentEvidence;
  const status = statusOf(r);
  const at = dateOf(r, 'effectiveDateTime', 'effectivePeriod.start');
  if (status === 'stopped' || status === 'not-done') noteStop(use, r, at);
  if (status !== 'completed' && status !== 'in-progress') return;
  if (at !== undefined) {
    use.doses.push({ at, reference: referenceOf(r) });
    use.starts.push(at);
    if (rules) {
      const texts = conceptsOf(r, () => undefined).flatMap((c) => textsOf(c)).concat(productText);
      const window = rules.administrationByProduct.find((p) => texts.some((t) => p.pattern.test(t)))?.window ?? rules.administration;
      use.evidence.push({ kind: 'administration', at, coversUntil: addDuration(at, window), reference: referenceOf(r) });
    }
  }
}

function readDispense(use: MedicationUse, def: MedicationFactDef, r: AnyResource): void {
  const rules = def.currentEvidence;
  const status = statusOf(r);
  if (status !== 'completed' && status !== 'in-progress') return;
  const at = dateOf(r, 'whenHandedOver', 'whenPrepared');
  if (at === undefined) return;
  use.starts.push(at);
  if (rules) {
    const days = daysSupplyOf(r);
    const coversUntil = days !== undefined ? at + days * rules.dispenseFactor * DAY_MS : addDuration(at, rules.order);
    use.evidence.push({ kind: 'dispense', at, coversUntil, reference: referenceOf(r) });
  }
}

type UseReader = (use: MedicationUse, def: MedicationFactDef, r: AnyResource, productText: string) => void;
const USE_READERS: readonly (readonly [string, UseReader])[] = [
  ['MedicationRequest', readOrder],
  ['MedicationStatement', readStatement],
  ['MedicationAdministration', readAdministration],
  ['MedicationDispense', readDispense],
];

/** Orders, statements, administrations and dispenses of the class, read in that order. */
function gatherMedicationUse(def: MedicationFactDef, input: ExtractionInput): MedicationUse {
  const use: MedicationUse = { evidence: [], activeRecord: undefined, activeRefs: [], doses: [], starts: [], stop: undefined, byName: undefined };
  for (const [resourceType, read] of USE_READERS) {
    for (const { resource, match } of input.index.candidates(resourceType, def.codes)) {
      if (match.by === 'name') use.byName ??= match.matched;
      read(use, def, resource, match.matched);
    }
  }
  return use;
}

/** Doses sorted by date; one dose recorded twice (its administration and its completed order) counts once. */
function distinctDoses(doses: { at: number; reference: string }[], def: MedicationFactDef): { at: number; reference: string }[] {
  doses.sort((a, b) => a.at - b.at);
  const distinct: { at: number; reference: string }[] = [];
  const within = def.sameDoseWithin;
  const sameDoseMs = within ? (within.unit === 'D' ? within.amount : within.unit === 'W' ? within.amount * 7 : 30 * within.amount) * DAY_MS : 0;
  for (const dose of doses) {
    const previous = distinct[distinct.length - 1];
    if (previous && dose.at - previous.at < sameDoseMs) continue;
    distinct.push(dose);
  }
  return distinct;
}

interface CurrentStatus {
  active: boolean;
  state: Fact['state'];
  display: string;
}

/**
 * Is the class current? With `currentEvidence` rules, only evidence covering today counts (an old
 * active order is `stale`); without, an active record or a dose within `recentDoseWindow`. May narrow
 * or extend `use.activeRefs` to the records that decide.
 */
function currentStatus(use: MedicationUse, def: MedicationFactDef, now: number, last: { at: number; reference: string } | undefined): CurrentStatus {
  const rules = def.currentEvidence;
  const newestEvidence = use.evidence[0];
  const lastDay = last ? formatDate(last.at) : undefined;
  if (rules) {
    const covering = use.evidence.find((e) => e.coversUntil >= now && e.at <= now + DAY_MS);
    if (covering) {
      use.activeRefs.length = 0;
      use.activeRefs.push(covering.reference);
      return { active: true, state: 'known', display: `current (last evidence: ${covering.kind} of ${formatDate(covering.at)})` };
    }
    if (use.activeRecord) {
      return { active: false, state: 'stale', display: `not confirmed current (last evidence: ${use.activeRecord.kind} of ${dated(use.activeRecord.at)})` };
    }
    const display = newestEvidence
      ? `not current (last evidence: ${newestEvidence.kind} of ${formatDate(newestEvidence.at)})`
      : lastDay
        ? `not current (last dose ${lastDay})`
        : 'none recorded';
    return { active: false, state: 'known', display };
  }
  let active = use.activeRecord !== undefined;
  if (!active && last && def.recentDoseWindow && isWithin(last.at, now, def.recentDoseWindow)) {
    active = true;
    use.activeRefs.push(last.reference);
  }
  const display = active ? `current${lastDay ? ` (last dose ${lastDay})` : ''}` : lastDay ? `not current (last dose ${lastDay})` : 'none recorded';
  return { active, state: 'known', display };
}

/** Makes the facts of one medication class: `<id>` and `<id>.<suffix>`, all with the same notes by default. */
class MedicationFactMaker {
  readonly notes: string[];

  constructor(
    private readonly def: MedicationFactDef,
    private readonly byName: string | undefined,
  ) {
    this.notes = byName ? [`identified by name ("${byName}"): the code list for this drug is not fully verified`] : [];
  }

  // Plain literals of one shape (no object spread): ten medication classes make fifty facts per call.
  fact(suffix: string, label: string, state: Fact['state'], value: FactValue | undefined, display: string | undefined, at: number | undefined, sources: string[], notes = this.notes): Fact {
    const { def } = this;
    const made: Fact = { id: suffix ? `${def.id}.${suffix}` : def.id, label: suffix ? `${def.label}: ${label}` : def.label, state, sources, notes };
    if (value !== undefined) made.value = value;
    if (display !== undefined) made.display = display;
    if (at !== undefined) made.at = at;
    if (this.byName) made.matchedByName = true;
    return made;
  }

  dateFact(suffix: string, label: string, point: { at: number; reference: string } | undefined): Fact {
    if (!point) return this.fact(suffix, label, 'unknown', undefined, undefined, undefined, [], [`no ${this.def.label.toLowerCase()} dose recorded`]);
    const day = formatDate(point.at);
    return this.fact(suffix, label, 'known', day, day, point.at, [point.reference]);
  }

  unknown(suffix: string, label: string, note: string): Fact {
    return this.fact(suffix, label, 'unknown', undefined, undefined, undefined, [], [note]);
  }
}

/** The newest sign of use, of any kind (what a "stale" card quotes). */
function lastSignOf(use: MedicationUse, last: { at: number; reference: string } | undefined): { kind: string; at: number | undefined; reference: string } | undefined {
  const newestEvidence = use.evidence[0];
  if (newestEvidence && (!use.activeRecord || newestEvidence.at >= (use.activeRecord.at ?? -Infinity))) return newestEvidence;
  return use.activeRecord ?? (last ? { kind: 'dose', at: last.at, reference: last.reference } : undefined);
}

/**
 * Medication classes (zoledronic acid, AIs, GnRH agonists…): current or not, with the evidence that
 * says so, and the dose history. Revision 2: for classes with `currentEvidence`, "current" needs
 * recent evidence of use; an old order still marked active is `stale`, never current.
 */
function extractMedication(def: MedicationFactDef, input: ExtractionInput): Fact[] {
  const use = gatherMedicationUse(def, input);
  const distinct = distinctDoses(use.doses, def);
  const first = distinct[0];
  const last = distinct[distinct.length - 1];
  use.evidence.sort((a, b) => b.at - a.at);
  const status = currentStatus(use, def, input.now, last);
  const newestEvidence = use.evidence[0];
  const { activeRecord, activeRefs, stop } = use;
  const make = new MedicationFactMaker(def, use.byName);
  const since = use.starts.length > 0 ? Math.min(...use.starts) : undefined;
  const lastSign = lastSignOf(use, last);
  const currentAt = status.active ? (newestEvidence?.at ?? last?.at) : (activeRecord?.at ?? last?.at);
  return [
    make.fact('', '', status.state, status.active, status.display, currentAt, activeRefs.length > 0 ? activeRefs.slice(0, 5) : last ? [last.reference] : []),
    make.dateFact('firstDose', 'first dose', first),
    make.dateFact('lastDose', 'last dose', last),
    make.fact('everGiven', 'ever given', 'known', distinct.length > 0, distinct.length > 0 ? `${distinct.length} dose(s)` : 'never', undefined, distinct.slice(-3).map((d) => d.reference)),
    since !== undefined ? make.fact('since', 'since', 'known', formatDate(since), formatDate(since), since, []) : make.unknown('since', 'since', 'no start date recorded'),
    make.fact('doseCount', 'doses given', 'known', distinct.length, String(distinct.length), last?.at, distinct.map((d) => d.reference).slice(-12)),
    lastSign && lastSign.at !== undefined
      ? make.fact('lastEvidence', 'last evidence of use', 'known', formatDate(lastSign.at), `${lastSign.kind} of ${formatDate(lastSign.at)}`, lastSign.at, [lastSign.reference])
      : make.unknown('lastEvidence', 'last evidence of use', 'no dated record of use'),
    stop
      ? make.fact('stopReason', 'reason stopped', 'known', stop.reason, `${stop.text}${stop.at !== undefined ? ` (${formatDate(stop.at)})` : ''}`, stop.at, [])
      : make.unknown('stopReason', 'reason stopped', 'no reason recorded'),
  ];
}

function extractPatient(def: PatientFactDef, input: ExtractionInput): Fact {
  const patient = input.patient;
  if (!patient) return unknownFact(def.id, def.label, 'Patient resource unavailable');
  const raw = patient[def.field];
  if (def.field === 'birthDate') {
    const at = parseFhirDate(raw);
    if (at === undefined) return unknownFact(def.id, def.label, 'birth date not documented');
    return { id: def.id, label: def.label, state: 'known', value: String(raw), display: String(raw), at, sources: [referenceOf(patient)], notes: [] };
  }
  if (def.field === 'sex') return patientSex(def, patient);
  if (typeof raw !== 'string' || raw === '') return unknownFact(def.id, def.label, 'not documented');
  return { id: def.id, label: def.label, state: 'known', value: raw, display: raw, sources: [referenceOf(patient)], notes: [] };
}

const US_CORE_BIRTH_SEX = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex';

/**
 * Revision 2: sex for clinical rules — Patient.gender female/male; otherwise the US Core birth sex
 * (F/M); otherwise "other" (gender other) or unknown. Menopause is inferred only for female patients.
 */
function patientSex(def: PatientFactDef, patient: AnyResource): Fact {
  const reference = referenceOf(patient);
  const gender = typeof patient.gender === 'string' ? patient.gender : undefined;
  if (gender === 'female' || gender === 'male') return { id: def.id, label: def.label, state: 'known', value: gender, display: gender, sources: [reference], notes: [] };
  const extensions = Array.isArray(patient.extension) ? (patient.extension as { url?: unknown; valueCode?: unknown }[]) : [];
  const birthSex = extensions.find((e) => e && e.url === US_CORE_BIRTH_SEX)?.valueCode;
  if (birthSex === 'F' || birthSex === 'M') {
    const value = birthSex === 'F' ? 'female' : 'male';
    return { id: def.id, label: def.label, state: 'known', value, display: `${value} (birth sex)`, sources: [reference], notes: [] };
  }
  if (gender === 'other') return { id: def.id, label: def.label, state: 'known', value: 'other', display: 'other', sources: [reference], notes: [] };
  return unknownFact(def.id, def.label, 'sex not documented');
}

function extractDerived(def: DerivedFactDef, input: ExtractionInput, facts: Record<string, Fact>): Fact {
  const inputs: Record<string, Fact> = {};
  for (const [name, factId] of Object.entries(def.inputs)) {
    inputs[name] = facts[factId] ?? unknownFact(factId, factId);
  }
  // compute() returns a fresh object: name it in place rather than copying it.
  const result = def.calculator.compute(inputs, def.params, { now: input.now }) as Fact;
  result.id = def.id;
  result.label = def.label;
  return result;
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

const describeWindow = describeDuration;

export type { FactValue };
