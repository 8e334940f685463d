import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { FactIdSchema, NumberOrSettingSchema } from './common';

/**
 * Rule conditions, evaluated with three-valued (Kleene) logic: a comparison on a fact that has no
 * value is `unknown`, and a rule fires only when its condition is `true`. Missing data therefore
 * never turns into a recommendation by default.
 */
export type ConditionNode =
  | { all: ConditionNode[] }
  | { any: ConditionNode[] }
  | { not: ConditionNode }
  | { notTrue: ConditionNode }
  | { ref: string }
  | FactTest;

export interface FactTest {
  fact: string;
  is?: boolean;
  equals?: string;
  in?: string[];
  lt?: number | { setting: string };
  lte?: number | { setting: string };
  gt?: number | { setting: string };
  gte?: number | { setting: string };
  /** Tests the fact's state (known, unknown, stale, conflicting); never unknown itself. */
  state?: string[];
  /** Date facts: at least this long ago (ISO duration or setting). */
  olderThan?: string | { setting: string };
  /** Date facts: less than this long ago. */
  within?: string | { setting: string };
}

const DurationOrSetting = Type.Union([
  Type.String({ pattern: '^P\\d+(D|W|M|Y)$' }),
  Type.Object({ setting: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
]);

export const FactTestSchema = Type.Object(
  {
    fact: FactIdSchema,
    is: Type.Optional(Type.Boolean()),
    equals: Type.Optional(Type.String()),
    in: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
    lt: Type.Optional(NumberOrSettingSchema),
    lte: Type.Optional(NumberOrSettingSchema),
    gt: Type.Optional(NumberOrSettingSchema),
    gte: Type.Optional(NumberOrSettingSchema),
    state: Type.Optional(
      Type.Array(
        Type.Union([Type.Literal('known'), Type.Literal('unknown'), Type.Literal('stale'), Type.Literal('conflicting')]),
        { minItems: 1 },
      ),
    ),
    olderThan: Type.Optional(DurationOrSetting),
    within: Type.Optional(DurationOrSetting),
  },
  { additionalProperties: false, minProperties: 2 },
);

export const CONDITION_SCHEMA_ID = 'urn:zoledronic-cds:schema:condition';

// Recursive schema: ajv validates nested all/any/not the same way at every depth. Registered once
// in ajv (createAjv) and referenced by id, so several file schemas can embed it.
export const ConditionSchema: TSchema = Type.Recursive((This) =>
  Type.Union([
    Type.Object({ all: Type.Array(This, { minItems: 1 }) }, { additionalProperties: false }),
    Type.Object({ any: Type.Array(This, { minItems: 1 }) }, { additionalProperties: false }),
    Type.Object({ not: This }, { additionalProperties: false }),
    Type.Object({ notTrue: This }, { additionalProperties: false }),
    Type.Object({ ref: Type.String({ pattern: '^[a-z][a-z0-9-]*$' }) }, { additionalProperties: false }),
    FactTestSchema,
  ]),
  { $id: CONDITION_SCHEMA_ID },
);

const ConditionRef = Type.Unsafe<ConditionNode>({ $ref: CONDITION_SCHEMA_ID });

const SuggestionTemplateSchema = Type.Object(
  {
    label: Type.String({ minLength: 1 }),
    isRecommended: Type.Optional(Type.Boolean()),
    /** The suggestion is offered only when this condition is true (e.g. the one-click order is safe). */
    when: Type.Optional(ConditionRef),
    actions: Type.Array(
      Type.Object(
        {
          type: Type.Union([Type.Literal('create'), Type.Literal('update'), Type.Literal('delete')]),
          description: Type.String({ minLength: 1 }),
          /** Id of a resource template in rules/resources.yaml (create, update). */
          resource: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9-]*$' })),
          /** Relative reference for delete, e.g. "{{draft.reference}}". */
          resourceId: Type.Optional(Type.String({ minLength: 1 })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false },
);
export type SuggestionTemplate = Static<typeof SuggestionTemplateSchema>;

/**
 * A rule id: upper-case words joined by hyphens, at least two ('PV-RECOMMEND', 'OS-RENAL-SEVERE'). The
 * first word is the rule set's own prefix by convention; no hook or rule set is named here.
 */
export const RULE_ID_PATTERN = '^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$';
export const RuleIdSchema = Type.String({ pattern: RULE_ID_PATTERN });

export const RuleSchema = Type.Object(
  {
    id: RuleIdSchema,
    title: Type.String({ minLength: 1 }),
    /** Which seed statements this rule implements (see rules/README.md); may be empty for label-only safety rules. */
    implements: Type.Array(Type.String({ pattern: '^SEED-[0-9]+$' })),
    /** Where the rule comes from: the catalogue row, and any label section or extension rationale. */
    basis: Type.String({ minLength: 1 }),
    category: Type.Union([
      Type.Literal('safety'),
      Type.Literal('eligibility'),
      Type.Literal('prerequisite'),
      Type.Literal('monitoring'),
    ]),
    /** Among fired rules of one group only the highest priority is shown (alert fatigue). */
    exclusiveGroup: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9-]*$' })),
    priority: Type.Integer({ minimum: 0, maximum: 1000 }),
    indicator: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
    when: ConditionRef,
    /** The first variant whose condition also holds replaces the indicator and/or summary (e.g. active ONJ → critical). */
    variants: Type.Optional(
      Type.Array(
        Type.Object(
          {
            when: ConditionRef,
            indicator: Type.Optional(Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')])),
            summary: Type.Optional(Type.String({ minLength: 1, maxLength: 139 })),
          },
          { additionalProperties: false },
        ),
        { minItems: 1 },
      ),
    ),
    card: Type.Object(
      {
        summary: Type.String({ minLength: 1, maxLength: 139 }),
        detail: Type.String({ minLength: 1 }),
        /** Citation ids from rules/evidence.yaml; the first is the card's source. */
        evidence: Type.Array(Type.String({ pattern: '^[A-Z][A-Z0-9-]*$' }), { minItems: 1 }),
        /** Facts listed under "Facts used" (the condition's facts are added automatically). */
        facts: Type.Optional(Type.Array(FactIdSchema)),
        /** Prerequisites shown with their status (dental exam, creatinine, …). */
        prerequisites: Type.Optional(Type.Array(FactIdSchema)),
        suggestions: Type.Optional(Type.Array(SuggestionTemplateSchema, { minItems: 1 })),
        selectionBehavior: Type.Optional(Type.Union([Type.Literal('at-most-one'), Type.Literal('any')])),
        /** Override reason ids from rules/override-reasons.yaml. */
        overrideReasons: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z][a-z0-9-]*$' }), { minItems: 1 })),
        links: Type.Optional(
          Type.Array(
            Type.Object(
              { label: Type.String({ minLength: 1 }), url: Type.String({ format: 'uri', pattern: '^https://' }) },
              { additionalProperties: false },
            ),
          ),
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type Rule = Omit<Static<typeof RuleSchema>, 'when' | 'variants'> & {
  when: ConditionNode;
  variants?: { when: ConditionNode; indicator?: 'info' | 'warning' | 'critical'; summary?: string }[];
};

export const RuleFileSchema = Type.Object(
  {
    ruleSet: Type.String({ pattern: '^[a-z][a-z0-9-]*$' }),
    description: Type.Optional(Type.String()),
    /** Markdown appended to every card of the set when the condition holds (e.g. off-label note). */
    appendix: Type.Optional(
      Type.Array(
        Type.Object(
          {
            id: RuleIdSchema,
            when: ConditionRef,
            text: Type.String({ minLength: 1 }),
            /** Only cards of these rules get the text (all cards of the set when absent). */
            appliesTo: Type.Optional(Type.Array(RuleIdSchema, { minItems: 1 })),
            implements: Type.Optional(Type.Array(Type.String({ pattern: '^SEED-[0-9]+$' }))),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    rules: Type.Array(Type.Unknown(), { minItems: 1 }),
  },
  { additionalProperties: false },
);
export interface RuleFile {
  ruleSet: string;
  description?: string;
  appendix?: { id: string; when: ConditionNode; text: string; appliesTo?: string[]; implements?: string[] }[];
  rules: Rule[];
}

export const NamedConditionsFileSchema = Type.Object(
  {
    conditions: Type.Record(Type.String({ pattern: '^[a-z][a-z0-9-]*$' }), ConditionRef),
  },
  { additionalProperties: false },
);

export const EvidenceFileSchema = Type.Object(
  {
    evidence: Type.Record(
      Type.String({ pattern: '^[A-Z][A-Z0-9-]*$' }),
      Type.Object(
        {
          label: Type.String({ minLength: 1, maxLength: 80 }),
          citation: Type.String({ minLength: 1 }),
          /** Resolvable: a DOI (https://doi.org/…), PubMed, DailyMed or the publisher's page. */
          url: Type.String({ format: 'uri', pattern: '^https://' }),
          status: Type.Union([Type.Literal('verified'), Type.Literal('partial')]),
          note: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type EvidenceFile = Static<typeof EvidenceFileSchema>;

export const OverrideReasonsFileSchema = Type.Object(
  {
    system: Type.String({ format: 'uri' }),
    reasons: Type.Record(
      Type.String({ pattern: '^[a-z][a-z0-9-]*$' }),
      Type.Object({ display: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);
export type OverrideReasonsFile = Static<typeof OverrideReasonsFileSchema>;

/**
 * rules/resources.yaml: FHIR resource templates for suggestions. `{{…}}` placeholders are filled
 * from the request context and facts; `builder` names a TypeScript builder for resources that must
 * be computed from the draft order (the corrected order of OS-REGIMEN / OS-RENAL-ADJUST).
 */
export const ResourceTemplatesFileSchema = Type.Object(
  {
    resources: Type.Record(
      Type.String({ pattern: '^[a-z][a-z0-9-]*$' }),
      Type.Union([
        Type.Object(
          { template: Type.Object({ resourceType: Type.String({ minLength: 1 }) }, { additionalProperties: true }) },
          { additionalProperties: false },
        ),
        Type.Object(
          {
            builder: Type.String({ pattern: '^[a-z][a-z0-9-]*$' }),
            params: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()]))),
          },
          { additionalProperties: false },
        ),
      ]),
    ),
  },
  { additionalProperties: false },
);
export type ResourceTemplatesFile = Static<typeof ResourceTemplatesFileSchema>;

/** rules/settings.yaml: site-configurable thresholds; every number a rule compares against lives here. */
export const SettingsFileSchema = Type.Object(
  { settings: Type.Record(Type.String(), Type.Unknown()) },
  { additionalProperties: false },
);

/** rules/seed-statements.yaml: the seed document's recommendations, each traced to rules. */
export const SeedStatementsFileSchema = Type.Object(
  {
    document: Type.String({ minLength: 1 }),
    statements: Type.Record(
      Type.String({ pattern: '^SEED-[0-9]+$' }),
      Type.Object(
        {
          text: Type.String({ minLength: 1 }),
          /** Statements that are background rather than a decision say why no rule implements them. */
          noRuleBecause: Type.Optional(Type.String({ minLength: 1 })),
          /** Where the catalogue deliberately departs from the statement (revision 2), and why. */
          notFollowedBecause: Type.Optional(Type.String({ minLength: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type SeedStatementsFile = Static<typeof SeedStatementsFileSchema>;
