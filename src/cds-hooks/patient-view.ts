import { PatientViewRequestSchema } from '../schemas/cds-request';
import type { HookModule } from './hook-module';

/** patient-view (CDS Hooks library): the chart is opened. */
export const patientView: HookModule = {
  name: 'patient-view',
  requestSchema: PatientViewRequestSchema,
  contextTokens: ['context.userId', 'context.patientId', 'context.encounterId'],
  draftOrders: false,
};
