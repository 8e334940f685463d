/**
 * Card-text and resource-template placeholders ("{{fact.crcl.value}}", "{{setting.windows.calcium}}"):
 * the syntax, and the start-up check that every placeholder can resolve. Rendering is the engine's
 * (src/engine/render-template.ts); the check lives here so the knowledge compiler needs no engine code.
 */
export const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;
const FACT_PROPERTIES = new Set(['value', 'display', 'date', 'reference']);

/** Start-up check of a placeholder path; returns a message when it can never resolve. */
export function placeholderError(path: string, factIds: ReadonlySet<string>, settings: ReadonlyMap<string, unknown>): string | undefined {
  const [head, ...rest] = path.split('.');
  switch (head) {
    case 'fact': {
      const property = rest[rest.length - 1];
      const id = rest.slice(0, -1).join('.');
      if (!property || !FACT_PROPERTIES.has(property)) return `'${path}': use fact.<id>.value, .display, .date or .reference`;
      return factIds.has(id) ? undefined : `'${path}': unknown fact '${id}'`;
    }
    case 'setting':
      return settings.has(rest.join('.')) ? undefined : `'${path}': unknown setting`;
    case 'context':
      return ['patientId', 'userId', 'encounterId'].includes(rest[0] ?? '') && rest.length === 1 ? undefined : `'${path}': unknown context field`;
    case 'user':
      return rest.join('.') === 'reference' ? undefined : `'${path}': only user.reference exists`;
    case 'now':
      return ['date', 'dateTime'].includes(rest.join('.')) ? undefined : `'${path}': use now.date or now.dateTime`;
    case 'draft':
      return rest.join('.') === 'reference' ? undefined : `'${path}': only draft.reference exists`;
    default:
      return `'${path}': unknown placeholder`;
  }
}

export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}
