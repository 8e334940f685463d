import type { CodeListFile, CodeSystemsFile } from '../schemas/code-list';

export interface CodingLike {
  system?: unknown;
  code?: unknown;
  display?: unknown;
}

export interface ConceptLike {
  coding?: unknown;
  text?: unknown;
}

/** Canonical system URIs and code normalisation (ICD-10-CM with and without the dot). */
export class CodeSystems {
  private readonly canonicalByUri = new Map<string, string>();
  private readonly icdSystems = new Set<string>();

  constructor(file: CodeSystemsFile) {
    for (const system of file.systems) {
      this.canonicalByUri.set(system.uri, system.uri);
      for (const alias of system.aliases ?? []) this.canonicalByUri.set(alias, system.uri);
      if (system.normalize === 'icd') this.icdSystems.add(system.uri);
    }
  }

  canonical(system: string): string {
    return this.canonicalByUri.get(system) ?? system;
  }

  /** The key a coding is indexed and matched under: canonical system + normalised code. */
  key(system: string, code: string): string {
    const canonical = this.canonical(system);
    const normalised = this.icdSystems.has(canonical) ? code.trim().toUpperCase().replace(/\./g, '') : code.trim();
    return `${canonical}|${normalised}`;
  }
}

export interface Product {
  mgPerMl?: number;
  totalMg?: number;
  volumeMl?: number;
}

export interface NamedProduct {
  pattern: RegExp;
  afterWrittenStrength: boolean;
  product: Product;
}

export type MatchKind = 'code' | 'name';

export interface ConceptMatch {
  by: MatchKind;
  /** The coding (or text) that matched, for the card's detail. */
  matched: string;
  product?: Product;
}

/** A code list compiled for fast matching: a set of keys, prefixes, exclusions and name terms. */
export class CodeList {
  readonly id: string;
  readonly title: string;
  /** The drug as cards name it; the title when the list does not say. */
  readonly drugName: string;
  readonly status: CodeListFile['status'];
  readonly keys: ReadonlySet<string>;
  private readonly excluded: ReadonlySet<string>;
  private readonly prefixes: { system: string; prefix: string }[];
  private readonly nameRegex: RegExp | undefined;
  private readonly excludeNameRegex: RegExp | undefined;
  private readonly products = new Map<string, Product>();
  /** Products named by brand in an order's text (code list `productNames`), in list order. */
  readonly namedProducts: readonly NamedProduct[];

  constructor(
    file: CodeListFile,
    private readonly systems: CodeSystems,
  ) {
    this.id = file.id;
    this.title = file.title;
    this.drugName = file.drugName ?? file.title;
    this.status = file.status;
    this.keys = new Set(file.codes.map((c) => systems.key(c.system, c.code)));
    this.excluded = new Set((file.exclude ?? []).map((c) => systems.key(c.system, c.code)));
    this.prefixes = (file.codePrefixes ?? []).map((p) => {
      const key = systems.key(p.system, p.prefix);
      const bar = key.indexOf('|');
      return { system: key.slice(0, bar), prefix: key.slice(bar + 1) };
    });
    this.nameRegex =
      file.names && file.names.length > 0
        ? new RegExp(`(^|[^a-z0-9])(${file.names.map(escapeRegex).join('|')})`, 'i')
        : undefined;
    this.excludeNameRegex =
      file.excludeNames && file.excludeNames.length > 0
        ? new RegExp(`(^|[^a-z0-9])(${file.excludeNames.map(escapeRegex).join('|')})`, 'i')
        : undefined;
    this.namedProducts = (file.productNames ?? []).map(({ names, afterWrittenStrength, ...product }) => ({
      pattern: new RegExp(`\\b(${names.map(escapeRegex).join('|')})\\b`, 'i'),
      afterWrittenStrength: afterWrittenStrength === true,
      product,
    }));
    for (const product of file.products ?? []) {
      const { system, code, ...facts } = product;
      this.products.set(systems.key(system, code), facts);
    }
  }

  get hasPrefixes(): boolean {
    return this.prefixes.length > 0;
  }

  get hasNames(): boolean {
    return this.nameRegex !== undefined;
  }

  /** Does this (already normalised) key belong to the list by code or prefix? */
  containsKey(key: string): boolean {
    if (this.excluded.has(key)) return false;
    if (this.keys.has(key)) return true;
    for (const { system, prefix } of this.prefixes) {
      if (key.startsWith(`${system}|${prefix}`)) return true;
    }
    return false;
  }

  matchesName(text: string): boolean {
    return this.nameRegex !== undefined && this.nameRegex.test(text) && !this.excludeNameRegex?.test(text);
  }

  productFor(key: string): Product | undefined {
    return this.products.get(key);
  }

  /** Matches a CodeableConcept: by code first; by name only for lists that declare name terms. */
  matchConcept(concept: unknown): ConceptMatch | undefined {
    const codings = codingsOf(concept);
    for (const coding of codings) {
      const key = this.systems.key(coding.system, coding.code);
      if (this.containsKey(key)) {
        const product = this.products.get(key);
        return { by: 'code', matched: describeCoding(coding), ...(product ? { product } : {}) };
      }
    }
    if (!this.nameRegex) return undefined;
    for (const text of textsOf(concept)) {
      if (this.matchesName(text)) return { by: 'name', matched: text };
    }
    return undefined;
  }
}

export interface PlainCoding {
  system: string;
  code: string;
  display?: string;
}

/** Codings of a CodeableConcept or a single Coding, skipping malformed entries. */
export function codingsOf(value: unknown): PlainCoding[] {
  if (value === null || typeof value !== 'object') return [];
  const candidate = value as ConceptLike & CodingLike;
  const raw: unknown[] = Array.isArray(candidate.coding) ? candidate.coding : [candidate];
  const out: PlainCoding[] = [];
  for (const item of raw) {
    if (item === null || typeof item !== 'object') continue;
    const { system, code, display } = item as CodingLike;
    if (typeof system === 'string' && typeof code === 'string' && system && code) {
      out.push(typeof display === 'string' ? { system, code, display } : { system, code });
    }
  }
  return out;
}

/** Human text of a concept: its text and every coding display. */
export function textsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  const out: string[] = [];
  const concept = value as ConceptLike & CodingLike;
  if (typeof concept.text === 'string') out.push(concept.text);
  if (typeof concept.display === 'string') out.push(concept.display);
  if (Array.isArray(concept.coding)) {
    for (const coding of concept.coding) {
      if (coding && typeof coding === 'object' && typeof (coding as CodingLike).display === 'string') {
        out.push((coding as CodingLike).display as string);
      }
    }
  }
  return out;
}

function describeCoding(coding: PlainCoding): string {
  const system = SHORT_SYSTEM_NAMES[coding.system] ?? coding.system;
  return coding.display ? `${system} ${coding.code} ${coding.display}` : `${system} ${coding.code}`;
}

const SHORT_SYSTEM_NAMES: Record<string, string> = {
  'http://snomed.info/sct': 'SNOMED',
  'http://loinc.org': 'LOINC',
  'http://www.nlm.nih.gov/research/umls/rxnorm': 'RxNorm',
  'http://hl7.org/fhir/sid/icd-10-cm': 'ICD-10-CM',
  'http://hl7.org/fhir/sid/icd-10': 'ICD-10',
  'http://www.ada.org/cdt': 'CDT',
  'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation': 'interpretation',
};

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
