/**
 * How deeply JSON from outside (request bodies, FHIR server responses) may nest. FHIR resources
 * nest a dozen levels or so; hostile input nests thousands, and any recursive code (toString of an
 * array used as an id, FHIRPath, serializers) then overflows the stack. Refusing it at the edge
 * closes that whole class of crash.
 */
export const MAX_JSON_DEPTH = 100;

/** True when `value` has containers nested more than `limit` deep. Iterative: never recurses itself. */
export function exceedsJsonDepth(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  if (value === null || typeof value !== 'object') return false;
  const stack: [object, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > limit) return true;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}
