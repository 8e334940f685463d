/** Any FHIR resource as the service handles it: typed by `resourceType`, read by FHIRPath or by field. */
export type AnyResource = { resourceType: string; id?: string; [key: string]: unknown };
