import { RequestInvalidError } from '../errors';
import type { OrderSelectRequest, OrderSignRequest } from '../schemas/cds-request';
import type { AnyResource } from '../schemas/fhir-resource';
import { ShapeBudget } from '../security/resource-shape';
import type { ContextInput, DraftOrders, HookRequest } from './hook-module';

/**
 * The orders being signed cannot be skipped like chart data: a draft the engine cannot afford to read
 * is a bad request. For order-select, selections must point into draftOrders (hook library:
 * "references FHIR resources in the draftOrders Bundle").
 */
export function checkDraftOrders(request: OrderSelectRequest | OrderSignRequest, selects: boolean): void {
  if (!request.context.draftOrders.entry) return;
  const budget = new ShapeBudget();
  const oversized = request.context.draftOrders.entry.findIndex((e) => budget.admit(e.resource) !== 'ok');
  if (oversized !== -1) {
    throw new RequestInvalidError(`context.draftOrders.entry[${oversized}].resource is too large to evaluate (an array over the service's limit)`, [
      `context.draftOrders.entry[${oversized}].resource`,
    ]);
  }
  if (selects && 'selections' in request.context) {
    const ids = new Set(request.context.draftOrders.entry.map((e) => `${e.resource.resourceType}/${String((e.resource as { id?: unknown }).id)}`));
    const dangling = request.context.selections.filter((s) => !ids.has(s));
    if (dangling.length > 0) {
      throw new RequestInvalidError(`context.selections: ${dangling.length} selection(s) are not in context.draftOrders`, ['context.selections']);
    }
  }
}

/** context.draftOrders of a validated order request: every entry, with its fullUrl when it has one. */
function draftEntries(request: HookRequest): DraftOrders['entries'] {
  const bundle = request.context.draftOrders as { entry?: unknown } | undefined;
  const entries = Array.isArray(bundle?.entry) ? (bundle.entry as { resource: AnyResource; fullUrl?: unknown }[]) : [];
  return entries.map((e) => ({ resource: e.resource, fullUrl: typeof e.fullUrl === 'string' ? e.fullUrl : undefined }));
}

function ordersOf(entries: DraftOrders['entries']): AnyResource[] {
  return entries.map((e) => e.resource).filter((r) => r.resourceType !== 'Medication');
}

/** order-sign: every draft order is about to be signed. */
export function allDraftOrders(request: HookRequest): DraftOrders {
  const entries = draftEntries(request);
  return { entries, candidates: ordersOf(entries) };
}

/** order-select: only the selected draft orders. */
export function selectedDraftOrders(request: HookRequest): DraftOrders {
  const entries = draftEntries(request);
  const selected = new Set(request.context.selections as string[]);
  return { entries, candidates: ordersOf(entries).filter((r) => r.id !== undefined && selected.has(`${r.resourceType}/${r.id}`)) };
}

/** An order hook's context: the patient, the user and the draft orders as a collection Bundle. */
export function orderContext(input: ContextInput): Record<string, unknown> {
  const entry = (input.draftOrders ?? []).map((resource) => ({ resource }));
  return { userId: input.userId, patientId: input.patientId, draftOrders: { resourceType: 'Bundle', type: 'collection', entry } };
}

/** order-select's context: an order context whose selections default to every order (not Medication entries). */
export function selectionContext(input: ContextInput): Record<string, unknown> {
  const selections =
    input.selections ??
    ordersOf((input.draftOrders ?? []).map((resource) => ({ resource, fullUrl: undefined }))).map((r) => `${r.resourceType}/${String(r.id)}`);
  return { ...orderContext(input), selections: [...selections] };
}
