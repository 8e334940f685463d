import type { ValidateFunction } from 'ajv';
import { HookMismatchError, RequestInvalidError } from '../errors';
import { createAjv, summarizeErrors } from '../knowledge/ajv';
import type { CompiledService } from '../knowledge/types';
import {
  OrderSelectRequestSchema,
  OrderSignRequestSchema,
  PatientViewRequestSchema,
  type CdsHookRequest,
} from '../schemas/cds-request';
import type { HookName } from '../schemas/hook-definition';
import { ShapeBudget } from '../security/resource-shape';

const ajv = createAjv();
// Compiled once at start-up, one per hook (CDS Hooks 2.0 request + the hook library's context table).
const validators: Record<HookName, ValidateFunction> = {
  'patient-view': ajv.compile(PatientViewRequestSchema),
  'order-select': ajv.compile(OrderSelectRequestSchema),
  'order-sign': ajv.compile(OrderSignRequestSchema),
};

/**
 * Checks a hook call against the service and the hook's schema. Throws RequestInvalidError (400)
 * naming the field, or HookMismatchError when the service does not serve the hook.
 */
export function validateHookRequest(service: CompiledService, body: unknown): CdsHookRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new RequestInvalidError('The request body must be a JSON object (a CDS Hooks request)');
  }
  const hook = (body as { hook?: unknown }).hook;
  if (typeof hook !== 'string' || hook.length === 0) throw new RequestInvalidError("'hook' is required and must be a string", ['hook']);
  if (!service.hooks.includes(hook as HookName)) throw new HookMismatchError(service.id, hook.slice(0, 64), service.hooks);
  const validate = validators[hook as HookName];
  if (!validate(body)) {
    const errors = summarizeErrors(validate.errors).slice(0, 5);
    const message = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    throw new RequestInvalidError(`Invalid ${hook} request: ${message}`, [...new Set(errors.map((e) => e.field))]);
  }
  const request = body as CdsHookRequest;
  if ((request.hook === 'order-select' || request.hook === 'order-sign') && request.context.draftOrders.entry) {
    // The orders being signed cannot be skipped like chart data: a draft the engine cannot afford to read is a bad request.
    const budget = new ShapeBudget();
    const oversized = request.context.draftOrders.entry.findIndex((e) => budget.admit(e.resource) !== 'ok');
    if (oversized !== -1) {
      throw new RequestInvalidError(`context.draftOrders.entry[${oversized}].resource is too large to evaluate (an array over the service's limit)`, [
        `context.draftOrders.entry[${oversized}].resource`,
      ]);
    }
    // selections must point into draftOrders (hook library: "references FHIR resources in the draftOrders Bundle").
    if (request.hook === 'order-select') {
      const ids = new Set(
        request.context.draftOrders.entry.map((e) => `${e.resource.resourceType}/${String((e.resource as { id?: unknown }).id)}`),
      );
      const dangling = request.context.selections.filter((s) => !ids.has(s));
      if (dangling.length > 0) {
        throw new RequestInvalidError(`context.selections: ${dangling.length} selection(s) are not in context.draftOrders`, ['context.selections']);
      }
    }
  }
  return request;
}
