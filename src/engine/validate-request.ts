import type { ErrorObject, ValidateFunction } from 'ajv';
import { hookModuleFor } from '../cds-hooks/registry';
import type { HookModule, HookRequest } from '../cds-hooks/hook-module';
import { HookMismatchError, RequestInvalidError } from '../errors';
import { createAjv, summarizeErrors } from '../knowledge/ajv';
import type { CompiledService } from '../knowledge/types';

const ajv = createAjv();
// One validator per hook module (CDS Hooks 2.0 request + the hook library's context table), compiled once.
const validators = new Map<HookModule, ValidateFunction>();

function validatorFor(module: HookModule): ValidateFunction {
  let validate = validators.get(module);
  if (!validate) {
    validate = ajv.compile(module.requestSchema);
    validators.set(module, validate);
  }
  return validate;
}

/**
 * Compiles a route's request schema (body, params, querystring) with the same ajv as the hook
 * schemas: every error reported (allErrors), formats checked, nothing coerced or removed.
 */
export function compileRequestSchema({ schema }: { schema: object }): ValidateFunction {
  return ajv.compile(schema);
}

/** The 400 for a schema failure: "<prefix>: field: problem; …" (the first five), naming the fields. */
export function invalidRequest(prefix: string, errors: readonly ErrorObject[] | null | undefined): RequestInvalidError {
  const summary = summarizeErrors(errors).slice(0, 5);
  return new RequestInvalidError(`${prefix}: ${summary.map((e) => `${e.field}: ${e.message}`).join('; ')}`, [...new Set(summary.map((e) => e.field))]);
}

const NOT_AN_OBJECT = () => new RequestInvalidError('The request body must be a JSON object (a CDS Hooks request)');
const HOOK_REQUIRED = () => new RequestInvalidError("'hook' is required and must be a string", ['hook']);

/**
 * The 400 for a hook call failing CdsHookCallSchema (the route's body schema: an object with a
 * non-empty `hook`), worded as validateHookRequest words the same two checks.
 */
export function hookCallInvalid(errors: readonly ErrorObject[]): RequestInvalidError {
  return errors.some((e) => e.instancePath === '' && e.keyword === 'type') ? NOT_AN_OBJECT() : HOOK_REQUIRED();
}

/**
 * Checks a hook call against the service and the hook's schema. Throws RequestInvalidError (400)
 * naming the field, or HookMismatchError when the service does not serve the hook.
 */
export function validateHookRequest(service: CompiledService, body: unknown): HookRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw NOT_AN_OBJECT();
  const hook = (body as { hook?: unknown }).hook;
  if (typeof hook !== 'string' || hook.length === 0) throw HOOK_REQUIRED();
  const module = service.hooks.includes(hook) ? hookModuleFor(hook) : undefined;
  if (!module) throw new HookMismatchError(service.id, hook.slice(0, 64), service.hooks);
  const validate = validatorFor(module);
  if (!validate(body)) throw invalidRequest(`Invalid ${hook} request`, validate.errors);
  module.checkRequest?.(body);
  return body as HookRequest;
}
