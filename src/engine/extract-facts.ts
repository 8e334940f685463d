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

function extractCoded(def: CodedFactDef, input: ExtractionInput): Fact {
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
  if (results.length === 0) return unknownFact(def.id, def.label, ['not documented', ...unreadable]);
  if (def.select === 'highest') {
    // Staging: the most advanced category ever documented (clinical or pathologic) decides the risk.
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
  // Newest wins; on the same date a definitive result (positive/negative) beats an equivocal one.
  results.sort((a, b) => byNewest(a, b) || Number(def.definitive.has(b.value)) - Number(def.definitive.has(a.value)));
  const newest = results[0]!;
  const notes = [...unreadable];
  let state: Fact['state'] = 'known';
  const disagreeing = def.definitive.has(newest.value)
    ? results.filter((r) => def.definitive.has(r.value) && r.value !== newest.value)
    : [];
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
  if (def.window && state === 'known' && (newest.at === undefined || !isWithin(newest.at, input.now, def.window))) {
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

function extractQuantity(def: QuantityFactDef, input: ExtractionInput, catalog: Catalog): Fact {
  const usable: QuantityResult[] = [];
  const rejected: { at: number | undefined; reference: string; reason: string }[] = [];
  for (const source of def.sources) {
    for (const { resource } of input.index.candidates(source.resourceType, source.codes)) {
      if (!passes(source.where, resource)) continue;
      const { at } = firstDate(source.date, resource);
      const reference = referenceOf(resource);
      const quantity = source.value(resource).find((v) => v !== null && typeof v === 'object') as QuantityLike | undefined;
      if (!quantity) {
        rejected.push({ at, reference, reason: 'no quantity value' });
        continue;
      }
      let value: number | undefined;
      let unitChanged = false;
      if (def.unitless) {
        if (!isUnitless(quantity, def.unitless)) {
          rejected.push({ at, reference, reason: `unexpected unit '${String(quantity.unit ?? quantity.code)}'` });
          continue;
        }
        value = numericValue(quantity.value);
        if (value === undefined) {
          rejected.push({ at, reference, reason: 'value is not a number' });
          continue;
        }
      } else {
        const converted = catalog.units.convert(quantity, def.unit!, source.molarMass);
        if (!converted.ok) {
          rejected.push({ at, reference, reason: converted.reason });
          continue;
        }
        value = converted.value;
        unitChanged = converted.fromUnit !== def.unit;
      }
      if (def.plausible && (value < def.plausible[0] || value > def.plausible[1])) {
        rejected.push({ at, reference, reason: `${describeQuantity(quantity)} is outside the plausible range` });
        continue;
      }
      let low: number | undefined;
      if (def.referenceLow && def.unit) {
        const range = Array.isArray(resource.referenceRange) ? (resource.referenceRange[0] as { low?: QuantityLike } | undefined) : undefined;
        const converted = range?.low ? catalog.units.convert(range.low, def.unit, source.molarMass) : undefined;
        if (converted?.ok) low = round(converted.value, def.decimals);
      }
      usable.push({ value: round(value, def.decimals), at, reference, original: unitChanged ? describeQuantity(quantity) : undefined, low });
    }
  }
  usable.sort(byNewest);
  rejected.sort(byNewest);
  const series: SeriesPoint[] = usable.map(({ value, at, reference }) => ({ value, at, reference }));
  const unitLabel = def.unit && def.unit !== '1' ? ` ${def.unit}` : '';
  const render = (r: QuantityResult) => `${r.value}${unitLabel}${r.original ? ` (reported ${r.original.replace(/\s+/g, ' ').trim()})` : ''}, ${dated(r.at)}`;
  const rejectionNotes = (after: number | undefined) =>
    rejected
      .filter((r) => after === undefined || r.at === undefined || r.at >= after)
      .map((r) => `${r.reference} (${dated(r.at)}) not used: ${r.reason}`);

  if (def.select === 'lowest') {
    const inWindow = def.window ? usable.filter((r) => r.at !== undefined && isWithin(r.at, input.now, def.window!)) : usable;
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
          notes: [`no result within ${describeWindow(def.window!)} (last: ${render(newest)})`, ...rejectionNotes(undefined)],
          series,
        };
      }
      return unknownFact(def.id, def.label, ['no result', ...rejectionNotes(undefined)], series);
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
      notes: rejectionNotes(def.window ? subtractDuration(input.now, def.window) : undefined),
      series,
    };
  }

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
  if (def.window && (newest.at === undefined || !isWithin(newest.at, input.now, def.window))) {
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

/**
 * Medication classes (zoledronic acid, AIs, GnRH agonists…): current or not, with the evidence that
 * says so, and the dose history. Revision 2: for classes with `currentEvidence`, "current" needs
 * recent evidence of use; an old order still marked active is `stale`, never current.
 */
function extractMedication(def: MedicationFactDef, input: ExtractionInput): Fact[] {
  const { now } = input;
  const evidence: UseEvidence[] = [];
  let activeRecord: { at: number | undefined; reference: string; kind: EvidenceKind } | undefined;
  const activeRefs: string[] = [];
  const doses: { at: number; reference: string }[] = [];
  const starts: number[] = [];
  let stop: { reason: string; text: string; at: number | undefined } | undefined;
  let byName: string | undefined;
  const rules = def.currentEvidence;
  const consider = (resourceType: string, handle: (resource: AnyResource, productText: string) => void) => {
    for (const { resource, match } of input.index.candidates(resourceType, def.codes)) {
      if (match.by === 'name') byName ??= match.matched;
      handle(resource, match.matched);
    }
  };
  const noteActive = (resource: AnyResource, at: number | undefined, kind: EvidenceKind) => {
    activeRefs.push(referenceOf(resource));
    if (!activeRecord || (at ?? -Infinity) > (activeRecord.at ?? -Infinity)) activeRecord = { at, reference: referenceOf(resource), kind };
  };
  const noteStop = (resource: AnyResource, at: number | undefined) => {
    const why = stopReasonOf(resource);
    if (why && (!stop || (at ?? -Infinity) >= (stop.at ?? -Infinity))) stop = { ...why, at };
  };
  consider('MedicationRequest', (r) => {
    const status = statusOf(r);
    const intent = typeof r.intent === 'string' ? r.intent : 'order';
    // A renewal shows as a new authoredOn or a new validity period.
    const validity = (r.dispenseRequest as { validityPeriod?: { start?: unknown } } | undefined)?.validityPeriod?.start;
    const renewed = parseFhirDate(validity);
    const authoredOn = dateOf(r, 'authoredOn');
    const authored = renewed !== undefined && (authoredOn === undefined || renewed > authoredOn) ? renewed : authoredOn;
    if (status === 'active' && ACTIVE_ORDER_INTENTS.has(intent)) {
      noteActive(r, authored, 'order');
      if (authored !== undefined) {
        starts.push(authored);
        if (rules) evidence.push({ kind: 'order', at: authored, coversUntil: addDuration(authored, rules.order), reference: referenceOf(r) });
      }
    }
    if ((status === 'completed' || status === 'stopped') && authored !== undefined) {
      starts.push(authored);
      if (def.completedOrdersAreDoses) doses.push({ at: authored, reference: referenceOf(r) });
    }
    if (status === 'stopped' || status === 'cancelled') noteStop(r, authored);
  });
  consider('MedicationStatement', (r) => {
    const status = statusOf(r);
    const start = dateOf(r, 'effectiveDateTime', 'effectivePeriod.start', 'dateAsserted');
    const end = dateOf(r, 'effectivePeriod.end');
    const asserted = newestDateOf(r, 'dateAsserted', 'effectiveDateTime', 'effectivePeriod.start');
    if (status === 'active' || status === 'intended') {
      noteActive(r, asserted, 'statement');
      if (rules && asserted !== undefined) {
        const until = addDuration(asserted, rules.statement);
        evidence.push({ kind: 'statement', at: asserted, coversUntil: end !== undefined ? Math.min(until, end + DAY_MS) : until, reference: referenceOf(r) });
      }
    }
    if (status === 'active' || status === 'completed') {
      if (start !== undefined) {
        starts.push(start);
        doses.push({ at: start, reference: referenceOf(r) });
      }
      if (end !== undefined) doses.push({ at: end, reference: referenceOf(r) });
      if (rules && status === 'completed' && end !== undefined) evidence.push({ kind: 'statement', at: end, coversUntil: end + DAY_MS, reference: referenceOf(r) });
    }
    if (status === 'stopped') noteStop(r, end ?? start);
  });
  consider('MedicationAdministration', (r, productText) => {
    const status = statusOf(r);
    const at = dateOf(r, 'effectiveDateTime', 'effectivePeriod.start');
    if (status === 'stopped' || status === 'not-done') noteStop(r, at);
    if (status !== 'completed' && status !== 'in-progress') return;
    if (at !== undefined) {
      doses.push({ at, reference: referenceOf(r) });
      starts.push(at);
      if (rules) {
        const texts = conceptsOf(r, () => undefined).flatMap((c) => textsOf(c)).concat(productText);
        const window = rules.administrationByProduct.find((p) => texts.some((t) => p.pattern.test(t)))?.window ?? rules.administration;
        evidence.push({ kind: 'administration', at, coversUntil: addDuration(at, window), reference: referenceOf(r) });
      }
    }
  });
  consider('MedicationDispense', (r) => {
    const status = statusOf(r);
    if (status !== 'completed' && status !== 'in-progress') return;
    const at = dateOf(r, 'whenHandedOver', 'whenPrepared');
    if (at === undefined) return;
    starts.push(at);
    if (rules) {
      const days = daysSupplyOf(r);
      const coversUntil = days !== undefined ? at + days * rules.dispenseFactor * DAY_MS : addDuration(at, rules.order);
      evidence.push({ kind: 'dispense', at, coversUntil, reference: referenceOf(r) });
    }
  });

  doses.sort((a, b) => a.at - b.at);
  // One dose recorded twice (its administration and its completed order) counts once.
  const distinct: { at: number; reference: string }[] = [];
  const sameDoseMs = def.sameDoseWithin ? (def.sameDoseWithin.unit === 'D' ? def.sameDoseWithin.amount : def.sameDoseWithin.unit === 'W' ? def.sameDoseWithin.amount * 7 : 30 * def.sameDoseWithin.amount) * DAY_MS : 0;
  for (const dose of doses) {
    const previous = distinct[distinct.length - 1];
    if (previous && dose.at - previous.at < sameDoseMs) continue;
    distinct.push(dose);
  }
  const first = distinct[0];
  const last = distinct[distinct.length - 1];

  let active: boolean;
  let state: Fact['state'] = 'known';
  let currentDisplay: string;
  evidence.sort((a, b) => b.at - a.at);
  const newestEvidence = evidence[0];
  const lastDay = last ? formatDate(last.at) : undefined;
  if (rules) {
    const covering = evidence.find((e) => e.coversUntil >= now && e.at <= now + DAY_MS);
    active = covering !== undefined;
    if (active) {
      activeRefs.length = 0;
      activeRefs.push(covering!.reference);
      currentDisplay = `current (last evidence: ${covering!.kind} of ${formatDate(covering!.at)})`;
    } else if (activeRecord) {
      state = 'stale';
      const at = activeRecord.at;
      currentDisplay = `not confirmed current (last evidence: ${activeRecord.kind} of ${dated(at)})`;
    } else {
      currentDisplay = newestEvidence ? `not current (last evidence: ${newestEvidence.kind} of ${formatDate(newestEvidence.at)})` : lastDay ? `not current (last dose ${lastDay})` : 'none recorded';
    }
  } else {
    active = activeRecord !== undefined;
    if (!active && last && def.recentDoseWindow && isWithin(last.at, now, def.recentDoseWindow)) {
      active = true;
      activeRefs.push(last.reference);
    }
    currentDisplay = active ? `current${lastDay ? ` (last dose ${lastDay})` : ''}` : lastDay ? `not current (last dose ${lastDay})` : 'none recorded';
  }
  const notes = byName ? [`identified by name ("${byName}"): the code list for this drug is not fully verified`] : [];
  // Plain literals of one shape (no object spread): ten medication classes make fifty facts per call.
  const fact = (suffix: string, label: string, factState: Fact['state'], value: FactValue | undefined, display: string | undefined, at: number | undefined, sources: string[], factNotes = notes): Fact => {
    const made: Fact = { id: suffix ? `${def.id}.${suffix}` : def.id, label: suffix ? `${def.label}: ${label}` : def.label, state: factState, sources, notes: factNotes };
    if (value !== undefined) made.value = value;
    if (display !== undefined) made.display = display;
    if (at !== undefined) made.at = at;
    if (byName) made.matchedByName = true;
    return made;
  };
  const dateFact = (suffix: string, label: string, point: { at: number; reference: string } | undefined): Fact => {
    if (!point) return fact(suffix, label, 'unknown', undefined, undefined, undefined, [], [`no ${def.label.toLowerCase()} dose recorded`]);
    const day = formatDate(point.at);
    return fact(suffix, label, 'known', day, day, point.at, [point.reference]);
  };
  const since = starts.length > 0 ? Math.min(...starts) : undefined;
  // The newest sign of use, of any kind (what a "stale" card quotes).
  const lastSign: { kind: string; at: number | undefined; reference: string } | undefined =
    newestEvidence && (!activeRecord || newestEvidence.at >= (activeRecord.at ?? -Infinity))
      ? newestEvidence
      : activeRecord ?? (last ? { kind: 'dose', at: last.at, reference: last.reference } : undefined);
  const stopped = stop as { reason: string; text: string; at: number | undefined } | undefined;
  return [
    fact('', '', state, active, currentDisplay, active ? newestEvidence?.at ?? last?.at : activeRecord?.at ?? last?.at, activeRefs.length > 0 ? activeRefs.slice(0, 5) : last ? [last.reference] : []),
    dateFact('firstDose', 'first dose', first),
    dateFact('lastDose', 'last dose', last),
    fact('everGiven', 'ever given', 'known', distinct.length > 0, distinct.length > 0 ? `${distinct.length} dose(s)` : 'never', undefined, distinct.slice(-3).map((d) => d.reference)),
    since !== undefined
      ? fact('since', 'since', 'known', formatDate(since), formatDate(since), since, [])
      : fact('since', 'since', 'unknown', undefined, undefined, undefined, [], ['no start date recorded']),
    fact('doseCount', 'doses given', 'known', distinct.length, String(distinct.length), last?.at, distinct.map((d) => d.reference).slice(-12)),
    lastSign && lastSign.at !== undefined
      ? fact('lastEvidence', 'last evidence of use', 'known', formatDate(lastSign.at), `${lastSign.kind} of ${formatDate(lastSign.at)}`, lastSign.at, [lastSign.reference])
      : fact('lastEvidence', 'last evidence of use', 'unknown', undefined, undefined, undefined, [], ['no dated record of use']),
    stopped
      ? fact('stopReason', 'reason stopped', 'known', stopped.reason, `${stopped.text}${stopped.at !== undefined ? ` (${formatDate(stopped.at)})` : ''}`, stopped.at, [])
      : fact('stopReason', 'reason stopped', 'unknown', undefined, undefined, undefined, [], ['no reason recorded']),
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
