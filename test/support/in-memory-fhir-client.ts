import type { AnyResource } from '../../src/engine/resource-index';
import { bundleResources, type FhirClient } from '../../src/fhir/fhir-client';
import { MiniFhirStore } from './mini-fhir-store';

/** The FHIR base URL in-process hook requests name; nothing listens there. */
export const IN_MEMORY_FHIR_BASE = 'http://fhir.in-memory.test/r4';

/**
 * A FhirClient answered from a chart in memory, through the same MiniFhirStore as the test FHIR HTTP
 * server, so in-process runs of runHook see exactly what HTTP runs fetch. Records each URL asked for.
 */
export function inMemoryFhirClient(chart: readonly AnyResource[]): { client: FhirClient; requests: string[] } {
  const store = new MiniFhirStore(chart);
  const requests: string[] = [];
  const pathOf = (url: string): string => {
    requests.push(url);
    if (!url.startsWith(`${IN_MEMORY_FHIR_BASE}/`)) throw new Error(`in-memory FHIR client: unexpected server in ${url}`);
    return url.slice(IN_MEMORY_FHIR_BASE.length + 1);
  };
  const client = {
    forCall: () => client,
    read: async (url: string) => {
      const [type, id] = pathOf(url).split('/');
      const found = store.read(type!, id!);
      return found ? structuredClone(found) : null;
    },
    search: async (url: string) => {
      const [type, query] = pathOf(url).split('?');
      return store.search(type!, new URLSearchParams(query ?? '')).map((r) => structuredClone(r));
    },
    continueBundle: async (first: AnyResource) => {
      // Prefetched bundles in scenarios are complete: a next link would need the HTTP tier.
      if (Array.isArray(first.link) && first.link.some((l: { relation?: string }) => l?.relation === 'next')) {
        throw new Error('in-memory FHIR client: paginated prefetch is not supported');
      }
      return bundleResources(first);
    },
  };
  return { client: client as unknown as FhirClient, requests };
}
