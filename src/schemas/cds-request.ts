import { Type, type Static } from '@sinclair/typebox';

/** FHIR ids: [A-Za-z0-9\-\.]{1,64} (FHIR R4 datatypes, id). */
const FHIR_ID = '[A-Za-z0-9\\-\\.]{1,64}';

/** Any FHIR resource: only its resourceType is checked here; extractors read resources defensively. */
export const FhirResourceSchema = Type.Object(
  { resourceType: Type.String({ pattern: '^[A-Z][A-Za-z]{1,63}$' }) },
  { additionalProperties: true },
);

export const FhirAuthorizationSchema = Type.Object(
  {
    access_token: Type.String({ minLength: 1, maxLength: 16384 }),
    token_type: Type.String({ pattern: '^[Bb]earer$' }),
    expires_in: Type.Integer({ minimum: 0 }),
    scope: Type.String({ maxLength: 8192 }),
    subject: Type.String({ minLength: 1, maxLength: 1024 }),
    patient: Type.Optional(Type.String({ pattern: `^${FHIR_ID}$` })),
  },
  { additionalProperties: true },
);
export type FhirAuthorization = Static<typeof FhirAuthorizationSchema>;

const DraftOrdersSchema = Type.Object(
  {
    resourceType: Type.Literal('Bundle'),
    // The sandbox omits `type`; the hook library's examples send "collection".
    type: Type.Optional(Type.String()),
    entry: Type.Optional(
      Type.Array(
        Type.Object({ resource: FhirResourceSchema }, { additionalProperties: true }),
        { maxItems: 500 },
      ),
    ),
  },
  { additionalProperties: true },
);

const userIdFor = (types: string[]) =>
  Type.String({ pattern: `^(${types.join('|')})/${FHIR_ID}$`, maxLength: 100 });

const baseContext = {
  patientId: Type.String({ pattern: `^${FHIR_ID}$` }),
  encounterId: Type.Optional(Type.String({ pattern: `^${FHIR_ID}$` })),
};

export const PatientViewContextSchema = Type.Object(
  {
    userId: userIdFor(['Practitioner', 'PractitionerRole', 'Patient', 'RelatedPerson']),
    ...baseContext,
  },
  { additionalProperties: true },
);

export const OrderSelectContextSchema = Type.Object(
  {
    userId: userIdFor(['Practitioner', 'PractitionerRole']),
    ...baseContext,
    selections: Type.Array(Type.String({ pattern: `^[A-Z][A-Za-z]+/${FHIR_ID}$` }), { minItems: 1, maxItems: 100 }),
    draftOrders: DraftOrdersSchema,
  },
  { additionalProperties: true },
);

export const OrderSignContextSchema = Type.Object(
  {
    userId: userIdFor(['Practitioner', 'PractitionerRole']),
    ...baseContext,
    draftOrders: DraftOrdersSchema,
  },
  { additionalProperties: true },
);

const requestFields = {
  hookInstance: Type.String({ format: 'uuid' }),
  fhirServer: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048 })),
  fhirAuthorization: Type.Optional(FhirAuthorizationSchema),
  prefetch: Type.Optional(
    Type.Record(Type.String({ maxLength: 128 }), Type.Union([FhirResourceSchema, Type.Null()]), { maxProperties: 100 }),
  ),
  extension: Type.Optional(Type.Object({}, { additionalProperties: true })),
};

// `dependencies`: the spec makes fhirServer REQUIRED whenever fhirAuthorization is present.
const requestOptions = { additionalProperties: true, dependencies: { fhirAuthorization: ['fhirServer'] } };

export const PatientViewRequestSchema = Type.Object(
  { hook: Type.Literal('patient-view'), ...requestFields, context: PatientViewContextSchema },
  requestOptions,
);
export const OrderSelectRequestSchema = Type.Object(
  { hook: Type.Literal('order-select'), ...requestFields, context: OrderSelectContextSchema },
  requestOptions,
);
export const OrderSignRequestSchema = Type.Object(
  { hook: Type.Literal('order-sign'), ...requestFields, context: OrderSignContextSchema },
  requestOptions,
);

export type PatientViewRequest = Static<typeof PatientViewRequestSchema>;
export type OrderSelectRequest = Static<typeof OrderSelectRequestSchema>;
export type OrderSignRequest = Static<typeof OrderSignRequestSchema>;
export type CdsHookRequest = PatientViewRequest | OrderSelectRequest | OrderSignRequest;

/**
 * What every hook call shares and the route can check before it knows the hook: a JSON object
 * naming a hook. The rest depends on the hook the service serves (its module's requestSchema, above),
 * checked after dispatch so a hook mismatch is reported as such.
 */
export const CdsHookCallSchema = Type.Object({ hook: Type.String({ minLength: 1 }) }, { additionalProperties: true });

/** `/cds-services/:id…` route parameters. */
export const ServiceParamsSchema = Type.Object({ id: Type.String() });
