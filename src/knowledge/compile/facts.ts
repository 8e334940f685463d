import { join } from '../knowledge-files';
import type { TSchema } from '@sinclair/typebox';
import { UnitConverter } from '../../fhir/units';
import {
  CodedFactSchema,
  DerivedFactSchema,
  FactMappingFileSchema,
  MappingDefaultsSchema,
  MedicationFactSchema,
  PatientFactSchema,
  PresenceFactSchema,
  QuantityFactSchema,
  type CodedFactDefinition,
  type FactDefinition,
  type MappingDefaults,
  type MedicationFactDefinition,
  type PresenceFactDefinition,
  type QuantityFactDefinition,
} from '../../schemas/fact-mapping';
import { DRAFT_FACTS } from '../../clinical/zoledronic-acid-draft-facts';
import { MEDICATION_OUTPUTS, type CodedFactDef, type FactDef, type MedicationFactDef, type PresenceFactDef, type QuantityFactDef } from '../types';
import { compileRegex, type CompileContext, type Problems } from './context';
import type { SourceCompiler } from './fact-sources';
import type { WindowResolver } from './settings';

// MedicationDispense is only extra evidence of current use (revision 2): a client that does not send it
// leaves the facts as the orders, statements and administrations say, rather than all unknown.
const MEDICATION_READS = ['MedicationRequest', 'MedicationStatement', 'MedicationAdministration', 'Medication'];

const FACT_SCHEMAS: Record<string, TSchema> = {
  coded: CodedFactSchema,
  quantity: QuantityFactSchema,
  presence: PresenceFactSchema,
  medication: MedicationFactSchema,
  patient: PatientFactSchema,
  derived: DerivedFactSchema,
};

/** A fact definition as written, with where it was written. */
export interface FactEntry<D = FactDefinition> {
  file: string;
  index: number;
  def: D;
}

export function readMappingDefaults(ctx: CompileContext, mappingsDir: string): MappingDefaults | undefined {
  return ctx.read<MappingDefaults>(join(mappingsDir, 'defaults.yaml'), MappingDefaultsSchema);
}

/** fhir-mappings/facts/*.yaml: each item checked against the schema of its kind. */
export function readFactDefinitions(ctx: CompileContext, factsDir: string): FactEntry[] {
  const entries: FactEntry[] = [];
  for (const path of ctx.listYaml(factsDir)) {
    const file = ctx.read<{ facts: unknown[] }>(path, FactMappingFileSchema);
    if (!file) continue;
    file.facts.forEach((item, index) => {
      const kind = (item as { kind?: unknown })?.kind;
      const schema = typeof kind === 'string' ? FACT_SCHEMAS[kind] : undefined;
      if (!schema) {
        ctx.problems.add(ctx.rel(path), `facts[${index}].kind`, `must be one of ${Object.keys(FACT_SCHEMAS).join(', ')}`);
        return;
      }
      const def = ctx.check<FactDefinition>(ctx.rel(path), item, schema, `facts[${index}]`);
      if (def) entries.push({ file: ctx.rel(path), index, def });
    });
  }
  return entries;
}

/** The ids a fact defines: a medication fact also defines its outputs (`zoledronic.lastDose`…). */
export function idsDefinedBy(def: { kind: string; id: string }): string[] {
  return def.kind === 'medication' ? [def.id, ...MEDICATION_OUTPUTS.map((o) => `${def.id}.${o}`)] : [def.id];
}

/** Every fact id (with the draft-order facts) → its label; duplicates are problems. */
export function factLabelsOf(problems: Problems, entries: readonly FactEntry[]): Map<string, string> {
  const labels = new Map<string, string>(Object.entries(DRAFT_FACTS));
  for (const { file, index, def } of entries) {
    for (const id of idsDefinedBy(def)) {
      if (labels.has(id)) problems.add(file, `facts[${index}].id`, `duplicate fact id '${id}'`);
      labels.set(id, def.label);
    }
  }
  return labels;
}

export interface FactCompilers {
  problems: Problems;
  sources: SourceCompiler;
  window: WindowResolver;
}

/** The facts read from FHIR resources (every kind but derived), in the order written. */
export function compileExtractedFacts(deps: FactCompilers, entries: readonly FactEntry[]): FactDef[] {
  const extracted: FactDef[] = [];
  for (const entry of entries) {
    const { file, index, def } = entry;
    const f = `facts[${index}]`;
    switch (def.kind) {
      case 'coded':
        extracted.push(compileCodedFact(deps, file, f, def));
        break;
      case 'quantity':
        extracted.push(compileQuantityFact(deps, file, f, def));
        break;
      case 'presence':
        extracted.push(compilePresenceFact(deps, file, f, def));
        break;
      case 'medication': {
        const fact = compileMedicationFact(deps, file, f, def);
        if (fact) extracted.push(fact);
        break;
      }
      case 'patient':
        extracted.push({ kind: 'patient', id: def.id, label: def.label, field: def.field, reads: ['Patient'] });
        break;
      case 'derived':
        break;
    }
  }
  return extracted;
}

const readsOf = (sources: readonly { resourceType: string }[]) => [...new Set(sources.map((s) => s.resourceType))];

function compileCodedFact({ problems, sources, window }: FactCompilers, file: string, f: string, def: CodedFactDefinition): CodedFactDef {
  const notAValue = (field: string, value: string) => problems.add(file, field, `'${value}' is not one of the fact's values`);
  return {
    kind: 'coded',
    id: def.id,
    label: def.label,
    values: def.values,
    select: def.select ?? 'newest',
    definitive: new Set(def.definitive ?? []),
    conflictWhenNewest: def.conflictWhenNewest ? new Set(def.conflictWhenNewest) : undefined,
    window: window(file, `${f}.window`, def.window),
    reads: readsOf(def.sources),
    sources: def.sources.map((source, i) => {
      const field = `${f}.sources[${i}]`;
      const answers = Object.entries(source.answers ?? {}).map(([value, ref]) => {
        if (!def.values.includes(value)) notAValue(`${field}.answers.${value}`, value);
        return { value, list: sources.codes(file, `${field}.answers.${value}`, ref, `${def.id}:${i}:${value}`)! };
      });
      const textAnswers = Object.entries(source.textAnswers ?? {}).map(([value, patterns]) => {
        if (!def.values.includes(value)) notAValue(`${field}.textAnswers.${value}`, value);
        return { value, patterns: sources.exactPatterns(file, `${field}.textAnswers.${value}`, patterns) };
      });
      if (source.value !== undefined && !def.values.includes(source.value)) notAValue(`${field}.value`, source.value);
      if (source.value === undefined && answers.length === 0 && textAnswers.length === 0) problems.add(file, field, 'needs value, answers or textAnswers');
      return {
        ...sources.base(file, field, source, `${def.id}:${i}`),
        codes: sources.codes(file, `${field}.codes`, source.codes, `${def.id}:${i}`)!,
        answer: sources.answer(file, `${field}.answer`, source.resourceType, source.answer),
        answers,
        textAnswers,
        constant: source.value,
      };
    }),
  };
}

function compileQuantityFact({ problems, sources, window }: FactCompilers, file: string, f: string, def: QuantityFactDefinition): QuantityFactDef {
  if (!def.unit && !def.unitless) problems.add(file, f, 'needs unit (UCUM) or unitless');
  if (def.unit && !UnitConverter.isValidUcum(def.unit)) problems.add(file, `${f}.unit`, `'${def.unit}' is not a valid UCUM unit`);
  if (def.select === 'lowest' && !def.window) problems.add(file, `${f}.window`, 'is required for select: lowest');
  return {
    kind: 'quantity',
    id: def.id,
    label: def.label,
    unit: def.unit,
    unitless: def.unitless,
    select: def.select,
    window: window(file, `${f}.window`, def.window),
    plausible: def.plausible as [number, number] | undefined,
    decimals: def.decimals ?? 2,
    referenceLow: def.referenceLow ?? false,
    reads: readsOf(def.sources),
    sources: def.sources.map((source, i) => ({
      ...sources.base(file, `${f}.sources[${i}]`, source, `${def.id}:${i}`),
      codes: sources.codes(file, `${f}.sources[${i}].codes`, source.codes, `${def.id}:${i}`)!,
      value: sources.path(file, `${f}.sources[${i}].value`, source.value ?? 'value.ofType(Quantity)')!,
      molarMass: source.molarMass,
    })),
  };
}

function compilePresenceFact({ problems, sources, window }: FactCompilers, file: string, f: string, def: PresenceFactDefinition): PresenceFactDef {
  return {
    kind: 'presence',
    id: def.id,
    label: def.label,
    window: window(file, `${f}.window`, def.window),
    reads: readsOf(def.sources),
    sources: def.sources.map((source, i) => {
      const field = `${f}.sources[${i}]`;
      if (source.codes === undefined && source.textMatch === undefined && source.profile === undefined) {
        problems.add(file, field, 'needs codes, textMatch or profile (otherwise every resource would count)');
      }
      // Search patterns match anywhere in the text (unlike textAnswers, which match the whole text).
      // Negations are removed everywhere in a text (global flag), compiled once at start-up.
      const searchPatterns = (what: string, patterns: string[], flags = 'i'): RegExp[] =>
        patterns.flatMap((pattern, k) => compileRegex(problems, file, `${field}.textMatch.${what}[${k}]`, pattern, flags));
      return {
        ...sources.base(file, field, source, `${def.id}:${i}`),
        textMatch: source.textMatch
          ? { patterns: searchPatterns('patterns', source.textMatch.patterns), negations: searchPatterns('negations', source.textMatch.negations ?? [], 'gi') }
          : undefined,
        profile: source.profile,
        unlessBodySite:
          source.unlessBodySite !== undefined ? sources.codes(file, `${field}.unlessBodySite`, source.unlessBodySite, `${def.id}:${i}:bodySite`) : undefined,
        answer: sources.answer(file, `${field}.answer`, source.resourceType, source.answer),
        answers: source.answers !== undefined ? sources.codes(file, `${field}.answers`, source.answers, `${def.id}:${i}:answers`) : undefined,
        textAnswers: source.textAnswers ? sources.exactPatterns(file, `${field}.textAnswers`, source.textAnswers) : undefined,
        window: window(file, `${field}.window`, source.window),
      };
    }),
  };
}

function compileMedicationFact(
  { problems, sources, window }: FactCompilers,
  file: string,
  f: string,
  def: MedicationFactDefinition,
): MedicationFactDef | undefined {
  const codes = sources.codes(file, `${f}.codes`, def.codes, def.id);
  if (!codes) return undefined;
  const evidence = def.currentEvidence;
  return {
    kind: 'medication',
    id: def.id,
    label: def.label,
    codes,
    recentDoseWindow: window(file, `${f}.recentDoseWindow`, def.recentDoseWindow),
    completedOrdersAreDoses: def.completedOrdersAreDoses ?? false,
    currentEvidence: evidence
      ? {
          administration: window(file, `${f}.currentEvidence.administration`, evidence.administration)!,
          statement: window(file, `${f}.currentEvidence.statement`, evidence.statement)!,
          order: window(file, `${f}.currentEvidence.order`, evidence.order)!,
          dispenseFactor: evidence.dispenseFactor,
          administrationByProduct: (evidence.administrationByProduct ?? []).flatMap((entry, k) => {
            const field = `${f}.currentEvidence.administrationByProduct[${k}]`;
            return compileRegex(problems, file, `${field}.pattern`, entry.pattern, 'i').map((pattern) => ({
              pattern,
              window: window(file, `${field}.window`, entry.window)!,
            }));
          }),
        }
      : undefined,
    sameDoseWithin: window(file, `${f}.sameDoseWithin`, def.sameDoseWithin),
    reads: MEDICATION_READS,
  };
}
