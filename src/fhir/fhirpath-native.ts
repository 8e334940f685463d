/**
 * Native evaluators for the exact FHIRPath expressions the shipped mappings use most (status
 * filters, clinically relevant dates, answers, quantities). fhirpath.js costs ~5 µs per evaluation
 * and a heavy chart needs thousands; these give the same results in a fraction of that.
 *
 * The knowledge files stay FHIRPath: an expression is only replaced when its text matches an entry
 * below exactly, so an edited expression falls back to fhirpath.js. test/fhir/fhirpath-native.test.ts
 * checks every entry against fhirpath.js on all fixture resources and on malformed variants.
 */
import choiceTypePaths from 'fhirpath/fhir-context/r4/choiceTypePaths.json';

type Evaluator = (resource: unknown) => unknown[];

export interface NativeEntry {
  /** Resource types the evaluator is exact for; any other type is left to fhirpath.js. */
  types: readonly string[];
  evaluate: Evaluator;
}

const CHOICES = choiceTypePaths as unknown as Record<string, string[]>;
// Suffix lists by resource type, then element: looked up on every evaluation, so no string building.
const suffixCache = new Map<string, Map<string, readonly string[]>>();

function suffixesOf(type: unknown, element: string): readonly string[] {
  const typeName = String(type);
  let byElement = suffixCache.get(typeName);
  if (!byElement) {
    byElement = new Map();
    suffixCache.set(typeName, byElement);
  }
  let suffixes = byElement.get(element);
  if (!suffixes) {
    suffixes = CHOICES[`${typeName}.${element}`] ?? [];
    byElement.set(element, suffixes);
  }
  return suffixes;
}

/**
 * A choice element (value[x], effective[x]…) as the R4 model resolves it: the first suffix present,
 * in the model's order, is the element; returns its suffix and values.
 */
function choice(resource: unknown, element: string): { suffix: string | undefined; values: unknown[] } {
  const type = (resource as { resourceType?: unknown } | null)?.resourceType;
  for (const suffix of suffixesOf(type, element)) {
    const values = prop(resource, element + suffix);
    if (values.length > 0) return { suffix, values };
  }
  return { suffix: undefined, values: [] };
}

function ofType(resource: unknown, element: string, suffix: string): unknown[] {
  const found = choice(resource, element);
  return found.suffix === suffix ? found.values : [];
}

/** Appends one property's FHIRPath items (absent/null → nothing, arrays flattened) to `out`. */
function pushProp(out: unknown[], node: unknown, name: string): void {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return;
  const value = (node as Record<string, unknown>)[name];
  if (value === undefined || value === null) return;
  if (!Array.isArray(value)) {
    out.push(value);
    return;
  }
  for (const item of value) if (item !== undefined && item !== null) out.push(item);
}

function prop(node: unknown, name: string): unknown[] {
  const out: unknown[] = [];
  pushProp(out, node, name);
  return out;
}

// Loops rather than flatMap and rest arrays: these run thousands of times per heavy chart.
function path(resource: unknown, ...names: string[]): unknown[] {
  let current: unknown[] = [resource];
  for (const name of names) {
    const next: unknown[] = [];
    for (const node of current) pushProp(next, node, name);
    current = next;
  }
  return current;
}

/** FHIRPath `|`: union in order, without duplicates (deep equality). */
function union(...collections: unknown[][]): unknown[] {
  const out: unknown[] = [];
  // Primitives are their own keys (a Set tells 1 from '1'); objects compare by their JSON.
  const primitives = new Set<unknown>();
  let objects: Set<string> | undefined;
  for (const collection of collections) {
    for (const item of collection) {
      if (typeof item === 'object') {
        objects ??= new Set();
        const key = JSON.stringify(item);
        if (objects.has(key)) continue;
        objects.add(key);
      } else {
        if (primitives.has(item)) continue;
        primitives.add(item);
      }
      out.push(item);
    }
  }
  return out;
}

/** `x in ('a' | 'b')`: empty for an empty x; like fhirpath.js, more than one x is an error (→ no result). */
function inList(values: unknown[], list: readonly string[]): unknown[] {
  if (values.length === 0) return [];
  if (values.length > 1) return [];
  return [typeof values[0] === 'string' && list.includes(values[0])];
}

function equals(values: unknown[], literal: string): unknown[] {
  if (values.length === 0) return [];
  return [values.length === 1 && values[0] === literal];
}

/** `codes.intersect(list).exists()` */
function intersects(values: unknown[], list: readonly string[]): boolean {
  return values.some((v) => typeof v === 'string' && list.includes(v));
}

const codesOf = (resource: unknown, element: string) => path(resource, element, 'coding', 'code');
const NOT_REFUTED = ['refuted', 'entered-in-error'];

const notRefuted = (r: unknown) => !intersects(codesOf(r, 'verificationStatus'), NOT_REFUTED);
const clinicalStatusIn = (r: unknown, statuses: readonly string[]) =>
  path(r, 'clinicalStatus').length === 0 || intersects(codesOf(r, 'clinicalStatus'), statuses);
const periodPart = (r: unknown, element: string, part: string) => ofType(r, element, 'Period').flatMap((p) => prop(p, part));

const WITH_STATUS = ['Observation', 'Procedure', 'ServiceRequest', 'FamilyMemberHistory', 'MedicationRequest', 'MedicationStatement', 'MedicationAdministration', 'MedicationDispense'];
const WITH_CLINICAL_STATUS = ['Condition', 'AllergyIntolerance'];

export const NATIVE_FHIRPATH: Readonly<Record<string, NativeEntry>> = {
  "status in ('final' | 'amended' | 'corrected')": { types: WITH_STATUS, evaluate: (r) => inList(path(r, 'status'), ['final', 'amended', 'corrected']) },
  "status in ('active' | 'on-hold')": { types: WITH_STATUS, evaluate: (r) => inList(path(r, 'status'), ['active', 'on-hold']) },
  "status in ('preparation' | 'in-progress')": { types: WITH_STATUS, evaluate: (r) => inList(path(r, 'status'), ['preparation', 'in-progress']) },
  "status = 'completed'": { types: WITH_STATUS, evaluate: (r) => equals(path(r, 'status'), 'completed') },
  "status != 'entered-in-error'": {
    types: WITH_STATUS,
    evaluate: (r) => {
      const result = equals(path(r, 'status'), 'entered-in-error');
      return result.length === 0 ? [] : [!result[0]];
    },
  },
  // Revision 2: stage IV written on the cancer diagnosis itself (Condition.stage.summary).
  "verificationStatus.coding.code.intersect('refuted' | 'entered-in-error').empty() and stage.summary.exists(coding.where(system = 'http://snomed.info/sct' and code in ('258228008' | '1222837003')).exists() or text.lower().contains('stage iv') or text.lower().contains('stage 4'))": {
    types: WITH_CLINICAL_STATUS,
    evaluate: (r) => [
      notRefuted(r) &&
        path(r, 'stage', 'summary').some((summary) => {
          const codings = path(summary, 'coding') as { system?: unknown; code?: unknown }[];
          if (codings.some((c) => c.system === 'http://snomed.info/sct' && (c.code === '258228008' || c.code === '1222837003'))) return true;
          const text = path(summary, 'text')[0];
          return typeof text === 'string' && /stage (iv|4)/.test(text.toLowerCase());
        }),
    ],
  },
  "verificationStatus.coding.code.intersect('refuted' | 'entered-in-error').empty()": { types: WITH_CLINICAL_STATUS, evaluate: (r) => [notRefuted(r)] },
  "(clinicalStatus.exists().not() or clinicalStatus.coding.code.intersect('active' | 'recurrence' | 'relapse' | 'remission').exists()) and verificationStatus.coding.code.intersect('refuted' | 'entered-in-error').empty()":
    { types: WITH_CLINICAL_STATUS, evaluate: (r) => [clinicalStatusIn(r, ['active', 'recurrence', 'relapse', 'remission']) && notRefuted(r)] },
  "(clinicalStatus.exists().not() or clinicalStatus.coding.code.intersect('active' | 'recurrence' | 'relapse').exists()) and verificationStatus.coding.code.intersect('refuted' | 'entered-in-error').empty()":
    { types: WITH_CLINICAL_STATUS, evaluate: (r) => [clinicalStatusIn(r, ['active', 'recurrence', 'relapse']) && notRefuted(r)] },
  "verificationStatus.coding.code.intersect('refuted' | 'entered-in-error').empty() and clinicalStatus.coding.code.intersect('inactive' | 'resolved').empty()":
    { types: WITH_CLINICAL_STATUS, evaluate: (r) => [notRefuted(r) && !intersects(codesOf(r, 'clinicalStatus'), ['inactive', 'resolved'])] },
  'effective.ofType(dateTime) | effective.ofType(Period).start | effective.ofType(instant) | issued': {
    types: ['Observation'],
    evaluate: (r) => union(ofType(r, 'effective', 'DateTime'), periodPart(r, 'effective', 'start'), ofType(r, 'effective', 'Instant'), path(r, 'issued')),
  },
  'onset.ofType(dateTime) | onset.ofType(Period).start | recordedDate': {
    types: WITH_CLINICAL_STATUS,
    evaluate: (r) => union(ofType(r, 'onset', 'DateTime'), periodPart(r, 'onset', 'start'), path(r, 'recordedDate')),
  },
  'recordedDate | onset.ofType(dateTime)': { types: WITH_CLINICAL_STATUS, evaluate: (r) => union(path(r, 'recordedDate'), ofType(r, 'onset', 'DateTime')) },
  'performed.ofType(dateTime) | performed.ofType(Period).end | performed.ofType(Period).start': {
    types: ['Procedure'],
    evaluate: (r) => union(ofType(r, 'performed', 'DateTime'), periodPart(r, 'performed', 'end'), periodPart(r, 'performed', 'start')),
  },
  'occurrence.ofType(dateTime) | occurrence.ofType(Period).start | authoredOn': {
    types: ['ServiceRequest'],
    evaluate: (r) => union(ofType(r, 'occurrence', 'DateTime'), periodPart(r, 'occurrence', 'start'), path(r, 'authoredOn')),
  },
  date: { types: ['FamilyMemberHistory'], evaluate: (r) => path(r, 'date') },
  'value.ofType(CodeableConcept) | value.ofType(string) | interpretation': {
    types: ['Observation'],
    evaluate: (r) => union(ofType(r, 'value', 'CodeableConcept'), ofType(r, 'value', 'String'), path(r, 'interpretation')),
  },
  'value.ofType(Quantity)': { types: ['Observation'], evaluate: (r) => ofType(r, 'value', 'Quantity') },
};
