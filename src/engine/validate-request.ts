import type { ValidateFunction } from 'ajv';
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
 * Checks a hook call against the service and the hook's schema. Throws RequestInvalidError (400)
 * naming the field, or HookMismatchError when the service does not serve the hook.
 */
export function validateHookRequest(service: CompiledService, body: unknown): HookRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new RequestInvalidError('The request body must be a JSON object (a CDS Hooks request)');
  }
  const hook = (body as { hook?: unknown }).hook;
  if (typeof hook !== 'string' || hook.length === 0) throw new RequestInvalidError("'hook' is required and must be a string", ['hook']);
  const module = service.hooks.includes(hook) ? hookModuleFor(hook) : undefined;
  if (!module) throw new HookMismatchError(service.id, hook.slice(0, 64), service.hooks);
  const validate = validatorFor(module);
  if (!validate(body)) {
    const errors = summarizeErrors(validate.errors).slice(0, 5);
    const message = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    throw new RequestInvalidError(`Invalid ${hook} request: ${message}`, [...new Set(errors.map((e) => e.field))]);
  }
  module.checkRequest?.(body);
  return body as HookRequest;
}
