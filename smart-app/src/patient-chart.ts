import type Client from 'fhirclient/lib/Client';
import type { AnyResource } from '../../src/engine/resource-index';
import { fillTemplate } from '../../src/fhir/prefetch-template';
import type { Catalog } from '../../src/knowledge/types';

/** The patient's chart as the app read it, shaped like the service's resolved data. */
export interface PatientChart {
  patient: AnyResource | undefined;
  resources: AnyResource[];
  medications: Map<string, AnyResource>;
  /** Resource types that could not be read: "nothing found" there means "unknown". */
  unavailable: Set<string>;
  /** What could not be read, in words, for the page. */
  gaps: string[];
}

/** The FHIR server said no to the user's token (401/403): nothing can be shown. */
export class FhirRefusedError extends Error {
  constructor(readonly status: number) {
    super(`the FHIR server refused access (HTTP ${status})`);
    this.name = 'FhirRefusedError';
  }
}

const MAX_MEDICATION_READS = 50;

const statusOf = (error: unknown): number | undefined => {
  const status = (error as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' ? status : undefined;
};

/**
 * Reads the chart with the user's own token, through the same queries the service prefetches (the
 * catalogue's prefetch templates, filled for this patient), so the engine sees the data a hook call
 * would see. Our service never sees these data.
 */
export async function readPatientChart(client: Client, catalog: Catalog, patientId: string, userId: string | undefined): Promise<PatientChart> {
  const context = { patientId, ...(userId ? { userId } : {}) } as never;
  const queries = new Map<string, string>();
  for (const service of catalog.services.values()) {
    for (const template of service.prefetch) {
      const query = fillTemplate(template.template, { context });
      if (query !== undefined && !queries.has(query)) queries.set(query, template.resourceType);
    }
  }
  const chart: PatientChart = { patient: undefined, resources: [], medications: new Map(), unavailable: new Set(), gaps: [] };
  const seen = new Set<string>();
  // Several queries can return one resource (e.g. two Observation code lists): keep it once.
  const add = (resource: AnyResource) => {
    if (resource.id !== undefined) {
      const key = `${resource.resourceType}/${String(resource.id)}`;
      if (seen.has(key)) return;
      seen.add(key);
    }
    if (resource.resourceType === 'Patient') chart.patient = resource;
    else if (resource.resourceType === 'Medication') {
      if (resource.id) chart.medications.set(`Medication/${resource.id}`, resource);
    } else chart.resources.push(resource);
  };
  await Promise.all(
    [...queries].map(async ([query, resourceType]) => {
      try {
        const result = (await client.request(query, { pageLimit: 0, flat: true })) as AnyResource | AnyResource[];
        for (const resource of Array.isArray(result) ? result : [result]) if (resource && typeof resource.resourceType === 'string') add(resource);
      } catch (error) {
        const status = statusOf(error);
        if (status === 401 || status === 403) throw new FhirRefusedError(status);
        chart.unavailable.add(resourceType);
        chart.gaps.push(`${resourceType}: could not be read${status ? ` (HTTP ${status})` : ''}`);
      }
    }),
  );
  // medicationReference targets that are neither contained nor already read.
  const wanted = new Set<string>();
  for (const resource of chart.resources) {
    const ref = (resource.medicationReference as { reference?: unknown } | undefined)?.reference;
    if (typeof ref === 'string' && /^Medication\/[A-Za-z0-9\-.]{1,64}$/.test(ref) && !chart.medications.has(ref)) wanted.add(ref);
  }
  await Promise.all(
    [...wanted].slice(0, MAX_MEDICATION_READS).map(async (ref) => {
      try {
        add((await client.request(ref)) as AnyResource);
      } catch (error) {
        const status = statusOf(error);
        if (status === 401 || status === 403) throw new FhirRefusedError(status);
      }
    }),
  );
  if (!chart.patient) chart.unavailable.add('Patient');
  return chart;
}
