import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';
import { parseDocument } from 'yaml';
import { CALCULATORS, coerceParam } from '../clinical/calculators';
import { CodeList, CodeSystems } from '../fhir/codes';
import { parseDuration, type Duration } from '../fhir/dates';
import { compilePath, fhirPathError, type CompiledPath } from '../fhir/fhirpath';
import { UnitConverter } from '../fhir/units';
import { placeholderError, placeholdersIn } from '../engine/render-template';
import { RESOURCE_BUILDERS } from '../clinical/resource-builders';
import { CodeListSchema, CodeSystemsSchema, UnitAliasesSchema, type CodeListFile, type CodeSystemsFile, type UnitAliasesFile } from '../schemas/code-list';
import {
  CodedFactSchema,
  DerivedFactSchema,
  FactMappingFileSchema,
  MappingDefaultsSchema,
  MedicationFactSchema,
  PatientFactSchema,
  PresenceFactSchema,
  QuantityFactSchema,
  type CodesRef,
  type FactDefinition,
  type MappingDefaults,
  type WindowRef,
} from '../schemas/fact-mapping';
import { HookDefinitionSchema, type HookDefinition, type HookName } from '../schemas/hook-definition';
import {
  EvidenceFileSchema,
  NamedConditionsFileSchema,
  OverrideReasonsFileSchema,
  ResourceTemplatesFileSchema,
  RuleFileSchema,
  RuleSchema,
  SeedStatementsFileSchema,
  SettingsFileSchema,
  type ConditionNode,
  type EvidenceFile,
  type OverrideReasonsFile,
  type ResourceTemplatesFile,
  type Rule,
  type RuleFile,
  type SeedStatementsFile,
} from '../schemas/rule';
import { createAjv, summarizeErrors } from './ajv';
import {
  DRAFT_FACTS,
  MEDICATION_OUTPUTS,
  type Catalog,
  type CompiledRule,
  type CompiledRuleSet,
  type CompiledService,
  type FactDef,
  type PrefetchTemplate,
} from './types';

/** Every problem found in the knowledge files, each naming the file and the field. */
export class KnowledgeError extends Error {
  constructor(readonly problems: string[]) {
    super(`[catalog] ${problems.length} problem(s) in the knowledge files:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'KnowledgeError';
  }
}

/** Token names a prefetch template may use (CDS Hooks 2.0 §Prefetch tokens; hook library context tables). */
const CONTEXT_TOKENS: Record<HookName, string[]> = {
  'patient-view': ['context.userId', 'context.patientId', 'context.encounterId'],
  'order-select': ['context.userId', 'context.patientId', 'context.encounterId'],
  'order-sign': ['context.userId', 'context.patientId', 'context.encounterId'],
};
const USER_TOKENS = ['userPractitionerId', 'userPractitionerRoleId', 'userPatientId', 'userRelatedPersonId'];

// MedicationDispense is only extra evidence of current use (revision 2): a client that does not send it
// leaves the facts as the orders, statements and administrations say, rather than all unknown.
const MEDICATION_READS = ['MedicationRequest', 'MedicationStatement', 'MedicationAdministration', 'Medication'];

class Problems {
  readonly list: string[] = [];
  add(file: string, field: string, message: string): void {
    this.list.push(`${file}: ${field}: ${message}`);
  }
}

function listYaml(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries
    .filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'))
    .sort()
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

export interface LoadOptions {
  /** Directory holding hooks/, fhir-mappings/ and rules/ (the project root by default). */
  root: string;
}

/**
 * Loads, validates and compiles the knowledge base at start-up. Any problem stops the service with a
 * message that names the file and the field; nothing is skipped or defaulted silently.
 */
export function loadCatalog({ root }: LoadOptions): Catalog {
  const problems = new Problems();
  const ajv = createAjv();
  const validators = new Map<TSchema, ValidateFunction>();
  const files: string[] = [];
  const rel = (path: string) => relative(root, path) || path;

  function read<T>(path: string, schema: TSchema): T | undefined {
    files.push(rel(path));
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      problems.add(rel(path), '(file)', 'cannot be read');
      return undefined;
    }
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      for (const error of doc.errors) problems.add(rel(path), `line ${error.linePos?.[0]?.line ?? '?'}`, error.message.split('\n')[0]!);
      return undefined;
    }
    const data = doc.toJS() as unknown;
    return check<T>(rel(path), data, schema);
  }

  function check<T>(file: string, data: unknown, schema: TSchema, prefix = ''): T | undefined {
    let validate = validators.get(schema);
    if (!validate) {
      validate = ajv.compile(schema);
      validators.set(schema, validate);
    }
    if (validate(data)) return data as T;
    for (const { field, message } of summarizeErrors(validate.errors)) {
      const full = prefix ? (field === '(root)' ? prefix : field.startsWith('[') ? `${prefix}${field}` : `${prefix}.${field}`) : field;
      problems.add(file, full, message);
    }
    return undefined;
  }

  const mappings = join(root, 'fhir-mappings');
  const rulesDir = join(root, 'rules');

  // --- code systems, units, defaults, code lists -------------------------------------------------
  const systemsFile = read<CodeSystemsFile>(join(mappings, 'code-systems.yaml'), CodeSystemsSchema);
  const codeSystems = new CodeSystems(systemsFile ?? { systems: [] });
  const unitsFile = read<UnitAliasesFile>(join(mappings, 'units.yaml'), UnitAliasesSchema);
  for (const [alias, target] of Object.entries(unitsFile?.aliases ?? {})) {
    if (!UnitConverter.isValidUcum(target)) problems.add('fhir-mappings/units.yaml', `aliases.${alias}`, `'${target}' is not a valid UCUM unit`);
  }
  const units = new UnitConverter(unitsFile?.aliases ?? {});
  const defaults = read<MappingDefaults>(join(mappings, 'defaults.yaml'), MappingDefaultsSchema);

  const codeLists = new Map<string, CodeList>();
  const codeListFiles = new Map<string, CodeListFile>();
  for (const path of listYaml(join(mappings, 'code-lists'))) {
    const file = read<CodeListFile>(path, CodeListSchema);
    if (!file) continue;
    const expected = basename(path).replace(/\.ya?ml$/, '');
    if (file.id !== expected) problems.add(rel(path), 'id', `must equal the file name ('${expected}')`);
    if (codeLists.has(file.id)) problems.add(rel(path), 'id', `duplicate code list id '${file.id}'`);
    codeLists.set(file.id, new CodeList(file, codeSystems));
    codeListFiles.set(file.id, file);
  }

  // --- settings ----------------------------------------------------------------------------------
  const settingsFile = read<{ settings: Record<string, unknown> }>(join(rulesDir, 'settings.yaml'), SettingsFileSchema);
  const settings = new Map<string, unknown>();
  const flatten = (prefix: string, value: unknown) => {
    if (prefix) settings.set(prefix, value);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, child] of Object.entries(value)) flatten(prefix ? `${prefix}.${key}` : key, child);
    }
  };
  flatten('', settingsFile?.settings ?? {});

  const resolveWindow = (file: string, field: string, ref: WindowRef | undefined): Duration | undefined => {
    if (ref === undefined) return undefined;
    const text = typeof ref === 'string' ? ref : settings.get(ref.setting);
    if (typeof text !== 'string') {
      problems.add(file, field, `setting '${typeof ref === 'string' ? ref : ref.setting}' is missing or not a duration`);
      return undefined;
    }
    try {
      return parseDuration(text);
    } catch (error) {
      problems.add(file, field, (error as Error).message);
      return undefined;
    }
  };

  // --- facts -------------------------------------------------------------------------------------
  const factSchemas: Record<string, TSchema> = {
    coded: CodedFactSchema,
    quantity: QuantityFactSchema,
    presence: PresenceFactSchema,
    medication: MedicationFactSchema,
    patient: PatientFactSchema,
    derived: DerivedFactSchema,
  };
  const rawFacts: { file: string; index: number; def: FactDefinition }[] = [];
  for (const path of listYaml(join(mappings, 'facts'))) {
    const file = read<{ facts: unknown[] }>(path, FactMappingFileSchema);
    if (!file) continue;
    file.facts.forEach((item, index) => {
      const kind = (item as { kind?: unknown })?.kind;
      const schema = typeof kind === 'string' ? factSchemas[kind] : undefined;
      if (!schema) {
        problems.add(rel(path), `facts[${index}].kind`, `must be one of ${Object.keys(factSchemas).join(', ')}`);
        return;
      }
      const def = check<FactDefinition>(rel(path), item, schema, `facts[${index}]`);
      if (def) rawFacts.push({ file: rel(path), index, def });
    });
  }

  const factLabels = new Map<string, string>();
  for (const [id, label] of Object.entries(DRAFT_FACTS)) factLabels.set(id, label);
  for (const { file, index, def } of rawFacts) {
    const ids = def.kind === 'medication' ? [def.id, ...MEDICATION_OUTPUTS.map((o) => `${def.id}.${o}`)] : [def.id];
    for (const id of ids) {
      if (factLabels.has(id)) problems.add(file, `facts[${index}].id`, `duplicate fact id '${id}'`);
      factLabels.set(id, def.label);
    }
  }

  const codesRef = (file: string, field: string, ref: CodesRef, inlineId: string): CodeList | undefined => {
    if (typeof ref === 'string') {
      const list = codeLists.get(ref);
      if (!list) problems.add(file, field, `unknown code list '${ref}'`);
      return list;
    }
    if (ref.every((item): item is string => typeof item === 'string')) {
      // Union of several lists: one list with all their codes, prefixes, names and exclusions.
      const parts = ref.map((id) => {
        const part = codeListFiles.get(id);
        if (!part) problems.add(file, field, `unknown code list '${id}'`);
        return part;
      });
      if (parts.some((p) => !p)) return undefined;
      const lists = parts as CodeListFile[];
      const merged: CodeListFile = {
        id: ref.join('+'),
        title: lists.map((l) => l.title).join(' + '),
        source: lists.flatMap((l) => l.source),
        status: lists.some((l) => l.status === 'unverified') ? 'unverified' : lists.some((l) => l.status === 'partial') ? 'partial' : 'verified',
        codes: lists.flatMap((l) => l.codes),
        codePrefixes: lists.flatMap((l) => l.codePrefixes ?? []),
        exclude: lists.flatMap((l) => l.exclude ?? []),
        names: lists.flatMap((l) => l.names ?? []),
        excludeNames: lists.flatMap((l) => l.excludeNames ?? []),
      };
      return new CodeList(merged, codeSystems);
    }
    return new CodeList({ id: inlineId, title: inlineId, source: ['inline'], status: 'verified', codes: ref as CodeListFile['codes'] }, codeSystems);
  };
  const path = (file: string, field: string, expression: string | undefined): CompiledPath | undefined => {
    if (expression === undefined) return undefined;
    const error = fhirPathError(expression);
    if (error) {
      problems.add(file, field, `FHIRPath does not compile: ${error}`);
      return undefined;
    }
    return compilePath(expression);
  };
  const defaultsFor = (file: string, field: string, resourceType: string) => {
    const d = defaults?.resourceTypes[resourceType];
    if (!d) problems.add(file, field, `no defaults for resource type ${resourceType} in fhir-mappings/defaults.yaml`);
    return d ?? { date: 'id' };
  };
  const compiledDefaults = new Map<string, { where?: CompiledPath; date: CompiledPath; answer?: CompiledPath }>();
  for (const [type, d] of Object.entries(defaults?.resourceTypes ?? {})) {
    const field = `resourceTypes.${type}`;
    const where = path('fhir-mappings/defaults.yaml', `${field}.where`, d.where);
    const date = path('fhir-mappings/defaults.yaml', `${field}.date`, d.date);
    const answer = path('fhir-mappings/defaults.yaml', `${field}.answer`, d.answer);
    compiledDefaults.set(type, { ...(where ? { where } : {}), date: date ?? compilePath('{}'), ...(answer ? { answer } : {}) });
  }
  const sourceBase = (file: string, field: string, source: { resourceType: string; codes?: CodesRef; where?: string; date?: string }, inlineId: string) => {
    defaultsFor(file, `${field}.resourceType`, source.resourceType);
    const d = compiledDefaults.get(source.resourceType);
    return {
      resourceType: source.resourceType,
      codes: source.codes === undefined ? undefined : codesRef(file, `${field}.codes`, source.codes, inlineId),
      where: source.where !== undefined ? path(file, `${field}.where`, source.where) : d?.where,
      date: (source.date !== undefined ? path(file, `${field}.date`, source.date) : d?.date) ?? compilePath('{}'),
    };
  };
  const regexes = (file: string, field: string, patterns: string[]): RegExp[] =>
    patterns.flatMap((pattern, i) => {
      try {
        return [new RegExp(`^(?:${pattern})$`, 'i')];
      } catch (error) {
        problems.add(file, `${field}[${i}]`, `invalid regular expression: ${(error as Error).message}`);
        return [];
      }
    });

  const extracted: FactDef[] = [];
  const derivedDefs: { file: string; index: number; def: Extract<FactDefinition, { kind: 'derived' }> }[] = [];
  for (const { file, index, def } of rawFacts) {
    const f = `facts[${index}]`;
    switch (def.kind) {
      case 'coded':
        extracted.push({
          kind: 'coded',
          id: def.id,
          label: def.label,
          values: def.values,
          select: def.select ?? 'newest',
          definitive: new Set(def.definitive ?? []),
          conflictWhenNewest: def.conflictWhenNewest ? new Set(def.conflictWhenNewest) : undefined,
          window: resolveWindow(file, `${f}.window`, def.window),
          reads: [...new Set(def.sources.map((s) => s.resourceType))],
          sources: def.sources.map((source, i) => {
            const field = `${f}.sources[${i}]`;
            const answers = Object.entries(source.answers ?? {}).map(([value, ref]) => {
              if (!def.values.includes(value)) problems.add(file, `${field}.answers.${value}`, `'${value}' is not one of the fact's values`);
              return { value, list: codesRef(file, `${field}.answers.${value}`, ref, `${def.id}:${i}:${value}`)! };
            });
            const textAnswers = Object.entries(source.textAnswers ?? {}).map(([value, patterns]) => {
              if (!def.values.includes(value)) problems.add(file, `${field}.textAnswers.${value}`, `'${value}' is not one of the fact's values`);
              return { value, patterns: regexes(file, `${field}.textAnswers.${value}`, patterns) };
            });
            if (source.value !== undefined && !def.values.includes(source.value)) problems.add(file, `${field}.value`, `'${source.value}' is not one of the fact's values`);
            if (source.value === undefined && answers.length === 0 && textAnswers.length === 0) problems.add(file, field, 'needs value, answers or textAnswers');
            return {
              ...sourceBase(file, field, source, `${def.id}:${i}`),
              codes: codesRef(file, `${field}.codes`, source.codes, `${def.id}:${i}`)!,
              answer: path(file, `${field}.answer`, source.answer) ?? compiledDefaults.get(source.resourceType)?.answer ?? compilePath('value'),
              answers,
              textAnswers,
              constant: source.value,
            };
          }),
        });
        break;
      case 'quantity':
        if (!def.unit && !def.unitless) problems.add(file, f, 'needs unit (UCUM) or unitless');
        if (def.unit && !UnitConverter.isValidUcum(def.unit)) problems.add(file, `${f}.unit`, `'${def.unit}' is not a valid UCUM unit`);
        if (def.select === 'lowest' && !def.window) problems.add(file, `${f}.window`, 'is required for select: lowest');
        extracted.push({
          kind: 'quantity',
          id: def.id,
          label: def.label,
          unit: def.unit,
          unitless: def.unitless,
          select: def.select,
          window: resolveWindow(file, `${f}.window`, def.window),
          plausible: def.plausible as [number, number] | undefined,
          decimals: def.decimals ?? 2,
          referenceLow: def.referenceLow ?? false,
          reads: [...new Set(def.sources.map((s) => s.resourceType))],
          sources: def.sources.map((source, i) => ({
            ...sourceBase(file, `${f}.sources[${i}]`, source, `${def.id}:${i}`),
            codes: codesRef(file, `${f}.sources[${i}].codes`, source.codes, `${def.id}:${i}`)!,
            value: path(file, `${f}.sources[${i}].value`, source.value ?? 'value.ofType(Quantity)')!,
            molarMass: source.molarMass,
          })),
        });
        break;
      case 'presence':
        extracted.push({
          kind: 'presence',
          id: def.id,
          label: def.label,
          window: resolveWindow(file, `${f}.window`, def.window),
          reads: [...new Set(def.sources.map((s) => s.resourceType))],
          sources: def.sources.map((source, i) => {
            const field = `${f}.sources[${i}]`;
            if (source.codes === undefined && source.textMatch === undefined && source.profile === undefined) {
              problems.add(file, field, 'needs codes, textMatch or profile (otherwise every resource would count)');
            }
            const searchRegexes = (what: string, patterns: string[]): RegExp[] =>
              patterns.flatMap((pattern, k) => {
                try {
                  return [new RegExp(pattern, 'i')];
                } catch (error) {
                  problems.add(file, `${field}.textMatch.${what}[${k}]`, `invalid regular expression: ${(error as Error).message}`);
                  return [];
                }
              });
            return {
              ...sourceBase(file, field, source, `${def.id}:${i}`),
              textMatch: source.textMatch
                ? { patterns: searchRegexes('patterns', source.textMatch.patterns), negations: searchRegexes('negations', source.textMatch.negations ?? []) }
                : undefined,
              profile: source.profile,
              unlessBodySite: source.unlessBodySite !== undefined ? codesRef(file, `${field}.unlessBodySite`, source.unlessBodySite, `${def.id}:${i}:bodySite`) : undefined,
              answer: path(file, `${field}.answer`, source.answer) ?? compiledDefaults.get(source.resourceType)?.answer ?? compilePath('value'),
              answers: source.answers !== undefined ? codesRef(file, `${field}.answers`, source.answers, `${def.id}:${i}:answers`) : undefined,
              textAnswers: source.textAnswers ? regexes(file, `${field}.textAnswers`, source.textAnswers) : undefined,
              window: resolveWindow(file, `${field}.window`, source.window),
            };
          }),
        });
        break;
      case 'medication': {
        const codes = codesRef(file, `${f}.codes`, def.codes, def.id);
        if (codes) {
          extracted.push({
            kind: 'medication',
            id: def.id,
            label: def.label,
            codes,
            recentDoseWindow: resolveWindow(file, `${f}.recentDoseWindow`, def.recentDoseWindow),
            completedOrdersAreDoses: def.completedOrdersAreDoses ?? false,
            currentEvidence: def.currentEvidence
              ? {
                  administration: resolveWindow(file, `${f}.currentEvidence.administration`, def.currentEvidence.administration)!,
                  statement: resolveWindow(file, `${f}.currentEvidence.statement`, def.currentEvidence.statement)!,
                  order: resolveWindow(file, `${f}.currentEvidence.order`, def.currentEvidence.order)!,
                  dispenseFactor: def.currentEvidence.dispenseFactor,
                  administrationByProduct: (def.currentEvidence.administrationByProduct ?? []).flatMap((entry, k) => {
                    const field = `${f}.currentEvidence.administrationByProduct[${k}]`;
                    try {
                      return [{ pattern: new RegExp(entry.pattern, 'i'), window: resolveWindow(file, `${field}.window`, entry.window)! }];
                    } catch (error) {
                      problems.add(file, `${field}.pattern`, `invalid regular expression: ${(error as Error).message}`);
                      return [];
                    }
                  }),
                }
              : undefined,
            sameDoseWithin: resolveWindow(file, `${f}.sameDoseWithin`, def.sameDoseWithin),
            reads: MEDICATION_READS,
          });
        }
        break;
      }
      case 'patient':
        extracted.push({ kind: 'patient', id: def.id, label: def.label, field: def.field, reads: ['Patient'] });
        break;
      case 'derived':
        derivedDefs.push({ file, index, def });
        break;
    }
  }

  // Derived facts: check calculators and inputs, then order them so inputs come first.
  const derived: FactDef[] = [];
  const pending = new Map(derivedDefs.map((d) => [d.def.id, d]));
  const available = new Set([...extracted.flatMap((d) => (d.kind === 'medication' ? [d.id, ...MEDICATION_OUTPUTS.map((o) => `${d.id}.${o}`)] : [d.id])), ...Object.keys(DRAFT_FACTS)]);
  for (const { file, index, def } of derivedDefs) {
    const f = `facts[${index}]`;
    const calculator = CALCULATORS[def.calculator];
    if (!calculator) {
      problems.add(file, `${f}.calculator`, `unknown calculator '${def.calculator}' (known: ${Object.keys(CALCULATORS).join(', ')})`);
      pending.delete(def.id);
      continue;
    }
    const given = Object.keys(def.inputs).sort().join(',');
    const expected = [...calculator.inputs].sort().join(',');
    if (given !== expected) problems.add(file, `${f}.inputs`, `calculator '${def.calculator}' takes inputs ${expected}`);
    for (const [name, id] of Object.entries(def.inputs)) if (!factLabels.has(id)) problems.add(file, `${f}.inputs.${name}`, `unknown fact '${id}'`);
  }
  let progressed = true;
  while (pending.size > 0 && progressed) {
    progressed = false;
    for (const [id, { file, index, def }] of pending) {
      if (!Object.values(def.inputs).every((input) => available.has(input) || !factLabels.has(input))) continue;
      const calculator = CALCULATORS[def.calculator]!;
      const params: Record<string, unknown> = {};
      for (const [name, type] of Object.entries(calculator.params)) {
        const raw = def.params?.[name];
        const field = `facts[${index}].params.${name}`;
        if (raw === undefined) {
          problems.add(file, field, `is required by calculator '${def.calculator}'`);
          continue;
        }
        const value = raw !== null && typeof raw === 'object' && 'setting' in raw ? settings.get(String((raw as { setting: unknown }).setting)) : raw;
        try {
          params[name] = coerceParam(type, value);
        } catch (error) {
          problems.add(file, field, `${(error as Error).message}${value === undefined ? ' (setting not found)' : ''}`);
        }
      }
      for (const name of Object.keys(def.params ?? {})) {
        if (!(name in calculator.params)) problems.add(file, `facts[${index}].params.${name}`, `calculator '${def.calculator}' has no parameter '${name}'`);
      }
      derived.push({ kind: 'derived', id, label: def.label, calculatorName: def.calculator, calculator, inputs: def.inputs, params, reads: [] });
      available.add(id);
      pending.delete(id);
      progressed = true;
    }
  }
  for (const { file, index } of pending.values()) problems.add(file, `facts[${index}].inputs`, 'derived facts depend on each other in a cycle');

  // --- named conditions, evidence, override reasons, resources, seed --------------------------
  const conditionsFile = read<{ conditions: Record<string, ConditionNode> }>(join(rulesDir, 'conditions.yaml'), NamedConditionsFileSchema);
  const evidence = read<EvidenceFile>(join(rulesDir, 'evidence.yaml'), EvidenceFileSchema)?.evidence ?? {};
  const overrideReasons = read<OverrideReasonsFile>(join(rulesDir, 'override-reasons.yaml'), OverrideReasonsFileSchema) ?? { system: 'urn:invalid', reasons: {} };
  const resourcesFile = read<ResourceTemplatesFile>(join(rulesDir, 'resources.yaml'), ResourceTemplatesFileSchema);
  const seed = read<SeedStatementsFile>(join(rulesDir, 'seed-statements.yaml'), SeedStatementsFileSchema) ?? { document: '', statements: {} };

  const conditions = new Map<string, ConditionNode>();
  const rawConditions = conditionsFile?.conditions ?? {};

  /** Checks a condition's references and replaces settings and durations with their values. */
  const resolveCondition = (file: string, field: string, node: ConditionNode): ConditionNode => {
    if ('all' in node) return { all: node.all.map((c, i) => resolveCondition(file, `${field}.all[${i}]`, c)) };
    if ('any' in node) return { any: node.any.map((c, i) => resolveCondition(file, `${field}.any[${i}]`, c)) };
    if ('not' in node) return { not: resolveCondition(file, `${field}.not`, node.not) };
    if ('notTrue' in node) return { notTrue: resolveCondition(file, `${field}.notTrue`, node.notTrue) };
    if ('ref' in node) {
      if (!(node.ref in rawConditions)) problems.add(file, `${field}.ref`, `unknown condition '${node.ref}'`);
      return node;
    }
    if (!factLabels.has(node.fact)) problems.add(file, `${field}.fact`, `unknown fact '${node.fact}'`);
    const out: Record<string, unknown> = { ...node };
    for (const op of ['lt', 'lte', 'gt', 'gte'] as const) {
      const bound = node[op];
      if (bound !== undefined && typeof bound === 'object') {
        const value = settings.get(bound.setting);
        if (typeof value !== 'number') problems.add(file, `${field}.${op}`, `setting '${bound.setting}' is missing or not a number`);
        out[op] = value;
      }
    }
    for (const op of ['olderThan', 'within'] as const) {
      const bound = node[op];
      if (bound !== undefined) out[op] = resolveWindow(file, `${field}.${op}`, bound);
    }
    return out as unknown as ConditionNode;
  };
  for (const [name, node] of Object.entries(rawConditions)) conditions.set(name, resolveCondition('rules/conditions.yaml', `conditions.${name}`, node));
  // Cycles among named conditions would recurse forever at request time: refuse them at start-up.
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (name: string, node: ConditionNode | undefined, trail: string[]): void => {
    if (!node) return;
    if ('all' in node) node.all.forEach((c) => visit(name, c, trail));
    else if ('any' in node) node.any.forEach((c) => visit(name, c, trail));
    else if ('not' in node) visit(name, node.not, trail);
    else if ('notTrue' in node) visit(name, node.notTrue, trail);
    else if ('ref' in node) {
      if (visiting.has(node.ref)) {
        problems.add('rules/conditions.yaml', `conditions.${trail[0]}`, `conditions refer to each other in a cycle (${[...trail, node.ref].join(' → ')})`);
        return;
      }
      if (done.has(node.ref)) return;
      visiting.add(node.ref);
      visit(node.ref, rawConditions[node.ref], [...trail, node.ref]);
      visiting.delete(node.ref);
      done.add(node.ref);
    }
  };
  for (const name of Object.keys(rawConditions)) {
    visiting.add(name);
    visit(name, rawConditions[name], [name]);
    visiting.delete(name);
    done.add(name);
  }

  const resources: Record<string, Catalog['resources'][string]> = {};
  for (const [id, spec] of Object.entries(resourcesFile?.resources ?? {})) {
    if ('builder' in spec) {
      const builder = RESOURCE_BUILDERS[spec.builder];
      if (!builder) {
        problems.add('rules/resources.yaml', `resources.${id}.builder`, `unknown builder '${spec.builder}'`);
        continue;
      }
      for (const [name, kind] of Object.entries(builder.params)) {
        const value = spec.params?.[name];
        const field = `resources.${id}.params.${name}`;
        if (typeof value !== 'string') problems.add('rules/resources.yaml', field, `is required (${kind} name)`);
        else if (kind === 'condition' && !(value in rawConditions)) problems.add('rules/resources.yaml', field, `unknown condition '${value}'`);
        else if (kind === 'fact' && !factLabels.has(value)) problems.add('rules/resources.yaml', field, `unknown fact '${value}'`);
        else if (kind === 'setting' && !settings.has(value)) problems.add('rules/resources.yaml', field, `unknown setting '${value}'`);
      }
      resources[id] = { builder: spec.builder, ...(spec.params ? { params: spec.params } : {}) };
    } else {
      for (const placeholder of placeholdersIn(JSON.stringify(spec.template))) {
        const error = placeholderError(placeholder, new Set(factLabels.keys()), settings);
        if (error) problems.add('rules/resources.yaml', `resources.${id}.template`, error);
      }
      resources[id] = { template: spec.template };
    }
  }

  // --- rule sets ---------------------------------------------------------------------------------
  const ruleSets = new Map<string, CompiledRuleSet>();
  const ruleIds = new Set<string>();
  const implemented = new Set<string>();
  /**
   * Facts a condition reads. Those reached only through `notTrue` are absence checks (no metastasis,
   * no contraindication): shown when checked and absent, not listed as "missing" when unknown.
   */
  const factsOf = (node: ConditionNode, out: { positive: string[]; absence: string[] }, underNotTrue = false, seen = new Set<string>()) => {
    if ('all' in node) node.all.forEach((c) => factsOf(c, out, underNotTrue, seen));
    else if ('any' in node) node.any.forEach((c) => factsOf(c, out, underNotTrue, seen));
    else if ('not' in node) factsOf(node.not, out, underNotTrue, seen);
    else if ('notTrue' in node) factsOf(node.notTrue, out, true, seen);
    else if ('ref' in node) {
      const key = `${node.ref}:${underNotTrue}`;
      if (!seen.has(key) && conditions.has(node.ref)) {
        seen.add(key);
        factsOf(conditions.get(node.ref)!, out, underNotTrue, seen);
      }
    } else {
      const list = underNotTrue ? out.absence : out.positive;
      if (!list.includes(node.fact)) list.push(node.fact);
    }
    return out;
  };
  const checkText = (file: string, field: string, text: string) => {
    for (const placeholder of placeholdersIn(text)) {
      const error = placeholderError(placeholder, new Set(factLabels.keys()), settings);
      if (error) problems.add(file, field, error);
    }
  };
  for (const filePath of listYaml(join(rulesDir, 'sets'))) {
    const file = rel(filePath);
    const ruleFile = read<RuleFile>(filePath, RuleFileSchema);
    if (!ruleFile) continue;
    if (ruleSets.has(ruleFile.ruleSet)) problems.add(file, 'ruleSet', `duplicate rule set '${ruleFile.ruleSet}'`);
    const rules: CompiledRule[] = [];
    ruleFile.rules.forEach((raw, index) => {
      const rule = check<Rule>(file, raw, RuleSchema, `rules[${index}]`);
      if (!rule) return;
      const f = `rules[${index}]`;
      if (ruleIds.has(rule.id)) problems.add(file, `${f}.id`, `duplicate rule id '${rule.id}'`);
      ruleIds.add(rule.id);
      for (const id of rule.implements) {
        if (!(id in seed.statements)) problems.add(file, `${f}.implements`, `unknown seed statement '${id}'`);
        implemented.add(id);
      }
      rule.card.evidence.forEach((id, i) => {
        if (!evidence[id]) problems.add(file, `${f}.card.evidence[${i}]`, `unknown evidence '${id}' (rules/evidence.yaml)`);
      });
      (rule.card.overrideReasons ?? []).forEach((id, i) => {
        if (!overrideReasons.reasons[id]) problems.add(file, `${f}.card.overrideReasons[${i}]`, `unknown override reason '${id}'`);
      });
      (rule.card.suggestions ?? []).forEach((s, i) =>
        s.actions.forEach((a, j) => {
          const field = `${f}.card.suggestions[${i}].actions[${j}]`;
          if (a.type === 'delete') {
            if (!a.resourceId || a.resource) problems.add(file, field, 'a delete action needs resourceId (and no resource)');
            else checkText(file, `${field}.resourceId`, a.resourceId);
          } else if (!a.resource) problems.add(file, `${field}.resource`, `is required for ${a.type}`);
          else if (!resources[a.resource]) problems.add(file, `${field}.resource`, `unknown resource template '${a.resource}'`);
          checkText(file, `${field}.description`, a.description);
        }),
      );
      for (const [i, id] of [...(rule.card.facts ?? []), ...(rule.card.prerequisites ?? [])].entries()) {
        if (!factLabels.has(id)) problems.add(file, `${f}.card.facts/prerequisites[${i}]`, `unknown fact '${id}'`);
      }
      checkText(file, `${f}.card.summary`, rule.card.summary);
      checkText(file, `${f}.card.detail`, rule.card.detail);
      const when = resolveCondition(file, `${f}.when`, rule.when);
      const variants = rule.variants?.map((v, i) => {
        if (v.summary) checkText(file, `${f}.variants[${i}].summary`, v.summary);
        return { ...v, when: resolveCondition(file, `${f}.variants[${i}].when`, v.when) };
      });
      const read = factsOf(when, { positive: [], absence: [] });
      const shownFacts = [...read.positive];
      for (const id of rule.card.facts ?? []) if (!shownFacts.includes(id)) shownFacts.push(id);
      const absenceFacts = read.absence.filter((id) => !shownFacts.includes(id));
      const suggestions = rule.card.suggestions?.map((sg, i) => {
        checkText(file, `${f}.card.suggestions[${i}].label`, sg.label);
        return sg.when ? { ...sg, when: resolveCondition(file, `${f}.card.suggestions[${i}].when`, sg.when as ConditionNode) } : sg;
      });
      const card = suggestions ? { ...rule.card, suggestions } : rule.card;
      rules.push({ ...rule, card, when, ...(variants ? { variants } : {}), ruleSet: ruleFile.ruleSet, shownFacts, absenceFacts });
    });
    const appendix = (ruleFile.appendix ?? []).map((a, i) => {
      checkText(file, `appendix[${i}].text`, a.text);
      for (const id of a.appliesTo ?? []) if (!rules.some((r) => r.id === id)) problems.add(file, `appendix[${i}].appliesTo`, `unknown rule '${id}' in this set`);
      for (const id of a.implements ?? []) {
        if (!(id in seed.statements)) problems.add(file, `appendix[${i}].implements`, `unknown seed statement '${id}'`);
        implemented.add(id);
      }
      return { id: a.id, when: resolveCondition(file, `appendix[${i}].when`, a.when), text: a.text, appliesTo: a.appliesTo };
    });
    ruleSets.set(ruleFile.ruleSet, { id: ruleFile.ruleSet, rules, appendix });
  }
  for (const [id, statement] of Object.entries(seed.statements)) {
    if (!implemented.has(id) && !statement.noRuleBecause) problems.add('rules/seed-statements.yaml', `statements.${id}`, 'no rule implements it and noRuleBecause is not given');
  }

  // --- hooks -------------------------------------------------------------------------------------
  const services = new Map<string, CompiledService>();
  for (const filePath of listYaml(join(root, 'hooks'))) {
    const file = rel(filePath);
    const def = read<HookDefinition>(filePath, HookDefinitionSchema);
    if (!def) continue;
    const expected = basename(filePath).replace(/\.ya?ml$/, '');
    if (def.id !== expected) problems.add(file, 'id', `must equal the file name ('${expected}')`);
    if (services.has(def.id)) problems.add(file, 'id', `duplicate service id '${def.id}'`);
    if (def.hooks.length > 1) problems.add(file, 'hooks', 'must list one hook: clients key services by id, so one id under several hooks hides all but one (write one file per hook)');
    const ruleSet = ruleSets.get(def.config.ruleSet);
    if (!ruleSet) problems.add(file, 'config.ruleSet', `unknown rule set '${def.config.ruleSet}'`);
    const prefetch: PrefetchTemplate[] = [];
    for (const [key, template] of Object.entries(def.prefetch)) {
      const allowed = new Set([...def.hooks.flatMap((h) => CONTEXT_TOKENS[h]), ...USER_TOKENS]);
      for (const token of [...template.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].map((m) => m[1]!)) {
        if (!allowed.has(token)) problems.add(file, `prefetch.${key}`, `'{{${token}}}' is not a CDS Hooks 2.0 prefetch token for ${def.hooks.join('/')}`);
      }
      const read = /^([A-Z][A-Za-z]+)\/\{\{[^}]+\}\}$/.exec(template);
      const search = /^([A-Z][A-Za-z]+)\?/.exec(template);
      if (!read && !search) problems.add(file, `prefetch.${key}`, 'must be a read (Type/{{token}}) or a search (Type?params)');
      prefetch.push({
        key,
        template,
        required: def.config.requiredPrefetch.includes(key),
        resourceType: (read ?? search)?.[1] ?? 'Unknown',
        interaction: read ? 'read' : 'search',
      });
    }
    for (const key of def.config.requiredPrefetch) if (!(key in def.prefetch)) problems.add(file, 'config.requiredPrefetch', `'${key}' is not a prefetch key`);
    let triggerMedication: CodeList | undefined;
    if (def.config.triggerMedication) {
      triggerMedication = codeLists.get(def.config.triggerMedication);
      if (!triggerMedication) problems.add(file, 'config.triggerMedication', `unknown code list '${def.config.triggerMedication}'`);
    }
    const ordering = def.hooks.some((h) => h !== 'patient-view');
    if (ordering && !triggerMedication) problems.add(file, 'config.triggerMedication', 'is required for order-select / order-sign services');
    if (ruleSet) services.set(def.id, { id: def.id, hooks: def.hooks, definition: def, prefetch, ruleSet, triggerMedication });
  }
  if (services.size === 0) problems.add('hooks/', '(directory)', 'defines no service');

  if (problems.list.length > 0) throw new KnowledgeError(problems.list);
  return {
    services,
    codeSystems,
    codeLists,
    facts: [...extracted, ...derived],
    factLabels,
    conditions,
    ruleSets,
    evidence,
    overrideReasons,
    resources,
    settings,
    seed,
    units,
    files,
  };
}
