import { RequestInvalidError } from '../errors';
import type { OrderSelectRequest, OrderSignRequest } from '../schemas/cds-request';
import { ShapeBudget } from '../security/resource-shape';

/**
 * The orders being signed cannot be skipped like chart data: a draft the engine cannot afford to read
 * is a bad request. For order-select, selections must point into draftOrders (hook library:
 * "references FHIR resources in the draftOrders Bundle").
 */
export function checkDraftOrders(request: OrderSelectRequest | OrderSignRequest): void {
  if (!request.context.draftOrders.entry) return;
  const budget = new ShapeBudget();
  const oversized = request.context.draftOrders.entry.findIndex((e) => budget.admit(e.resource) !== 'ok');
  if (oversized !== -1) {
    throw new RequestInvalidError(`context.draftOrders.entry[${oversized}].resource is too large to evaluate (an array over the service's limit)`, [
      `context.draftOrders.entry[${oversized}].resource`,
    ]);
  }
  if (request.hook === 'order-select') {
    const ids = new Set(request.context.draftOrders.entry.map((e) => `${e.resource.resourceType}/${String((e.resource as { id?: unknown }).id)}`));
    const dangling = request.context.selections.filter((s) => !ids.has(s));
    if (dangling.length > 0) {
      throw new RequestInvalidError(`context.selections: ${dangling.length} selection(s) are not in context.draftOrders`, ['context.selections']);
    }
  }
}
