import { setMaxListeners } from 'node:events';
import { PrefetchUnavailableError } from '../errors';
import { bundleResources, FhirFetchError, type FhirClient } from '../fhir/fhir-client';
import { fillTemplate } from '../fhir/prefetch-template';
import type { CompiledService, PrefetchTemplate } from '../knowledge/types';
import type { HookRequest } from '../cds-hooks/hook-module';
import { ShapeBudget, type ShapeVerdict } from '../security/resource-shape';
import type { AnyResource } from '../schemas/fhir-resource';

/** How each prefetch key was satisfied; logged (key names only) and counted in metrics. */
export type KeySource = 'prefetch' | 'fetched' | 'empty' | 'unavailable';

export interface ResolvedData {
  patient: AnyResource | undefined;
  /** The chart: every resource of every key, de-duplicated, other patients' resources removed. */
  resources: AnyResource[];
  /** Medication resources by reference ("Medication/x", absolute URL or urn:uuid). */
  medications: Map<string, AnyResource>;
  /** Resource types whose data could not be obtained (a failed optional key). */
  unavailable: Set<string>;
  /** Human notes on missing data, repeated on every card. */
  gaps: string[];
  keys: Record<string, KeySource>;
  /** Why keys were unavailable (stable reason codes, for logs and metrics). */
  failures: Record<string, string>;
  fetchCount: number;
}

export interface FhirAccess {
  fhirServer: string | undefined;
  token: string | undefined;
}

export function fhirAccessOf(request: HookRequest): FhirAccess {
  return {
    fhirServer: request.fhirServer?.replace(/\/+$/, ''),
    token: request.fhirAuthorization?.access_token,
  };
}

/**
 * What the client (412 diagnostics, card text) is told. Every failure that involved the FHIR
 * server gets the same words, so a request naming an internal address cannot tell an open port
 * from a closed one; the precise reason code is in the service's log and metrics.
 */
const FHIR_SERVER_FAILED = 'the FHIR server did not provide usable data';
const REASON_TEXT: Record<string, string> = {
  cancelled: 'it was abandoned because required data could not be obtained',
  'no-fhir-server': 'it was not prefetched and no FHIR server was given',
  'unresolved-token': 'its query needs context the request did not carry',
};
const reasonText = (failure: string | undefined): string => REASON_TEXT[failure ?? 'network'] ?? FHIR_SERVER_FAILED;

/**
 * The request's FHIR deadline, created on first use: a call answered from prefetch alone (the usual
 * case) arms no timer and combines no abort signals (both showed in CPU profiles).
 */
export type Deadline = () => AbortSignal;

/** Starts the clock now; the signal, when first asked for, fires at start + timeoutMs. */
export function deadlineFrom(timeoutMs: number): Deadline {
  const started = performance.now();
  let signal: AbortSignal | undefined;
  return () => (signal ??= AbortSignal.timeout(Math.max(1, Math.round(timeoutMs - (performance.now() - started)))));
}

const PATIENT_REFERENCE = /(?:^|\/)Patient\/([^/]+)(?:\/_history\/[^/]+)?$/;

function namesOtherPatient(reference: unknown, patientId: string): boolean {
  if (reference === null || typeof reference !== 'object') return false;
  const ref = (reference as { reference?: unknown }).reference;
  if (typeof ref !== 'string' || ref.startsWith('urn:') || ref.startsWith('#')) return false;
  const match = PATIENT_REFERENCE.exec(ref);
  return match !== null && match[1] !== patientId;
}

/** Drops resources that name another patient (an EHR bug must never leak into this patient's cards). */
function belongsToPatient(resource: AnyResource, patientId: string): boolean {
  return !namesOtherPatient(resource.subject, patientId) && !namesOtherPatient(resource.patient, patientId);
}

interface KeyOutcome {
  template: PrefetchTemplate;
  source: KeySource;
  resources: AnyResource[];
  failure?: string;
}

async function resolveKey(
  template: PrefetchTemplate,
  request: HookRequest,
  client: FhirClient,
  access: FhirAccess,
  signal: Deadline,
): Promise<KeyOutcome> {
  const prefetch = request.prefetch ?? {};
  const supplied = Object.prototype.hasOwnProperty.call(prefetch, template.key) ? prefetch[template.key] : undefined;
  const hasKey = Object.prototype.hasOwnProperty.call(prefetch, template.key);

  if (hasKey && supplied === null) return { template, source: 'empty', resources: [] };
  if (hasKey && supplied && supplied.resourceType !== 'OperationOutcome') {
    const value = supplied as AnyResource;
    if (template.interaction === 'read') {
      if (value.resourceType === template.resourceType) return { template, source: 'prefetch', resources: [value] };
    } else if (value.resourceType === 'Bundle') {
      const next = (value.link as unknown[] | undefined)?.some((l) => (l as { relation?: unknown })?.relation === 'next');
      if (!next) return { template, source: 'prefetch', resources: bundleResources(value) };
      // A paginated prefetch: the rest comes from the FHIR server, or the key is incomplete.
      if (access.fhirServer) {
        try {
          return { template, source: 'prefetch', resources: await client.continueBundle(value, access.fhirServer, access.token, signal()) };
        } catch (error) {
          return { template, source: 'unavailable', resources: [], failure: error instanceof FhirFetchError ? error.reason : 'network' };
        }
      }
      return { template, source: 'unavailable', resources: [], failure: 'no-fhir-server' };
    }
    // Wrong shape for this template: fall through and fetch it ourselves.
  }

  // Omitted, an OperationOutcome, or unusable: fetch it ourselves (CDS Hooks 2.0 §Prefetch Template).
  if (!access.fhirServer) return { template, source: 'unavailable', resources: [], failure: 'no-fhir-server' };
  const query = fillTemplate(template.template, request);
  if (query === undefined) return { template, source: 'unavailable', resources: [], failure: 'unresolved-token' };
  const url = `${access.fhirServer}/${query}`;
  try {
    if (template.interaction === 'read') {
      const resource = await client.read(url, access.token, signal());
      return resource ? { template, source: 'fetched', resources: [resource] } : { template, source: 'empty', resources: [] };
    }
    return { template, source: 'fetched', resources: await client.search(url, access.token, signal()) };
  } catch (error) {
    return { template, source: 'unavailable', resources: [], failure: error instanceof FhirFetchError ? error.reason : 'network' };
  }
}

/** References from medication resources that are neither contained nor already known. */
function missingMedicationReferences(resources: readonly AnyResource[], known: Map<string, AnyResource>): string[] {
  const missing = new Set<string>();
  for (const resource of resources) {
    const ref = (resource.medicationReference as { reference?: unknown } | undefined)?.reference;
    if (typeof ref !== 'string' || ref.startsWith('#') || known.has(ref)) continue;
    const relative = /(?:^|\/)(Medication\/[A-Za-z0-9\-.]{1,64})$/.exec(ref)?.[1];
    if (relative && !known.has(relative)) missing.add(relative);
  }
  return [...missing];
}

export function indexMedication(medications: Map<string, AnyResource>, resource: AnyResource, fullUrl?: string): void {
  if (resource.resourceType !== 'Medication') return;
  if (resource.id) medications.set(`Medication/${resource.id}`, resource);
  if (fullUrl) medications.set(fullUrl, resource);
}

/** Reads Medication/x for references nothing else resolved, in parallel, under the same deadline. */
export async function fetchMedications(
  references: readonly string[],
  medications: Map<string, AnyResource>,
  client: FhirClient,
  access: FhirAccess,
  signal: Deadline,
  limit: number,
  budget: ShapeBudget = new ShapeBudget(),
): Promise<{ unresolved: number; fetched: number }> {
  if (references.length === 0) return { unresolved: 0, fetched: 0 };
  if (!access.fhirServer) return { unresolved: references.length, fetched: 0 };
  const wanted = references.slice(0, limit);
  const results = await Promise.allSettled(wanted.map((ref) => client.read(`${access.fhirServer}/${ref}`, access.token, signal())));
  let unresolved = references.length - wanted.length;
  results.forEach((result, i) => {
    if (result.status === 'fulfilled' && result.value && result.value.resourceType === 'Medication' && budget.admit(result.value) === 'ok') {
      medications.set(wanted[i]!, result.value);
    } else unresolved += 1;
  });
  return { unresolved, fetched: wanted.length };
}

/**
 * The deadline every key query listens on, plus `abandon`: once a required key is lost the answer is
 * a 412 whatever else arrives, so the other queries are abandoned at once (their sockets close)
 * instead of waiting for them up to the deadline.
 */
function abandonable(signal: Deadline, abandon: AbortController): Deadline {
  let combined: AbortSignal | undefined;
  return () => {
    if (!combined) {
      combined = AbortSignal.any([signal(), abandon.signal]);
      // Every parallel query listens on this one signal (one listener per undici request); their
      // number is bounded by the templates and the medication-read bound, so Node's default
      // warning at 11 listeners is noise here.
      setMaxListeners(200, combined);
    }
    return combined;
  };
}

/** Every prefetch key, in parallel; a lost required key abandons the others. */
async function resolveKeys(service: CompiledService, request: HookRequest, client: FhirClient, access: FhirAccess, signal: Deadline): Promise<KeyOutcome[]> {
  const abandon = new AbortController();
  const keySignal = abandonable(signal, abandon);
  return Promise.all(
    service.prefetch.map(async (template) => {
      const outcome = await resolveKey(template, request, client, access, keySignal);
      if (outcome.source === 'unavailable' && template.required) abandon.abort(new Error('required prefetch unavailable'));
      return outcome;
    }),
  );
}

/** Required keys that could not be obtained → 412, naming the keys that failed, not the ones abandoned because of them. */
function requireKeys(outcomes: readonly KeyOutcome[]): void {
  const unavailableRequired = outcomes.filter((o) => o.source === 'unavailable' && o.template.required);
  const failedRequired = unavailableRequired.filter((o) => o.failure !== 'cancelled');
  const missingRequired = failedRequired.length > 0 ? failedRequired : unavailableRequired;
  if (missingRequired.length > 0) {
    const reasons = [...new Set(missingRequired.map((o) => reasonText(o.failure)))];
    throw new PrefetchUnavailableError(
      missingRequired.map((o) => o.template.key),
      reasons.join('; '),
    );
  }
}

/** The chart as the keys delivered it, before Medication references are resolved. */
class ChartAssembly {
  readonly keys: Record<string, KeySource> = {};
  readonly failures: Record<string, string> = {};
  readonly unavailable = new Set<string>();
  readonly gaps: string[] = [];
  readonly resources: AnyResource[] = [];
  readonly budget = new ShapeBudget();
  patient: AnyResource | undefined;
  fetchCount = 0;
  private readonly seen = new Set<string>();
  private readonly refused = new Map<string, Exclude<ShapeVerdict, 'ok'>>();
  private otherPatients = 0;

  constructor(
    private readonly patientId: string,
    readonly medications: Map<string, AnyResource>,
  ) {}

  /**
   * Resources with absurd arrays, or beyond the request's allowance, are not read at all: their type
   * becomes unavailable (facts unknown) rather than letting them stall the process.
   */
  private admit(resource: AnyResource): boolean {
    const verdict = this.budget.admit(resource);
    if (verdict === 'ok') return true;
    this.unavailable.add(resource.resourceType);
    if (this.refused.get(resource.resourceType) !== 'malformed') this.refused.set(resource.resourceType, verdict);
    return false;
  }

  addKey(outcome: KeyOutcome): void {
    const { template } = outcome;
    this.keys[template.key] = outcome.source;
    if (outcome.source === 'fetched') this.fetchCount += 1;
    if (outcome.source === 'unavailable') {
      this.failures[template.key] = outcome.failure ?? 'network';
      this.unavailable.add(template.resourceType);
      this.gaps.push(`${template.resourceType} data (${template.key}) could not be obtained: ${reasonText(outcome.failure)}.`);
      return;
    }
    for (const resource of outcome.resources) {
      if (this.admit(resource)) this.addResource(resource, template.resourceType);
    }
  }

  private addResource(resource: AnyResource, keyType: string): void {
    if (resource.resourceType === 'Medication') {
      indexMedication(this.medications, resource);
      return;
    }
    if (resource.resourceType === 'Patient') {
      if (resource.id === undefined || resource.id === this.patientId) this.patient ??= resource;
      else this.otherPatients += 1;
      return;
    }
    if (resource.resourceType !== keyType) return;
    if (!belongsToPatient(resource, this.patientId)) {
      this.otherPatients += 1;
      return;
    }
    const key = resource.id ? `${resource.resourceType}/${resource.id}` : undefined;
    if (key) {
      if (this.seen.has(key)) return;
      this.seen.add(key);
    }
    this.resources.push(resource);
  }

  /** Notes for what was left out: other patients' resources, refused resource types. */
  noteLeftOut(): void {
    if (this.otherPatients > 0) this.gaps.push(`${this.otherPatients} resource(s) for another patient were ignored.`);
    for (const [type, verdict] of this.refused) {
      this.gaps.push(
        verdict === 'malformed'
          ? `${type} data could not be used: a resource had an implausibly long list (over the service's limit).`
          : `${type} data could not be used: the request carried more data than the service evaluates at once.`,
      );
    }
  }
}

/**
 * The I/O edge: every prefetch key from the request, or else from the FHIR server, in parallel under
 * one deadline. Required keys that cannot be obtained → 412; optional ones become data gaps.
 */
export async function resolveData(
  service: CompiledService,
  request: HookRequest,
  client: FhirClient,
  signal: Deadline,
  options: { maxMedicationReads: number; extraMedications?: Map<string, AnyResource> },
): Promise<ResolvedData> {
  const access = fhirAccessOf(request);
  const outcomes = await resolveKeys(service, request, client, access, signal);
  requireKeys(outcomes);
  const chart = new ChartAssembly(request.context.patientId, new Map<string, AnyResource>(options.extraMedications ?? []));
  for (const outcome of outcomes) chart.addKey(outcome);
  chart.noteLeftOut();

  const { medications, unavailable, gaps } = chart;
  let { fetchCount } = chart;
  const references = missingMedicationReferences(chart.resources, medications);
  if (references.length > 0) {
    const { unresolved, fetched } = await fetchMedications(references, medications, client, access, signal, options.maxMedicationReads, chart.budget);
    fetchCount += fetched;
    if (unresolved > 0) {
      unavailable.add('Medication');
      gaps.push(`${unresolved} medication reference(s) could not be resolved: medication facts may be incomplete.`);
    }
  }
  return { patient: chart.patient, resources: chart.resources, medications, unavailable, gaps, keys: chart.keys, failures: chart.failures, fetchCount };
}
