import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { CodingSchema, DurationSchema, FactIdSchema } from './common';

/** A window: an ISO duration (P30D, P6M, P2Y) or a rules/settings.yaml entry that holds one. */
const WindowSchema = Type.Union([
  DurationSchema,
  Type.Object({ setting: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
]);
export type WindowRef = Static<typeof WindowSchema>;

const ResourceTypeSchema = Type.Union([
  Type.Literal('Condition'),
  Type.Literal('Observation'),
  Type.Literal('Procedure'),
  Type.Literal('AllergyIntolerance'),
  Type.Literal('ServiceRequest'),
  Type.Literal('FamilyMemberHistory'),
]);

const CodeListIdSchema = Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' });

/** A code list id (fhir-mappings/code-lists/<id>.yaml), several ids (their union), or codes written inline. */
const CodesRefSchema = Type.Union([
  CodeListIdSchema,
  Type.Array(CodeListIdSchema, { minItems: 1 }),
  Type.Array(CodingSchema, { minItems: 1 }),
]);
export type CodesRef = Static<typeof CodesRefSchema>;

const FhirPathSchema = Type.String({ minLength: 1 });

/** Common to every resource source: which resources are candidates, and how to read them. */
const sourceBase = {
  resourceType: ResourceTypeSchema,
  /** Selects candidate resources through the per-request index (by code); FHIRPath runs only on them. */
  codes: CodesRefSchema,
  /** FHIRPath filter; defaults per resource type are in fhir-mappings/defaults.yaml. */
  where: Type.Optional(FhirPathSchema),
  /** FHIRPath giving the clinically relevant date; defaults per resource type. */
  date: Type.Optional(FhirPathSchema),
};

/** Maps a result to one of the fact's values: by answer code, by text, or a constant. */
const CodedSourceSchema = Type.Object(
  {
    ...sourceBase,
    /** FHIRPath giving the answer (CodeableConcept, Coding or string); default "value". */
    answer: Type.Optional(FhirPathSchema),
    answers: Type.Optional(Type.Record(Type.String(), CodesRefSchema)),
    /** Anchored, case-insensitive regular expressions over a string answer or CodeableConcept.text. */
    textAnswers: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String({ minLength: 1 })))),
    /** The value every matching resource means (e.g. Condition Z17.31 means HER2 positive). */
    value: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
export type CodedSource = Static<typeof CodedSourceSchema>;

const factBase = {
  id: FactIdSchema,
  label: Type.String({ minLength: 1 }),
  description: Type.Optional(Type.String()),
};

export const CodedFactSchema = Type.Object(
  {
    ...factBase,
    kind: Type.Literal('coded'),
    /** The possible values; with select: highest, in ascending order of severity. */
    values: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    /** newest (default): the newest result wins. highest: the most advanced value ever documented (staging). */
    select: Type.Optional(Type.Union([Type.Literal('newest'), Type.Literal('highest')])),
    /** Values that settle the question; only a disagreement between these is a conflict. */
    definitive: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    /**
     * Only a newest value in this list makes a disagreement a conflict (HER2: a newer negative after a
     * positive, common after neoadjuvant therapy); a newer value outside it simply decides. Default: all.
     */
    conflictWhenNewest: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    /** Older than this, the newest value is `stale`. */
    window: Type.Optional(WindowSchema),
    sources: Type.Array(CodedSourceSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

const QuantitySourceSchema = Type.Object(
  {
    ...sourceBase,
    /** FHIRPath giving the Quantity; default "value.ofType(Quantity)". */
    value: Type.Optional(FhirPathSchema),
    /** g/mol, for converting amount-of-substance units (µmol/L) to mass units (mg/dL) with UCUM. */
    molarMass: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  },
  { additionalProperties: false },
);
export type QuantitySource = Static<typeof QuantitySourceSchema>;

export const QuantityFactSchema = Type.Object(
  {
    ...factBase,
    kind: Type.Literal('quantity'),
    /** Target UCUM unit; every value is converted with UCUM or the result is not used. */
    unit: Type.Optional(Type.String({ minLength: 1 })),
    /** Dimensionless scores (T-score): accept no unit, "1", an annotation {…} or one of these labels. */
    unitless: Type.Optional(Type.Array(Type.String())),
    select: Type.Union([Type.Literal('newest'), Type.Literal('lowest')]),
    /** newest: older is `stale`. lowest: only results inside the window count. */
    window: Type.Optional(WindowSchema),
    /** Plausible range in the target unit; a value outside it is not used (reported). */
    plausible: Type.Optional(Type.Tuple([Type.Number(), Type.Number()])),
    decimals: Type.Optional(Type.Integer({ minimum: 0, maximum: 4 })),
    /** Keep the lab's lower reference limit (referenceRange.low, converted) of the value used. */
    referenceLow: Type.Optional(Type.Boolean()),
    sources: Type.Array(QuantitySourceSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

/**
 * Free-text evidence (revision 2: metastasis written only as text). Patterns are case-insensitive
 * regular expressions searched anywhere in code.text and Coding.display; a text that matches one of
 * `negations` or `ignore` (negated or node-only mentions) is removed before the patterns are tried.
 */
const TextMatchSchema = Type.Object(
  {
    patterns: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    negations: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  { additionalProperties: false },
);

const PresenceSourceSchema = Type.Object(
  {
    ...sourceBase,
    /** Omitted: every resource of the type is a candidate (with textMatch or profile). */
    codes: Type.Optional(CodesRefSchema),
    /** Only resources whose text matches (after negations are removed) count; the text is quoted. */
    textMatch: Type.Optional(TextMatchSchema),
    /** Only resources claiming this profile (meta.profile, version ignored) count. */
    profile: Type.Optional(Type.String({ minLength: 1 })),
    /** Resources whose bodySite is in this list do not count (e.g. regional lymph nodes). */
    unlessBodySite: Type.Optional(CodesRefSchema),
    answer: Type.Optional(FhirPathSchema),
    /** When set, the resource counts only if its answer is in this list (e.g. hCG positive). */
    answers: Type.Optional(CodesRefSchema),
    textAnswers: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    /** Only resources of this source dated within the window count (e.g. hCG within 30 days). */
    window: Type.Optional(WindowSchema),
  },
  { additionalProperties: false },
);
export type PresenceSource = Static<typeof PresenceSourceSchema>;

export const PresenceFactSchema = Type.Object(
  {
    ...factBase,
    kind: Type.Literal('presence'),
    /** Only resources dated within the window count (undated ones do not). */
    window: Type.Optional(WindowSchema),
    sources: Type.Array(PresenceSourceSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export const MedicationFactSchema = Type.Object(
  {
    ...factBase,
    kind: Type.Literal('medication'),
    codes: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' }),
    /** A dose (administration, statement) within this window also makes the therapy current. */
    recentDoseWindow: Type.Optional(WindowSchema),
    /** One-off infusion orders are often closed as `completed` once given: count them as doses. */
    completedOrdersAreDoses: Type.Optional(Type.Boolean()),
    /**
     * Revision 2: "current" needs recent evidence of use. An administration within `administration`
     * (1.5 × the dosing interval), a dispense whose days' supply × `dispenseFactor` covers today, a
     * statement within `statement` of its effective date or date asserted, an active order authored
     * within `order`. Older evidence only: the fact is `stale` ("last evidence: order of <date>").
     */
    currentEvidence: Type.Optional(
      Type.Object(
        {
          administration: WindowSchema,
          statement: WindowSchema,
          order: WindowSchema,
          dispenseFactor: Type.Number({ minimum: 1 }),
          /** Products given more often than the class default (e.g. monthly GnRH depots): text pattern → window. */
          administrationByProduct: Type.Optional(
            Type.Array(Type.Object({ pattern: Type.String({ minLength: 1 }), window: WindowSchema }, { additionalProperties: false })),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    /** Doses closer together than this are one dose recorded twice (an administration and its order). */
    sameDoseWithin: Type.Optional(WindowSchema),
  },
  { additionalProperties: false },
);

export const PatientFactSchema = Type.Object(
  {
    ...factBase,
    kind: Type.Literal('patient'),
    /** sex: Patient.gender female/male, else the US Core birth sex extension (F/M), else other/unknown. */
    field: Type.Union([Type.Literal('birthDate'), Type.Literal('gender'), Type.Literal('sex')]),
  },
  { additionalProperties: false },
);

export const DerivedFactSchema = Type.Object(
  {
    ...factBase,
    kind: Type.Literal('derived'),
    /** Name of a calculator in src/clinical/calculators.ts. */
    calculator: Type.String({ pattern: '^[a-z][a-z0-9-]*$' }),
    /** Calculator input name → fact id. */
    inputs: Type.Record(Type.String(), FactIdSchema),
    /** Calculator parameters: numbers or rules/settings.yaml paths (strings starting with "settings."). */
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export const FactDefinitionSchema = Type.Union([
  CodedFactSchema,
  QuantityFactSchema,
  PresenceFactSchema,
  MedicationFactSchema,
  PatientFactSchema,
  DerivedFactSchema,
]);
export type FactDefinition = Static<typeof FactDefinitionSchema>;
export type CodedFactDefinition = Static<typeof CodedFactSchema>;
export type QuantityFactDefinition = Static<typeof QuantityFactSchema>;
export type PresenceFactDefinition = Static<typeof PresenceFactSchema>;
export type MedicationFactDefinition = Static<typeof MedicationFactSchema>;
export type PatientFactDefinition = Static<typeof PatientFactSchema>;
export type DerivedFactDefinition = Static<typeof DerivedFactSchema>;

export const FactMappingFileSchema = Type.Object(
  {
    description: Type.Optional(Type.String()),
    facts: Type.Array(FactDefinitionSchema as TSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type FactMappingFile = { description?: string; facts: FactDefinition[] };

/** fhir-mappings/defaults.yaml: the default `where` and `date` FHIRPath per resource type. */
export const MappingDefaultsSchema = Type.Object(
  {
    resourceTypes: Type.Record(
      Type.String(),
      Type.Object(
        { where: Type.Optional(FhirPathSchema), date: FhirPathSchema, answer: Type.Optional(FhirPathSchema) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type MappingDefaults = Static<typeof MappingDefaultsSchema>;
