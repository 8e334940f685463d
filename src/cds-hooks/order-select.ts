import { OrderSelectRequestSchema, type OrderSelectRequest } from '../schemas/cds-request';
import { checkDraftOrders, selectedDraftOrders, selectionContext } from './draft-orders-check';
import type { HookModule } from './hook-module';

/** order-select (CDS Hooks library): orders are selected; `selections` name the ones to check. */
export const orderSelect: HookModule = {
  name: 'order-select',
  requestSchema: OrderSelectRequestSchema,
  contextTokens: ['context.userId', 'context.patientId', 'context.encounterId'],
  draftOrders: true,
  checkRequest: (request) => checkDraftOrders(request as OrderSelectRequest, true),
  draftOrdersToConsider: selectedDraftOrders,
  contextFor: selectionContext,
};
