import { Type, type Static } from '@sinclair/typebox';

/** CDS Hooks 2.0 §Coding: system and code required; override reasons also need display. */
export const CdsCodingSchema = Type.Object(
  { system: Type.String({ minLength: 1 }), code: Type.String({ minLength: 1 }), display: Type.Optional(Type.String({ minLength: 1 })) },
  { additionalProperties: false },
);

export const ActionSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('create'), Type.Literal('update'), Type.Literal('delete')]),
    description: Type.String({ minLength: 1 }),
    resource: Type.Optional(Type.Object({ resourceType: Type.String({ minLength: 1 }) }, { additionalProperties: true })),
    resourceId: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

export const SuggestionSchema = Type.Object(
  {
    label: Type.String({ minLength: 1 }),
    uuid: Type.String({ format: 'uuid' }),
    isRecommended: Type.Optional(Type.Boolean()),
    actions: Type.Optional(Type.Array(ActionSchema, { minItems: 1 })),
  },
  { additionalProperties: false },
);

export const LinkSchema = Type.Object(
  {
    label: Type.String({ minLength: 1 }),
    url: Type.String({ format: 'uri' }),
    type: Type.Union([Type.Literal('absolute'), Type.Literal('smart')]),
    appContext: Type.Optional(Type.String({ minLength: 1 })),
    autolaunchable: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const SourceSchema = Type.Object(
  {
    label: Type.String({ minLength: 1 }),
    url: Type.String({ format: 'uri', pattern: '^https?://' }),
    icon: Type.Optional(Type.String({ format: 'uri' })),
    topic: Type.Optional(CdsCodingSchema),
  },
  { additionalProperties: false },
);

/**
 * A card as this service sends it: the spec's Card with the invariants we promise (uuid, source.url).
 * It is also the hook route's response schema, serialized by fast-json-stringify: that writes the
 * required members first, then the optional ones, each in this schema's order, and drops members not
 * declared here. So the members are declared in the order buildCard writes them (uuid, summary,
 * indicator, detail, source, then the optional ones), detail (always written) is required, and every
 * member a card can carry is declared; test/routes/response-schemas.test.ts holds the bytes to it.
 */
export const CardSchema = Type.Object(
  {
    uuid: Type.String({ format: 'uuid' }),
    summary: Type.String({ minLength: 1, maxLength: 139 }),
    indicator: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
    detail: Type.String({ minLength: 1 }),
    source: SourceSchema,
    suggestions: Type.Optional(Type.Array(SuggestionSchema, { minItems: 1 })),
    selectionBehavior: Type.Optional(Type.Union([Type.Literal('at-most-one'), Type.Literal('any')])),
    overrideReasons: Type.Optional(
      Type.Array(
        Type.Object(
          { system: Type.String({ minLength: 1 }), code: Type.String({ minLength: 1 }), display: Type.String({ minLength: 1 }) },
          { additionalProperties: false },
        ),
        { minItems: 1 },
      ),
    ),
    links: Type.Optional(Type.Array(LinkSchema, { minItems: 1 })),
  },
  { additionalProperties: false },
);
export type Card = Static<typeof CardSchema>;
export type Suggestion = Static<typeof SuggestionSchema>;
export type CardAction = Static<typeof ActionSchema>;

export const CdsResponseSchema = Type.Object(
  {
    cards: Type.Array(CardSchema),
    systemActions: Type.Optional(Type.Array(ActionSchema, { minItems: 1 })),
  },
  { additionalProperties: false },
);
export type CdsResponse = Static<typeof CdsResponseSchema>;

export const DiscoveryResponseSchema = Type.Object(
  {
    services: Type.Array(
      Type.Object(
        {
          hook: Type.String({ minLength: 1 }),
          id: Type.String({ minLength: 1 }),
          title: Type.Optional(Type.String({ minLength: 1 })),
          description: Type.String({ minLength: 1 }),
          prefetch: Type.Optional(Type.Record(Type.String(), Type.String())),
          usageRequirements: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type DiscoveryResponse = Static<typeof DiscoveryResponseSchema>;
