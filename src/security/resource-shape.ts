/**
 * Bounds on the shape of FHIR resources the engine evaluates. FHIRPath's `|`, `intersect` and
 * `distinct` compare every pair of items, so a client (or FHIR server) that sends a 40 000-item
 * array where FHIR has a single code makes one request take minutes of CPU and stalls every other
 * request. Real resources have short arrays (a few codings, identifiers, components); these limits
 * are far above that and keep the worst case of a whole request to a fraction of a second.
 */

import { MAX_JSON_DEPTH } from './json-depth';

/** Longest array accepted anywhere inside one resource. */
export const MAX_ARRAY_LENGTH = 250;
/** Array items, summed over every resource one hook request evaluates (a heavy chart has ~20 000). */
const MAX_ARRAY_ITEMS_PER_REQUEST = 250_000;

/**
 * Array items inside `resource` (nested ones included), or undefined when one array is too long or
 * the resource nests deeper than JSON input may (MAX_JSON_DEPTH), so the recursion stays bounded.
 */
export function arrayItemsOf(resource: unknown, maxArrayLength = MAX_ARRAY_LENGTH): number | undefined {
  if (resource === null || typeof resource !== 'object') return 0;
  return countItems(resource, 1, maxArrayLength);
}

function countItems(node: object, depth: number, maxArrayLength: number): number | undefined {
  if (depth > MAX_JSON_DEPTH) return undefined;
  let items = 0;
  if (Array.isArray(node)) {
    if (node.length > maxArrayLength) return undefined;
    items = node.length;
    for (let i = 0; i < node.length; i += 1) {
      const child: unknown = node[i];
      if (child !== null && typeof child === 'object') {
        const inner = countItems(child, depth + 1, maxArrayLength);
        if (inner === undefined) return undefined;
        items += inner;
      }
    }
    return items;
  }
  for (const key in node) {
    const child: unknown = (node as Record<string, unknown>)[key];
    if (child !== null && typeof child === 'object') {
      const inner = countItems(child, depth + 1, maxArrayLength);
      if (inner === undefined) return undefined;
      items += inner;
    }
  }
  return items;
}

export type ShapeVerdict = 'ok' | 'malformed' | 'over-budget';

/** One hook request's allowance: every resource is admitted (or not) before the engine reads it. */
export class ShapeBudget {
  constructor(private remaining = MAX_ARRAY_ITEMS_PER_REQUEST) {}

  admit(resource: unknown): ShapeVerdict {
    const items = arrayItemsOf(resource);
    if (items === undefined) return 'malformed';
    if (items > this.remaining) return 'over-budget';
    this.remaining -= items;
    return 'ok';
  }
}
