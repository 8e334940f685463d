import type { CodeList } from '../fhir/codes';
import { codingsOf, textsOf } from '../fhir/codes';
import { describeDuration, formatDate, isWithin, parseFhirDate, subtractDuration } from '../fhir/dates';
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
  QuantityFactDef,
} from '../knowledge/types';
import type { Fact, FactValue, SeriesPoint } from './facts';
import { unknownFact } from './facts';
import { referenceOf, type AnyResource, type ResourceIndex } from './resource-index';

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
      usable.push({ value: round(value, def.decimals), at, reference, original: unitChanged ? describeQuantity(quantity) : undefined });
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
  return {
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
}

function extractPresence(def: PresenceFactDef, input: ExtractionInput): Fact {
  const matches: { at: number | undefined; reference: string; text: string; byName: boolean }[] = [];
  for (const source of def.sources) {
    for (const { resource, match } of input.index.candidates(source.resourceType, source.codes)) {
      if (!passes(source.where, resource)) continue;
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
      matches.push({ at, reference: referenceOf(resource), text: match.matched, byName: match.by === 'name' });
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

/**
 * Medication classes (zoledronic acid, AIs, GnRH agonists…): current or not, first and last dose.
 * Doses come from administrations, statements and, for one-off infusions, completed orders.
 */
function extractMedication(def: MedicationFactDef, input: ExtractionInput): Fact[] {
  let active = false;
  const activeRefs: string[] = [];
  const doses: { at: number; reference: string }[] = [];
  const starts: number[] = [];
  let byName: string | undefined;
  const consider = (resourceType: string, handle: (resource: AnyResource) => void) => {
    for (const { resource, match } of input.index.candidates(resourceType, def.codes)) {
      if (match.by === 'name') byName ??= match.matched;
      handle(resource);
    }
  };
  consider('MedicationRequest', (r) => {
    const status = statusOf(r);
    const intent = typeof r.intent === 'string' ? r.intent : 'order';
    const authored = dateOf(r, 'authoredOn');
    if (status === 'active' && ACTIVE_ORDER_INTENTS.has(intent)) {
      active = true;
      activeRefs.push(referenceOf(r));
      if (authored !== undefined) starts.push(authored);
    }
    if (status === 'completed' && authored !== undefined) {
      starts.push(authored);
      if (def.completedOrdersAreDoses) doses.push({ at: authored, reference: referenceOf(r) });
    }
  });
  consider('MedicationStatement', (r) => {
    const status = statusOf(r);
    const start = dateOf(r, 'effectiveDateTime', 'effectivePeriod.start', 'dateAsserted');
    const end = dateOf(r, 'effectivePeriod.end');
    if (status === 'active') {
      active = true;
      activeRefs.push(referenceOf(r));
    }
    if (status === 'active' || status === 'completed') {
      if (start !== undefined) {
        starts.push(start);
        doses.push({ at: start, reference: referenceOf(r) });
      }
      if (end !== undefined) doses.push({ at: end, reference: referenceOf(r) });
    }
  });
  consider('MedicationAdministration', (r) => {
    const status = statusOf(r);
    if (status !== 'completed' && status !== 'in-progress') return;
    const at = dateOf(r, 'effectiveDateTime', 'effectivePeriod.start');
    if (at !== undefined) {
      doses.push({ at, reference: referenceOf(r) });
      starts.push(at);
    }
  });
  doses.sort((a, b) => a.at - b.at);
  const first = doses[0];
  const last = doses[doses.length - 1];
  if (!active && last && def.recentDoseWindow && isWithin(last.at, input.now, def.recentDoseWindow)) {
    active = true;
    activeRefs.push(last.reference);
  }
  const notes = byName ? [`identified by name ("${byName}"): the code list for this drug is not fully verified`] : [];
  // Plain literals of one shape (no object spread): ten medication classes make fifty facts per call.
  const fact = (suffix: string, label: string, state: Fact['state'], value: FactValue | undefined, display: string | undefined, at: number | undefined, sources: string[], factNotes = notes): Fact => {
    const made: Fact = { id: suffix ? `${def.id}.${suffix}` : def.id, label: suffix ? `${def.label}: ${label}` : def.label, state, sources, notes: factNotes };
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
  const lastDay = last ? formatDate(last.at) : undefined;
  return [
    fact(
      '',
      '',
      'known',
      active,
      active ? `current${lastDay ? ` (last dose ${lastDay})` : ''}` : lastDay ? `not current (last dose ${lastDay})` : 'none recorded',
      last?.at,
      activeRefs.length > 0 ? activeRefs.slice(0, 5) : last ? [last.reference] : [],
    ),
    dateFact('firstDose', 'first dose', first),
    dateFact('lastDose', 'last dose', last),
    fact('everGiven', 'ever given', 'known', doses.length > 0, doses.length > 0 ? `${doses.length} dose record(s)` : 'never', undefined, doses.slice(-3).map((d) => d.reference)),
    since !== undefined
      ? fact('since', 'since', 'known', formatDate(since), formatDate(since), since, [])
      : fact('since', 'since', 'unknown', undefined, undefined, undefined, [], ['no start date recorded']),
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
  if (typeof raw !== 'string' || raw === '') return unknownFact(def.id, def.label, 'not documented');
  return { id: def.id, label: def.label, state: 'known', value: raw, display: raw, sources: [referenceOf(patient)], notes: [] };
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
