import { Type, type Static } from '@sinclair/typebox';

/** A FHIR Coding as the knowledge files write it (system and code required). */
export const CodingSchema = Type.Object(
  {
    system: Type.String({ minLength: 1 }),
    code: Type.String({ minLength: 1 }),
    display: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
export type CodingRef = Static<typeof CodingSchema>;

/** ISO-8601 duration restricted to the units clinical windows use: P30D, P6M, P2Y, P26W. */
export const DurationSchema = Type.String({ pattern: '^P\\d+(D|W|M|Y)$' });

/** camelCase identifier with optional dotted sub-part (zoledronicAcid.lastDose). */
export const FactIdSchema = Type.String({ pattern: '^[a-z][A-Za-z0-9]*(\\.[a-z][A-Za-z0-9]*)?$' });

/** A number in a rule, or a reference to a site-configurable setting in rules/settings.yaml. */
export const NumberOrSettingSchema = Type.Union([
  Type.Number(),
  Type.Object({ setting: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
]);
export type NumberOrSetting = Static<typeof NumberOrSettingSchema>;
