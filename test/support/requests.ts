import { randomUUID } from 'node:crypto';
import type { AnyResource } from '../../src/engine/resource-index';
import { requestContextFor } from '../../src/cds-hooks/hook-module';
import { hookModuleFor } from '../../src/cds-hooks/registry';
import { fillTemplate } from '../../src/fhir/prefetch-template';
import { projectCatalog } from './catalog';
import { MiniFhirStore, searchset } from './mini-fhir-store';

export const ELIGIBILITY = 'zoledronic-acid-eligibility';
export const ORDER_SELECT = 'zoledronic-acid-order-select';
export const ORDER_SIGN = 'zoledronic-acid-order-sign';

/** The service id that answers an order hook (one id per hook: clients key services by id). */
export function orderService(hook: 'order-select' | 'order-sign'): string {
  return hook === 'order-select' ? ORDER_SELECT : ORDER_SIGN;
}

export interface HookRequestOptions {
  patientId: string;
  userId?: string;
  encounterId?: string;
  prefetch?: Record<string, unknown>;
  fhirServer?: string;
  accessToken?: string;
  hookInstance?: string;
}

function base(hook: string, options: HookRequestOptions) {
  return {
    hookInstance: options.hookInstance ?? randomUUID(),
    hook,
    ...(options.fhirServer ? { fhirServer: options.fhirServer } : {}),
    ...(options.accessToken
      ? {
          fhirAuthorization: {
            access_token: options.accessToken,
            token_type: 'Bearer',
            expires_in: 300,
            scope: 'user/Patient.read user/Observation.read user/Condition.read user/MedicationRequest.read',
            subject: 'zoledronic-cds',
          },
        }
      : {}),
    ...(options.prefetch ? { prefetch: options.prefetch } : {}),
  };
}

export function patientViewRequest(options: HookRequestOptions) {
  return {
    ...base('patient-view', options),
    context: {
      userId: options.userId ?? 'Practitioner/onc-1',
      patientId: options.patientId,
      ...(options.encounterId ? { encounterId: options.encounterId } : {}),
    },
  };
}

export function orderRequest(hook: 'order-select' | 'order-sign', options: HookRequestOptions & { draftOrders: AnyResource[]; selections?: string[] }) {
  const context: Record<string, unknown> = {
    userId: options.userId ?? 'Practitioner/onc-1',
    patientId: options.patientId,
    ...(options.encounterId ? { encounterId: options.encounterId } : {}),
    draftOrders: { resourceType: 'Bundle', type: 'collection', entry: options.draftOrders.map((resource) => ({ resource })) },
  };
  if (hook === 'order-select') {
    context.selections = options.selections ?? options.draftOrders.filter((r) => r.resourceType !== 'Medication').map((r) => `${r.resourceType}/${r.id}`);
  }
  return { ...base(hook, options), context };
}

/** The service that answers a hook in this repository's knowledge (one service per hook). */
export function serviceForHook(hook: string): string {
  const service = [...projectCatalog().services.values()].find((s) => s.hooks.includes(hook));
  if (!service) throw new Error(`no service in the knowledge answers ${hook}`);
  return service.id;
}

/** A request for any registered hook (a scenario's), its context built by the hook module. */
export function hookRequest(hook: string, options: HookRequestOptions & { draftOrders?: AnyResource[]; selections?: string[] }) {
  const module = hookModuleFor(hook);
  if (!module) throw new Error(`unknown hook ${hook}`);
  const context = requestContextFor(module, {
    userId: options.userId ?? 'Practitioner/onc-1',
    patientId: options.patientId,
    ...(options.draftOrders ? { draftOrders: options.draftOrders } : {}),
    ...(options.selections ? { selections: options.selections } : {}),
  });
  return { ...base(hook, options), context };
}

/**
 * What an EHR would prefetch for this service from the patient's chart: each template run against the
 * chart (reads give the resource or null, searches a searchset Bundle).
 */
export function prefetchFor(serviceId: string, chart: readonly AnyResource[], patientId: string, userId = 'Practitioner/onc-1'): Record<string, unknown> {
  const service = projectCatalog().services.get(serviceId);
  if (!service) throw new Error(`no service ${serviceId}`);
  const store = new MiniFhirStore(chart);
  const out: Record<string, unknown> = {};
  for (const template of service.prefetch) {
    const query = fillTemplate(template.template, { context: { patientId, userId } } as never);
    if (query === undefined) continue;
    const [path, search] = query.split('?');
    if (template.interaction === 'read') {
      const [type, id] = path!.split('/');
      out[template.key] = store.read(type!, decodeURIComponent(id!)) ?? null;
    } else {
      out[template.key] = searchset(store.search(path!, new URLSearchParams(search)));
    }
  }
  return out;
}
