import Ajv, { type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import { ConditionSchema } from '../schemas/rule';

/**
 * One ajv instance for knowledge files and requests. `allErrors` so a reviewer sees every problem of
 * a file at once; never `removeAdditional` (FHIR and CDS objects carry fields we do not model).
 */
export function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false });
  addFormats(ajv, ['uri', 'uuid', 'date-time', 'date']);
  ajv.addSchema(ConditionSchema);
  return ajv;
}

/** "/rules/0/card/summary" + missingProperty → "rules[0].card.summary" (the field a reviewer looks for). */
function fieldPath(error: ErrorObject): string {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required' && typeof error.params.missingProperty === 'string') segments.push(error.params.missingProperty);
  if (error.keyword === 'additionalProperties' && typeof error.params.additionalProperty === 'string') {
    segments.push(error.params.additionalProperty);
  }
  if (error.keyword === 'dependencies' && typeof error.params.missingProperty === 'string') segments.push(error.params.missingProperty);
  let path = '';
  for (const segment of segments) {
    if (/^\d+$/.test(segment)) path += `[${segment}]`;
    else path += path === '' ? segment : `.${segment}`;
  }
  return path === '' ? '(root)' : path;
}

function describeError(error: ErrorObject): string {
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not an allowed field';
    case 'dependencies':
      return `is required when ${String(error.params.property)} is present`;
    case 'enum':
      return `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(error.params.allowedValue)}`;
    default:
      return error.message ?? 'is invalid';
  }
}

/**
 * Reduces ajv's errors to the most useful few: for unions (anyOf) ajv reports every branch, so keep
 * the deepest errors, which name the field that is actually wrong.
 */
export function summarizeErrors(errors: readonly ErrorObject[] | null | undefined): { field: string; message: string }[] {
  if (!errors || errors.length === 0) return [];
  const hasUnion = errors.some((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const relevant = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && e.keyword !== 'if');
  let pool = relevant.length > 0 ? relevant : [...errors];
  if (hasUnion) {
    const depth = (e: ErrorObject) => fieldPath(e).split(/[.[]/).length;
    const deepest = Math.max(...pool.map(depth));
    pool = pool.filter((e) => depth(e) === deepest);
  }
  const seen = new Set<string>();
  const out: { field: string; message: string }[] = [];
  for (const error of pool) {
    const item = { field: fieldPath(error), message: describeError(error) };
    const key = `${item.field} ${item.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(item);
    }
  }
  return out;
}
