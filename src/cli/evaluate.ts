import { randomUUID } from 'node:crypto';
import { CdsError } from '../errors';
import { runHook, type HookDeps } from '../engine/run-hook';
import type { AnyResource } from '../schemas/fhir-resource';
import { validateHookRequest } from '../engine/validate-request';
import { FhirClient } from '../fhir/fhir-client';
import type { Catalog, CompiledService } from '../knowledge/types';
import type { Card } from '../schemas/cds-response';
import { requestContextFor, type HookModule } from '../cds-hooks/hook-module';
import { hookModuleFor } from '../cds-hooks/registry';
import { offlinePrefetch, unsupportedParameters } from './offline-prefetch';
import type { PatientRecord } from './patient-records';

export interface EvaluateOptions {
  hook: string;
  /** The draft order for order hooks (a MedicationRequest); its subject is set to each patient. */
  order?: AnyResource;
  /** The evaluation instant (epoch ms): "today" for every window and age. */
  now: number;
  userId: string;
}

export interface PatientResult {
  patientId: string;
  name?: string;
  hook: string;
  cards: Card[];
  ruleIds: string[];
  /** Rules that could not be decided for lack of data. */
  undecided: string[];
  /** The request was refused (e.g. an id the CDS Hooks schema rejects); no cards. */
  error?: string;
}

/** A zoledronic acid 4 mg IV every-6-months draft, as an EHR's order entry would send it. */
function defaultZoledronicOrder(): AnyResource {
  return {
    resourceType: 'MedicationRequest',
    id: 'cli-draft-zoledronic-acid',
    status: 'draft',
    intent: 'order',
    medicationCodeableConcept: {
      coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '351114', display: 'zoledronic acid 4 MG per 5 ML injection' }],
      text: 'zoledronic acid 4 mg/5 mL injection',
    },
    dosageInstruction: [
      {
        text: '4 mg IV over 15 minutes every 6 months',
        timing: { repeat: { frequency: 1, period: 6, periodUnit: 'mo', duration: 15, durationUnit: 'min' } },
        route: { coding: [{ system: 'http://snomed.info/sct', code: '47625008', display: 'Intravenous route' }] },
        doseAndRate: [{ doseQuantity: { value: 4, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }],
      },
    ],
  };
}

function patientName(patient: AnyResource | undefined): string | undefined {
  const name = Array.isArray(patient?.name) ? (patient.name[0] as { given?: unknown; family?: unknown; text?: unknown } | undefined) : undefined;
  if (!name) return undefined;
  if (typeof name.text === 'string') return name.text;
  const given = Array.isArray(name.given) ? name.given.filter((g): g is string => typeof g === 'string').join(' ') : '';
  return [given, typeof name.family === 'string' ? name.family : ''].filter(Boolean).join(' ') || undefined;
}

/**
 * Runs the service's own engine (runHook: facts, rules, cards) on charts read from files: the
 * prefetch is computed from the chart, no FHIR server is called, nothing is sent anywhere.
 */
export class OfflineEvaluator {
  private readonly service: CompiledService;
  private readonly deps: HookDeps;
  private readonly module: HookModule;

  constructor(
    private readonly catalog: Catalog,
    private readonly options: EvaluateOptions,
  ) {
    const module = hookModuleFor(options.hook);
    if (!module) throw new TypeError(`unknown hook ${options.hook}`);
    const service = [...catalog.services.values()].find((s) => s.hooks.includes(options.hook));
    if (!service) throw new TypeError(`no service in the knowledge base answers ${options.hook}`);
    const unsupported = unsupportedParameters(service);
    if (unsupported.length > 0) throw new TypeError(`offline prefetch cannot run these search parameters: ${unsupported.join(', ')}`);
    if (module.draftOrders && options.order && options.order.resourceType !== 'MedicationRequest') {
      throw new TypeError('--order must be a FHIR MedicationRequest');
    }
    this.service = service;
    this.module = module;
    this.deps = {
      catalog,
      // Never called: every key is prefetched and the request names no fhirServer.
      fhirClient: new FhirClient({ maxPages: 1, maxResponseBytes: 1024, maxResources: 1 }),
      now: () => options.now,
      uuid: randomUUID,
      fhirTimeoutMs: 1000,
      maxMedicationReads: 0,
    };
  }

  get serviceId(): string {
    return this.service.id;
  }

  private request(record: PatientRecord, shared: readonly AnyResource[]): unknown {
    let draftOrders: AnyResource[] | undefined;
    if (this.module.draftOrders) {
      const draft = structuredClone(this.options.order ?? defaultZoledronicOrder());
      draft.id ??= 'cli-draft';
      draft.subject = { reference: `Patient/${record.patientId}` };
      draftOrders = [draft];
    }
    const context = requestContextFor(this.module, { userId: this.options.userId, patientId: record.patientId, ...(draftOrders ? { draftOrders } : {}) });
    const prefetch = offlinePrefetch(this.service, { context } as never, { patient: record.patient, resources: record.resources, shared }, this.catalog.codeSystems);
    return { hookInstance: randomUUID(), hook: this.options.hook, context, prefetch };
  }

  async evaluate(record: PatientRecord, shared: readonly AnyResource[] = []): Promise<PatientResult> {
    const name = patientName(record.patient);
    const base = { patientId: record.patientId, ...(name ? { name } : {}), hook: this.options.hook };
    try {
      const request = validateHookRequest(this.service, this.request(record, shared));
      const outcome = await runHook(this.service, request, this.deps);
      return { ...base, cards: outcome.cards, ruleIds: outcome.cards.map((c) => c.source.topic?.code ?? '?'), undecided: outcome.undecided };
    } catch (error) {
      if (error instanceof CdsError) return { ...base, cards: [], ruleIds: [], undecided: [], error: `${error.code}: ${error.message}` };
      throw error;
    }
  }
}
