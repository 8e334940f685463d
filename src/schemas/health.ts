import { Type, type Static } from '@sinclair/typebox';

/** GET /healthz: the process answers. */
export const LivenessResponseSchema = Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false });

/** GET /readyz: knowledge loaded; the feedback/audit store's state (a store outage is `degraded`, still 200). */
export const ReadinessResponseSchema = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('degraded')]),
    services: Type.Integer(),
    knowledgeFiles: Type.Integer(),
    store: Type.Object(
      {
        status: Type.Union([Type.Literal('up'), Type.Literal('unavailable'), Type.Literal('migrating')]),
        dialect: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')]),
        auditQueued: Type.Integer(),
        auditDropped: Type.Integer(),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type ReadinessResponse = Static<typeof ReadinessResponseSchema>;
