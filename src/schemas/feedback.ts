import { Type, type Static } from '@sinclair/typebox';

/**
 * CDS Hooks 2.0 §Feedback. Objects allow extra members (extensions; fields of later versions) and
 * they are ignored. `acceptedSuggestions` is required when the outcome is `accepted` (if/then, so ajv
 * names that field).
 */
export const AcceptedSuggestionSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: true });

export const OverrideReasonSchema = Type.Object(
  {
    reason: Type.Optional(
      Type.Object(
        {
          system: Type.String({ minLength: 1, maxLength: 1024 }),
          code: Type.String({ minLength: 1, maxLength: 256 }),
          display: Type.Optional(Type.String({ maxLength: 1024 })),
        },
        { additionalProperties: true },
      ),
    ),
    /** The only free text kept (and only with CDS_FEEDBACK_COMMENTS=store); capped. */
    userComment: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: true },
);

export const FeedbackItemSchema = Type.Object(
  {
    /** The card.uuid we sent. */
    card: Type.String({ format: 'uuid' }),
    outcome: Type.Union([Type.Literal('accepted'), Type.Literal('overridden')]),
    acceptedSuggestions: Type.Optional(Type.Array(AcceptedSuggestionSchema, { minItems: 1, maxItems: 100 })),
    overrideReason: Type.Optional(OverrideReasonSchema),
    /** RFC 3339 date-time (UTC per the spec; any offset is accepted and normalised). */
    outcomeTimestamp: Type.String({ format: 'date-time' }),
  },
  {
    additionalProperties: true,
    if: { properties: { outcome: { const: 'accepted' } }, required: ['outcome'] },
    then: { required: ['acceptedSuggestions'] },
  },
);
export type FeedbackItem = Static<typeof FeedbackItemSchema>;

export const FeedbackRequestSchema = Type.Object(
  { feedback: Type.Array(FeedbackItemSchema, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: true },
);
export type FeedbackRequest = Static<typeof FeedbackRequestSchema>;

/** GET …/feedback/summary query: dates (YYYY-MM-DD, UTC midnight) or RFC 3339 date-times. */
export const SummaryQuerySchema = Type.Object(
  {
    from: Type.Optional(Type.Union([Type.String({ format: 'date' }), Type.String({ format: 'date-time' })])),
    to: Type.Optional(Type.Union([Type.String({ format: 'date' }), Type.String({ format: 'date-time' })])),
    period: Type.Optional(Type.Union([Type.Literal('day'), Type.Literal('week'), Type.Literal('month')])),
    top: Type.Optional(Type.String({ pattern: '^(?:[1-9]|1[0-9]|20)$' })),
  },
  { additionalProperties: false },
);
export type SummaryQueryString = Static<typeof SummaryQuerySchema>;

/** The feedback endpoint's answer (the spec defines none; peers answer 200 with an empty body). */
export const FeedbackResponseSchema = Type.Object(
  { received: Type.Integer(), stored: Type.Integer(), duplicates: Type.Integer(), unknownCards: Type.Integer() },
  { additionalProperties: false },
);
export type FeedbackResponse = Static<typeof FeedbackResponseSchema>;

/**
 * GET …/feedback/summary's answer. Serialized by fast-json-stringify, which writes required members
 * first, then optional ones in schema order: a reason's `cards` (always present) is declared optional
 * so it is written last, as the store builds it (system, code, display, cards). One order differs:
 * a reason whose display only a later row supplied is built …, cards, display and written
 * …, display, cards — the same JSON.
 */
export const FeedbackSummaryResponseSchema = Type.Object(
  {
    serviceId: Type.String(),
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    period: Type.Union([Type.Literal('day'), Type.Literal('week'), Type.Literal('month')]),
    rows: Type.Array(
      Type.Object(
        {
          ruleId: Type.String(),
          period: Type.String(),
          shown: Type.Integer(),
          accepted: Type.Integer(),
          overridden: Type.Integer(),
          topOverrideReasons: Type.Array(
            Type.Object(
              { system: Type.Optional(Type.String()), code: Type.Optional(Type.String()), display: Type.Optional(Type.String()), cards: Type.Optional(Type.Integer()) },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    unknownCardFeedback: Type.Integer(),
  },
  { additionalProperties: false },
);
