import type { AnyResource } from '../schemas/fhir-resource';
import type { CodeSystems } from '../fhir/codes';
import { fillTemplate } from '../fhir/prefetch-template';
import type { CompiledService, PrefetchTemplate } from '../knowledge/types';
import type { CdsHookRequest } from '../schemas/cds-request';

/**
 * Runs a service's prefetch templates against one patient's resources in memory, the way an EHR
 * would before calling the service: a read gives the resource (or null), a search gives a searchset
 * Bundle. Only the search parameters the templates use are supported; any other one is refused at
 * start-up, so the offline result can never silently differ from the server's.
 */
const SUPPORTED = new Set(['patient', 'subject', 'code', 'status', '_id', '_count']);
const MEDICATION_HOLDERS = new Set(['MedicationRequest', 'MedicationStatement', 'MedicationAdministration', 'MedicationDispense']);

export function unsupportedParameters(service: CompiledService): string[] {
  const problems: string[] = [];
  for (const template of service.prefetch) {
    const query = template.template.split('?')[1];
    if (!query) continue;
    for (const name of new URLSearchParams(query).keys()) {
      if (!SUPPORTED.has(name.split(':')[0]!)) problems.push(`${template.key}: ${name}`);
    }
  }
  return problems;
}

function codingsOf(resource: AnyResource): { system?: string; code?: string }[] {
  const concepts = [resource.code, resource.medicationCodeableConcept];
  return concepts.flatMap((c) => {
    const coding = (c as { coding?: unknown } | undefined)?.coding;
    return Array.isArray(coding) ? (coding as { system?: string; code?: string }[]) : [];
  });
}

function referenceMatches(resource: AnyResource, ids: readonly string[]): boolean {
  for (const field of ['subject', 'patient']) {
    const ref = (resource[field] as { reference?: unknown } | undefined)?.reference;
    if (typeof ref !== 'string') continue;
    const id = /(?:^|\/)Patient\/([^/]+)$/.exec(ref)?.[1];
    if (id !== undefined && ids.includes(id)) return true;
  }
  return false;
}

function matches(resource: AnyResource, params: URLSearchParams, systems: CodeSystems): boolean {
  for (const [rawName, raw] of params) {
    const name = rawName.split(':')[0]!;
    const values = raw.split(',');
    if (name === 'patient' || name === 'subject') {
      if (!referenceMatches(resource, values.map((v) => v.replace(/^Patient\//, '')))) return false;
    } else if (name === 'code') {
      const codings = codingsOf(resource);
      const hit = values.some((v) => {
        const bar = v.indexOf('|');
        if (bar < 0) return codings.some((c) => c.code === v);
        const system = systems.canonical(v.slice(0, bar));
        const code = v.slice(bar + 1);
        return codings.some((c) => c.code === code && (system === '' || (c.system !== undefined && systems.canonical(c.system) === system)));
      });
      if (!hit) return false;
    } else if (name === 'status') {
      if (!values.includes(String(resource.status))) return false;
    } else if (name === '_id') {
      if (!values.includes(String(resource.id))) return false;
    }
  }
  return true;
}

function searchset(resources: readonly AnyResource[], included: readonly AnyResource[]): AnyResource {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: resources.length,
    entry: [
      ...resources.map((resource) => ({ resource, search: { mode: 'match' } })),
      ...included.map((resource) => ({ resource, search: { mode: 'include' } })),
    ],
  };
}

/** Medication resources the chart's medication records point to (like `_include=…:medication`). */
function referencedMedications(resources: readonly AnyResource[], shared: readonly AnyResource[]): AnyResource[] {
  const wanted = new Set<string>();
  for (const resource of resources) {
    const ref = (resource.medicationReference as { reference?: unknown } | undefined)?.reference;
    const id = typeof ref === 'string' ? /(?:^|\/)Medication\/([^/]+)$/.exec(ref)?.[1] : undefined;
    if (id) wanted.add(id);
  }
  return shared.filter((r) => r.resourceType === 'Medication' && wanted.has(String(r.id)));
}

export function offlinePrefetch(
  service: CompiledService,
  request: Pick<CdsHookRequest, 'context'>,
  chart: { patient: AnyResource | undefined; resources: readonly AnyResource[]; shared: readonly AnyResource[] },
  systems: CodeSystems,
): Record<string, AnyResource | null> {
  const prefetch: Record<string, AnyResource | null> = {};
  for (const template of service.prefetch) {
    const result = runTemplate(template, request, chart, systems);
    if (result !== undefined) prefetch[template.key] = result;
  }
  return prefetch;
}

function runTemplate(
  template: PrefetchTemplate,
  request: Pick<CdsHookRequest, 'context'>,
  chart: { patient: AnyResource | undefined; resources: readonly AnyResource[]; shared: readonly AnyResource[] },
  systems: CodeSystems,
): AnyResource | null | undefined {
  const query = fillTemplate(template.template, request);
  if (query === undefined) return undefined;
  const [path, search] = query.split('?') as [string, string | undefined];
  if (template.interaction === 'read') {
    const [type, id] = path.split('/');
    if (type === 'Patient') return chart.patient && String(chart.patient.id) === decodeURIComponent(id ?? '') ? chart.patient : null;
    return chart.resources.find((r) => r.resourceType === type && String(r.id) === decodeURIComponent(id ?? '')) ?? null;
  }
  const params = new URLSearchParams(search ?? '');
  params.delete('_count');
  const found = (path === 'Patient' ? (chart.patient ? [chart.patient] : []) : chart.resources).filter(
    (r) => r.resourceType === path && matches(r, params, systems),
  );
  return searchset(found, MEDICATION_HOLDERS.has(path) ? referencedMedications(found, chart.shared) : []);
}
