import type { AnyResource } from '../../src/engine/resource-index';

/**
 * A tiny in-memory FHIR store answering the searches our prefetch templates use (patient/subject
 * reference, code token lists, status, _id). Both the test FHIR HTTP server and the prefetch
 * builder use it, so "prefetched" and "fetched" data are the same by construction.
 */
export class MiniFhirStore {
  private readonly resources: AnyResource[];

  constructor(resources: readonly AnyResource[]) {
    this.resources = resources.map((r) => structuredClone(r));
  }

  all(): readonly AnyResource[] {
    return this.resources;
  }

  read(type: string, id: string): AnyResource | undefined {
    return this.resources.find((r) => r.resourceType === type && r.id === id);
  }

  search(type: string, params: URLSearchParams): AnyResource[] {
    return this.resources.filter((r) => {
      if (r.resourceType !== type) return false;
      for (const [name, raw] of params) {
        if (name.startsWith('_') && name !== '_id') continue;
        const values = raw.split(',');
        if (name === 'patient' || name === 'subject') {
          const ref = ((r.subject ?? r.patient) as { reference?: string } | undefined)?.reference ?? '';
          if (!values.some((v) => ref === `Patient/${v.replace(/^Patient\//, '')}`)) return false;
        } else if (name === 'code') {
          const codings = codingsOf(r);
          if (!values.some((v) => codings.some((c) => (v.includes('|') ? `${c.system}|${c.code}` === v : c.code === v)))) return false;
        } else if (name === 'status') {
          if (!values.includes(String(r.status))) return false;
        } else if (name === '_id') {
          if (!values.includes(String(r.id))) return false;
        }
      }
      return true;
    });
  }
}

function codingsOf(resource: AnyResource): { system?: string; code?: string }[] {
  const concepts: unknown[] = [resource.code, resource.medicationCodeableConcept];
  return concepts.flatMap((c) => ((c as { coding?: unknown[] } | undefined)?.coding ?? []) as { system?: string; code?: string }[]);
}

export function searchset(resources: readonly AnyResource[], link?: { relation: string; url: string }[]): AnyResource {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: resources.length,
    ...(link ? { link } : {}),
    entry: resources.map((resource) => ({ fullUrl: `urn:uuid:${resource.resourceType}-${resource.id}`, resource, search: { mode: 'match' } })),
  };
}
