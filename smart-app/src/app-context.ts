/**
 * The card's appContext (CDS Hooks 2.0 Link.appContext), handed to the app in the token response:
 * `{"rule":"PV-NEXT-DOSE"}` — which card the user came from; never patient data. Anything else is
 * ignored (the app then opens on the patient's first card).
 */
export function ruleFromAppContext(appContext: unknown): string | undefined {
  if (typeof appContext !== 'string' || appContext.length > 1000) return undefined;
  try {
    const parsed = JSON.parse(appContext) as unknown;
    const rule = (parsed as { rule?: unknown } | null)?.rule;
    return typeof rule === 'string' && /^[A-Z]{2}-[A-Z0-9-]{1,60}$/.test(rule) ? rule : undefined;
  } catch {
    return undefined;
  }
}
