/**
 * The demo charts are written as if today were the manifest's anchor date. Loading them "as of"
 * another day moves every FHIR date, dateTime and instant by the same whole number of days, so
 * intervals (days since the last infusion, age, lab windows) stay exactly as written. Time of day
 * and UTC offset are kept. Partial dates (YYYY, YYYY-MM) are not used in the demo data and are left alone.
 */
const DATE = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$/;
const DAY_MS = 86_400_000;

function utcDay(date: Date): number {
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
}

/** Whole days from the anchor date (YYYY-MM-DD) to the UTC day of `asOf`. */
export function daysSinceAnchor(anchorDate: string, asOf: Date): number {
  const anchor = Date.parse(`${anchorDate}T00:00:00Z`);
  if (Number.isNaN(anchor)) throw new TypeError(`invalid anchor date '${anchorDate}'`);
  return Math.round((utcDay(asOf) - anchor) / DAY_MS);
}

export function shiftDateString(value: string, days: number): string {
  const match = DATE.exec(value);
  if (!match) return value;
  const shifted = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) + days * DAY_MS);
  return `${shifted.toISOString().slice(0, 10)}${match[4] ?? ''}`;
}

/** A deep copy of a FHIR resource (or Bundle) with every full date string moved by `days`. */
export function shiftDates<T>(value: T, days: number): T {
  if (days === 0) return structuredClone(value);
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') return shiftDateString(node, days);
    if (Array.isArray(node)) return node.map(walk);
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node as Record<string, unknown>).map(([key, child]) => [key, walk(child)]));
    }
    return node;
  };
  return walk(value) as T;
}
