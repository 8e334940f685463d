import { Type, type Static } from '@sinclair/typebox';
import { RuleIdSchema as RuleId } from './rule';

/**
 * A clinical scenario (test/scenarios/**.json): a realistic FHIR chart, the hook it is called with,
 * and what the clinician must (and must not) see. A scenario may start from a base chart under
 * test/fixtures/patients/ and remove or add resources, so near-misses read as small differences.
 */
export const ScenarioSchema = Type.Object(
  {
    title: Type.String({ minLength: 1 }),
    story: Type.String({ minLength: 1 }),
    /** Any hook name; the scenario loader checks that a module for it is registered (src/cds-hooks/registry.ts). */
    hook: Type.String({ pattern: '^[a-z][a-z0-9-]*$', maxLength: 64 }),
    patientId: Type.String({ minLength: 1 }),
    base: Type.Optional(Type.String({ pattern: '^[a-z0-9-]+$' })),
    /** Resource ids removed from the base chart. */
    remove: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    /** Resources added to the chart (a resource with the id of a base resource replaces it). */
    add: Type.Optional(Type.Array(Type.Object({ resourceType: Type.String() }, { additionalProperties: true }))),
    /** Draft orders for hooks that carry them (a selecting hook selects every order unless `selections` says otherwise). */
    draftOrders: Type.Optional(Type.Array(Type.Object({ resourceType: Type.String() }, { additionalProperties: true }))),
    selections: Type.Optional(Type.Array(Type.String())),
    /** How the data reach the service: prefetch (default) or the FHIR server (no prefetch). */
    delivery: Type.Optional(Type.Union([Type.Literal('prefetch'), Type.Literal('fhir-server')])),
    /** The rule ids this scenario proves fire, and those it is the near-miss for (must not fire). */
    proves: Type.Object(
      {
        fires: Type.Array(RuleId),
        nearMissFor: Type.Array(RuleId),
      },
      { additionalProperties: false },
    ),
    expect: Type.Object(
      {
        /** Exactly these cards, in this order (rule ids). */
        rules: Type.Array(RuleId),
        /** Per-card checks. */
        cards: Type.Optional(
          Type.Record(
            RuleId,
            Type.Object(
              {
                indicator: Type.Optional(Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')])),
                summary: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
                detail: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
                suggestion: Type.Optional(
                  Type.Object(
                    {
                      type: Type.Union([Type.Literal('create'), Type.Literal('update'), Type.Literal('delete')]),
                      resourceType: Type.Optional(Type.String()),
                      /** Dot paths into the suggested resource and the value expected there. */
                      resource: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
                      resourceId: Type.Optional(Type.String()),
                    },
                    { additionalProperties: false },
                  ),
                ),
              },
              { additionalProperties: false },
            ),
          ),
        ),
        /** Rules that must not fire (near-misses say which recommendation must be absent). */
        absent: Type.Array(RuleId),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type Scenario = Static<typeof ScenarioSchema>;
