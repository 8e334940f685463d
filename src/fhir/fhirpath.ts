import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4';
import { NATIVE_FHIRPATH } from './fhirpath-native';

export type CompiledPath = (resource: unknown) => unknown[];

/**
 * Compiles a FHIRPath expression once (at start-up) against the R4 model, synchronously and offline:
 * without the model, choice types such as Observation.value resolve to nothing.
 * Evaluation over hostile or malformed resources never throws: it yields no result.
 */
export function compilePath(expression: string, options: { native?: boolean } = {}): CompiledPath {
  const compiled = fhirpath.compile(expression, r4Model, { async: false }) as (resource: unknown) => unknown[];
  const viaFhirpath: CompiledPath = (resource) => {
    try {
      const result = compiled(resource);
      return Array.isArray(result) ? result : [];
    } catch {
      return [];
    }
  };
  const native = options.native !== false && process.env.CDS_FHIRPATH_NATIVE !== 'off' ? NATIVE_FHIRPATH[expression] : undefined;
  if (!native) return viaFhirpath;
  const types = new Set(native.types);
  return (resource) => {
    if (!types.has((resource as { resourceType?: string } | null)?.resourceType ?? '')) return viaFhirpath(resource);
    try {
      return native.evaluate(resource);
    } catch {
      return [];
    }
  };
}

/** Checks an expression parses, for start-up validation; returns the parser's message otherwise. */
export function fhirPathError(expression: string): string | undefined {
  try {
    fhirpath.compile(expression, r4Model);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message.split('\n')[0] : String(error);
  }
}

/** FHIRPath returns FP_DateTime/FP_Quantity wrappers for some types; these turn them into plain JS. */
export function asString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { toString?: unknown }).toString === 'function') {
    const text = String(value);
    return text === '[object Object]' ? undefined : text;
  }
  return undefined;
}
