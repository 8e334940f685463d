import type { CodeList, CodeSystems } from '../fhir/codes';
import type { Duration } from '../fhir/dates';
import type { CompiledPath } from '../fhir/fhirpath';
import type { UnitConverter } from '../fhir/units';
import type { Calculator } from '../clinical/calculators';
import type { HookDefinition } from '../schemas/hook-definition';
import type { ConditionNode, Rule } from '../schemas/rule';
import type { EvidenceFile, OverrideReasonsFile, SeedStatementsFile } from '../schemas/rule';

/** The knowledge base after start-up validation: code lists compiled, FHIRPath compiled, settings resolved. */

interface SourceBase {
  resourceType: string;
  codes: CodeList;
  where: CompiledPath | undefined;
  date: CompiledPath;
}

export interface CodedSource extends SourceBase {
  answer: CompiledPath;
  answers: { value: string; list: CodeList }[];
  textAnswers: { value: string; patterns: RegExp[] }[];
  constant: string | undefined;
}

export interface QuantitySource extends SourceBase {
  value: CompiledPath;
  molarMass: number | undefined;
}

export interface TextMatch {
  patterns: RegExp[];
  negations: RegExp[];
}

export interface PresenceSource extends Omit<SourceBase, 'codes'> {
  /** Undefined: every resource of the type is a candidate. */
  codes: CodeList | undefined;
  textMatch: TextMatch | undefined;
  profile: string | undefined;
  unlessBodySite: CodeList | undefined;
  answer: CompiledPath;
  answers: CodeList | undefined;
  textAnswers: RegExp[] | undefined;
  window: Duration | undefined;
}

interface FactBase {
  id: string;
  label: string;
  /** Resource types this fact reads; if one could not be fetched, "absent" becomes "unknown". */
  reads: string[];
}

export interface CodedFactDef extends FactBase {
  kind: 'coded';
  values: string[];
  select: 'newest' | 'highest';
  definitive: ReadonlySet<string>;
  conflictWhenNewest: ReadonlySet<string> | undefined;
  window: Duration | undefined;
  sources: CodedSource[];
}

export interface QuantityFactDef extends FactBase {
  kind: 'quantity';
  unit: string | undefined;
  unitless: string[] | undefined;
  select: 'newest' | 'lowest';
  window: Duration | undefined;
  plausible: [number, number] | undefined;
  decimals: number;
  referenceLow: boolean;
  sources: QuantitySource[];
}

export interface PresenceFactDef extends FactBase {
  kind: 'presence';
  window: Duration | undefined;
  sources: PresenceSource[];
}

export interface CurrentEvidence {
  administration: Duration;
  statement: Duration;
  order: Duration;
  dispenseFactor: number;
  administrationByProduct: { pattern: RegExp; window: Duration }[];
}

export interface MedicationFactDef extends FactBase {
  kind: 'medication';
  codes: CodeList;
  recentDoseWindow: Duration | undefined;
  completedOrdersAreDoses: boolean;
  currentEvidence: CurrentEvidence | undefined;
  sameDoseWithin: Duration | undefined;
}

export interface PatientFactDef extends FactBase {
  kind: 'patient';
  field: 'birthDate' | 'gender' | 'sex';
}

export interface DerivedFactDef extends FactBase {
  kind: 'derived';
  calculatorName: string;
  calculator: Calculator;
  inputs: Record<string, string>;
  params: Record<string, unknown>;
}

export type FactDef = CodedFactDef | QuantityFactDef | PresenceFactDef | MedicationFactDef | PatientFactDef | DerivedFactDef;

/** Sub-facts a medication fact produces next to its own (active) value. */
export const MEDICATION_OUTPUTS = ['firstDose', 'lastDose', 'everGiven', 'since', 'doseCount', 'lastEvidence', 'stopReason'] as const;

/** A condition with every `{setting}` replaced by its value (durations parsed). */
export type ResolvedCondition = ConditionNode;

export interface CompiledRule extends Rule {
  ruleSet: string;
  /** Facts shown under "Facts used": those the condition reads, then the card's own list. */
  shownFacts: string[];
  /** Facts the condition checks for absence only (notTrue): listed when checked and not found. */
  absenceFacts: string[];
}

export interface CompiledRuleSet {
  id: string;
  rules: CompiledRule[];
  appendix: { id: string; when: ConditionNode; text: string; appliesTo: string[] | undefined }[];
}

export interface PrefetchTemplate {
  key: string;
  template: string;
  required: boolean;
  /** The FHIR resource type the query returns (used to mark data gaps). */
  resourceType: string;
  /** read (Patient/{{context.patientId}}) or search (Observation?…). */
  interaction: 'read' | 'search';
}

export interface CompiledService {
  id: string;
  hooks: string[];
  definition: HookDefinition;
  prefetch: PrefetchTemplate[];
  ruleSet: CompiledRuleSet;
  triggerMedication: CodeList | undefined;
}

export interface ResourceTemplate {
  template?: Record<string, unknown>;
  builder?: string;
  params?: Record<string, string | number>;
}

export interface Catalog {
  services: ReadonlyMap<string, CompiledService>;
  codeSystems: CodeSystems;
  codeLists: ReadonlyMap<string, CodeList>;
  /** Extraction order: extractor facts first, then derived facts in dependency order. */
  facts: FactDef[];
  factLabels: ReadonlyMap<string, string>;
  conditions: ReadonlyMap<string, ConditionNode>;
  ruleSets: ReadonlyMap<string, CompiledRuleSet>;
  evidence: EvidenceFile['evidence'];
  overrideReasons: OverrideReasonsFile;
  resources: Readonly<Record<string, ResourceTemplate>>;
  settings: ReadonlyMap<string, unknown>;
  seed: SeedStatementsFile;
  units: UnitConverter;
  /** Files read, for the start-up log and rules:check. */
  files: string[];
  /** Their texts by relative path: the SMART app compiles the same knowledge from them. */
  texts: Readonly<Record<string, string>>;
}
