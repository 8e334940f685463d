import { Type, type Static } from '@sinclair/typebox';

/** Any hook name; the loader checks that a module for it is registered (src/cds-hooks/registry.ts). */
const HookNameSchema = Type.String({ pattern: '^[a-z][a-z0-9-]*$', maxLength: 64 });

/**
 * hooks/<id>.yaml: one CDS service. The spec fields are served by discovery as written; `config`
 * is private (which rule set runs, which prefetch keys are required, what triggers the service).
 */
export const HookDefinitionSchema = Type.Object(
  {
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' }),
    /**
     * Exactly one hook per service id: CDS clients (the CDS Hooks sandbox among them) key services by
     * id, so an id listed under two hooks would make one of them unreachable. Kept as a list so the
     * file shape matches earlier versions; the loader names the file when it holds more than one.
     */
    hooks: Type.Array(HookNameSchema, { minItems: 1, uniqueItems: true }),
    title: Type.String({ minLength: 1 }),
    description: Type.String({ minLength: 1 }),
    usageRequirements: Type.Optional(Type.String({ minLength: 1 })),
    prefetch: Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9-]*$' }), Type.String({ minLength: 1 })),
    config: Type.Object(
      {
        ruleSet: Type.String({ pattern: '^[a-z][a-z0-9-]*$' }),
        /** Keys without which no card can be justified: if neither prefetched nor fetchable → 412. */
        requiredPrefetch: Type.Array(Type.String({ minLength: 1 })),
        /** Order services: only draft orders matching this medication code list trigger evaluation. */
        triggerMedication: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type HookDefinition = Static<typeof HookDefinitionSchema>;
