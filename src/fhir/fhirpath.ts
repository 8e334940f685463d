import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4';

export type CompiledPath = (resource: unknown) => unknown[];

/**
 * Compiles a FHIRPath expression once (at start-up) against the R4 model, synchronously and offline:
 * without the model, choice types such as Observation.value resolve to nothing.
 * Evaluation over hostile or malformed resources never throws: it yields no result.
 */
export function compilePath(expression: string): CompiledPath {
  const evaluate = fhirpath.compile(expression, r4Model, { async: false }) as (resource: unknown) => unknown[];
  return (resource) => {
    try {
      const result = evaluate(resource);
      return Array.isArray(result) ? result : [];
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

export function asBoolean(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}
