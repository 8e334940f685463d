/**
 * Bounds on the shape of FHIR resources the engine evaluates. FHIRPath's `|`, `intersect` and
 * `distinct` compare every pair of items, so a client (or FHIR server) that sends a 40 000-item
 * array where FHIR has a single code makes one request take minutes of CPU and stalls every other
 * request. Real resources have short arrays (a few codings, identifiers, components); these limits
 * are far above that and keep the worst case of a whole request to a fraction of a second.
 */

/** Longest array accepted anywhere inside one resource. */
export const MAX_ARRAY_LENGTH = 250;
/** Array items, summed over every resource one hook request evaluates (a heavy chart has ~20 000). */
export const MAX_ARRAY_ITEMS_PER_REQUEST = 250_000;

/** Array items inside `resource` (nested ones included), or undefined when one array is too long. */
export function arrayItemsOf(resource: unknown, maxArrayLength = MAX_ARRAY_LENGTH): number | undefined {
  if (resource === null || typeof resource !== 'object') return 0;
  let items = 0;
  const stack: object[] = [resource];
  while (stack.length > 0) {
    const node = stack.pop()!;
    let children: unknown[];
    if (Array.isArray(node)) {
      if (node.length > maxArrayLength) return undefined;
      items += node.length;
      children = node;
    } else {
      children = Object.values(node);
    }
    for (const child of children) if (child !== null && typeof child === 'object') stack.push(child);
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
