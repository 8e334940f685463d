import { OrderSignRequestSchema, type OrderSignRequest } from '../schemas/cds-request';
import { allDraftOrders, checkDraftOrders, orderContext } from './draft-orders-check';
import type { HookModule } from './hook-module';

/** order-sign (CDS Hooks library): every draft order is about to be signed. */
export const orderSign: HookModule = {
  name: 'order-sign',
  requestSchema: OrderSignRequestSchema,
  contextTokens: ['context.userId', 'context.patientId', 'context.encounterId'],
  draftOrders: true,
  checkRequest: (request) => checkDraftOrders(request as OrderSignRequest, false),
  draftOrdersToConsider: allDraftOrders,
  contextFor: orderContext,
};
