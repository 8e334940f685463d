import { Type, type Static } from '@sinclair/typebox';

export const VerificationStatusSchema = Type.Union([
  Type.Literal('verified'),
  Type.Literal('partial'),
  Type.Literal('unverified'),
]);

/**
 * A code list file under fhir-mappings/code-lists/. Its `source` says where every code came from
 * (VSAC OID and expansion, IG package, label), so a reviewer can re-check it.
 */
export const CodeListSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' }),
    title: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    source: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    status: VerificationStatusSchema,
    codes: Type.Array(
      Type.Object(
        {
          system: Type.String({ minLength: 1 }),
          code: Type.String({ minLength: 1 }),
          display: Type.Optional(Type.String()),
          status: Type.Optional(VerificationStatusSchema),
          note: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
    /** Prefix rules, e.g. every ICD-10-CM code starting C50 (after removing the dot). */
    codePrefixes: Type.Optional(
      Type.Array(
        Type.Object(
          { system: Type.String({ minLength: 1 }), prefix: Type.String({ minLength: 1 }) },
          { additionalProperties: false },
        ),
      ),
    ),
    /** Codes never matched, even when a prefix rule would match them. */
    exclude: Type.Optional(
      Type.Array(
        Type.Object(
          { system: Type.String({ minLength: 1 }), code: Type.String({ minLength: 1 }), display: Type.Optional(Type.String()) },
          { additionalProperties: false },
        ),
      ),
    ),
    /** The drug as cards name it ("zoledronic acid"), for trigger lists of order services. */
    drugName: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * Name terms for lists whose codes are not fully verified: matched case-insensitively at the
     * start of a word of Coding.display or CodeableConcept.text. A match by name is reported on cards.
     */
    names: Type.Optional(Type.Array(Type.String({ minLength: 3 }))),
    /** Name matches containing one of these words are rejected (eye drops, creams…). */
    excludeNames: Type.Optional(Type.Array(Type.String({ minLength: 2 }))),
    /**
     * Product strengths by brand name, for an order whose code gives none ("Reclast" → 5 mg/100 mL):
     * whole words of the order's texts, in list order. `afterWrittenStrength`: a strength written in
     * the text ("4 mg/100 mL") wins over the name.
     */
    productNames: Type.Optional(
      Type.Array(
        Type.Object(
          {
            names: Type.Array(Type.String({ minLength: 2 }), { minItems: 1 }),
            afterWrittenStrength: Type.Optional(Type.Boolean()),
            mgPerMl: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
            totalMg: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
            volumeMl: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    /** Product facts for medication lists (strength per mL, mg per unit), keyed by code. */
    products: Type.Optional(
      Type.Array(
        Type.Object(
          {
            system: Type.String({ minLength: 1 }),
            code: Type.String({ minLength: 1 }),
            mgPerMl: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
            totalMg: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
            volumeMl: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
          },
          { additionalProperties: false },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);
export type CodeListFile = Static<typeof CodeListSchema>;

/** fhir-mappings/code-systems.yaml: canonical system URIs and the aliases real data uses. */
export const CodeSystemsSchema = Type.Object(
  {
    systems: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1 }),
          uri: Type.String({ minLength: 1 }),
          aliases: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
          /** icd: upper-case and remove the dot before matching (C50.911 == C50911). */
          normalize: Type.Optional(Type.Union([Type.Literal('icd'), Type.Literal('none')])),
          source: Type.String({ minLength: 1 }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false },
);
export type CodeSystemsFile = Static<typeof CodeSystemsSchema>;

/** fhir-mappings/units.yaml: unit strings seen in real data that are not UCUM, mapped to UCUM. */
export const UnitAliasesSchema = Type.Object(
  {
    aliases: Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
export type UnitAliasesFile = Static<typeof UnitAliasesSchema>;
