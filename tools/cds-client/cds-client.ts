import { randomUUID } from 'node:crypto';
import { resolvePrefetch, type FhirCall } from './prefetch';

/**
 * A CDS Hooks 2.0 client that behaves like the public CDS Hooks sandbox: discovery, prefetch
 * resolved against an open FHIR server (with the sandbox's quirks), a signed JWT per call whose
 * `aud` is the exact URL invoked, no `fhirAuthorization` (open server), sandbox-shaped order
 * contexts, and feedback posts. Used by the end-to-end tests and `npm run cds-client`.
 */
export type HookName = 'patient-view' | 'order-select' | 'order-sign';

export interface DiscoveredService {
  hook: string;
  id: string;
  title?: string;
  description: string;
  prefetch?: Record<string, string>;
}

export interface Card {
  uuid?: string;
  summary: string;
  detail?: string;
  indicator: 'info' | 'warning' | 'critical';
  source: { label: string; url?: string; topic?: { system: string; code: string; display?: string } };
  suggestions?: { label: string; uuid?: string; isRecommended?: boolean; actions?: Record<string, unknown>[] }[];
  selectionBehavior?: string;
  overrideReasons?: { system: string; code: string; display?: string }[];
  links?: { label: string; url: string; type: string }[];
}

export interface HookCall {
  status: number;
  body: unknown;
  cards: Card[];
  request: Record<string, unknown>;
  fhirCalls: FhirCall[];
  skippedPrefetch: string[];
  /** The Authorization header sent. */
  authorization: string | undefined;
}

export interface FeedbackEntry {
  card: string;
  outcome: 'accepted' | 'overridden';
  acceptedSuggestions?: { id: string }[];
  overrideReason?: { reason?: { system: string; code: string; display?: string }; userComment?: string };
  outcomeTimestamp: string;
}

export interface CdsClientOptions {
  /** The service base: discovery is `{serviceBase}/cds-services`. */
  serviceBase: string;
  fhirServer: string;
  /** Signs one JWT per call for the given aud; without it no Authorization header is sent. */
  tokenFor?: (aud: string) => string;
  userId?: string;
  fetch?: typeof fetch;
}

export class CdsClient {
  readonly serviceBase: string;
  private readonly doFetch: typeof fetch;
  private services: DiscoveredService[] | undefined;

  constructor(private readonly options: CdsClientOptions) {
    this.serviceBase = options.serviceBase.replace(/\/+$/, '');
    this.doFetch = options.fetch ?? fetch;
  }

  private headers(aud: string, json: boolean): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (json) headers['content-type'] = 'application/json';
    if (this.options.tokenFor) headers.authorization = `Bearer ${this.options.tokenFor(aud)}`;
    return headers;
  }

  async discover(): Promise<{ status: number; services: DiscoveredService[] }> {
    const url = `${this.serviceBase}/cds-services`;
    const response = await this.doFetch(url, { headers: this.headers(url, false) });
    const body = (await response.json()) as { services?: DiscoveredService[] };
    this.services = body.services ?? [];
    return { status: response.status, services: this.services };
  }

  async serviceFor(hook: HookName): Promise<DiscoveredService> {
    const services = this.services ?? (await this.discover()).services;
    const service = services.find((s) => s.hook === hook);
    if (!service) throw new Error(`discovery lists no service for ${hook}`);
    return service;
  }

  /**
   * Calls the service for `hook`. prefetch 'sandbox' resolves the discovery templates first;
   * 'none' sends no prefetch, so the service reads fhirServer itself.
   */
  async call(hook: HookName, context: Record<string, unknown>, options: { prefetch?: 'sandbox' | 'none' } = {}): Promise<HookCall> {
    const service = await this.serviceFor(hook);
    let prefetch: Record<string, unknown> | undefined;
    let fhirCalls: FhirCall[] = [];
    let skippedPrefetch: string[] = [];
    if ((options.prefetch ?? 'sandbox') === 'sandbox' && service.prefetch) {
      const resolved = await resolvePrefetch(service.prefetch, context, this.options.fhirServer, { fetch: this.doFetch });
      prefetch = resolved.prefetch;
      fhirCalls = resolved.calls;
      skippedPrefetch = resolved.skipped;
    }
    const request: Record<string, unknown> = {
      hookInstance: randomUUID(),
      hook,
      fhirServer: this.options.fhirServer,
      context,
      ...(prefetch ? { prefetch } : {}),
    };
    const url = `${this.serviceBase}/cds-services/${encodeURIComponent(service.id)}`;
    const headers = this.headers(url, true);
    const response = await this.doFetch(url, { method: 'POST', headers, body: JSON.stringify(request) });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: keep the text for the assertion message.
    }
    const cards = response.ok && Array.isArray((body as { cards?: unknown }).cards) ? ((body as { cards: Card[] }).cards) : [];
    return { status: response.status, body, cards, request, fhirCalls, skippedPrefetch, authorization: headers.authorization };
  }

  patientView(patientId: string, options: { prefetch?: 'sandbox' | 'none' } = {}): Promise<HookCall> {
    return this.call('patient-view', { userId: this.options.userId ?? 'Practitioner/demo-oncologist', patientId }, options);
  }

  orderSelect(patientId: string, draft: DraftOrders, options: { prefetch?: 'sandbox' | 'none' } = {}): Promise<HookCall> {
    return this.call('order-select', { userId: this.options.userId ?? 'Practitioner/demo-oncologist', patientId, selections: draft.selections, draftOrders: draft.draftOrders }, options);
  }

  orderSign(patientId: string, draft: DraftOrders, options: { prefetch?: 'sandbox' | 'none' } = {}): Promise<HookCall> {
    return this.call('order-sign', { userId: this.options.userId ?? 'Practitioner/demo-oncologist', patientId, draftOrders: draft.draftOrders }, options);
  }

  /** POST {service}/feedback with aud = that URL. Returns the status; 404 when the service has no feedback route. */
  async sendFeedback(serviceId: string, feedback: FeedbackEntry[]): Promise<{ status: number; body: unknown; authorization: string | undefined }> {
    const url = `${this.serviceBase}/cds-services/${encodeURIComponent(serviceId)}/feedback`;
    const headers = this.headers(url, true);
    const response = await this.doFetch(url, { method: 'POST', headers, body: JSON.stringify({ feedback }) });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON.
    }
    return { status: response.status, body, authorization: headers.authorization };
  }
}

/** Feedback for a suggestion the clinician accepted (the sandbox sends it only when both have a uuid). */
export function acceptedFeedback(card: Card, suggestionIndex = 0, at = new Date()): FeedbackEntry {
  const suggestion = card.suggestions?.[suggestionIndex];
  if (!card.uuid || !suggestion?.uuid) throw new Error('feedback needs a card and suggestion uuid');
  return { card: card.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: suggestion.uuid }], outcomeTimestamp: at.toISOString() };
}

export function overriddenFeedback(card: Card, reasonIndex = 0, userComment?: string, at = new Date()): FeedbackEntry {
  if (!card.uuid) throw new Error('feedback needs a card uuid');
  const reason = card.overrideReasons?.[reasonIndex];
  return {
    card: card.uuid,
    outcome: 'overridden',
    ...(reason || userComment ? { overrideReason: { ...(reason ? { reason } : {}), ...(userComment ? { userComment } : {}) } } : {}),
    outcomeTimestamp: at.toISOString(),
  };
}

export interface DraftOrders {
  draftOrders: Record<string, unknown>;
  selections: string[];
}

/**
 * A zoledronic acid draft order as an EHR's order entry sends it — shaped like the sandbox's
 * (Bundle without `type`, MedicationRequest `category` as an object) — next to an unrelated,
 * unselected draft (ondansetron), so `selections` matters.
 */
export function zoledronicDraftOrders(patientId: string, overrides: Record<string, unknown> = {}): DraftOrders {
  const zoledronic = {
    resourceType: 'MedicationRequest',
    id: 'draft-zoledronic-acid',
    status: 'draft',
    intent: 'order',
    category: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-category', code: 'outpatient' }] },
    medicationCodeableConcept: {
      coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '351114', display: 'zoledronic acid 4 MG per 5 ML injection' }],
      text: 'zoledronic acid 4 mg/5 mL concentrate for infusion',
    },
    subject: { reference: `Patient/${patientId}` },
    dosageInstruction: [
      {
        text: '4 mg IV over 15 minutes every 6 months',
        timing: { repeat: { frequency: 1, period: 6, periodUnit: 'mo', duration: 15, durationUnit: 'min' } },
        route: { coding: [{ system: 'http://snomed.info/sct', code: '47625008', display: 'Intravenous route' }] },
        doseAndRate: [{ doseQuantity: { value: 4, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }],
      },
    ],
    ...overrides,
  };
  const ondansetron = {
    resourceType: 'MedicationRequest',
    id: 'draft-ondansetron',
    status: 'draft',
    intent: 'order',
    category: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-category', code: 'outpatient' }] },
    medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '312086', display: 'ondansetron 4 MG Oral Tablet' }] },
    subject: { reference: `Patient/${patientId}` },
    dosageInstruction: [{ text: '4 mg by mouth every 8 hours as needed for nausea' }],
  };
  return {
    draftOrders: { resourceType: 'Bundle', entry: [{ resource: zoledronic }, { resource: ondansetron }] },
    selections: [`MedicationRequest/${zoledronic.id as string}`],
  };
}

export function ruleIdsOf(cards: readonly Card[]): string[] {
  return cards.map((card) => card.source.topic?.code ?? '?');
}
