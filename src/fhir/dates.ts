/**
 * FHIR date handling. FHIR dates may be partial ("2024", "2024-03"); a partial date is read as
 * its first instant, which is the conservative choice for "within the last N days" checks only when
 * combined with a date-precision note, so callers keep the original string for display.
 */
const FHIR_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export function parseFhirDate(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = FHIR_DATE.exec(value.trim());
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, tz] = match;
  const year = Number(y);
  const month = mo ? Number(mo) : 1;
  const day = d ? Number(d) : 1;
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  if (h === undefined) return Date.UTC(year, month - 1, day);
  const utc = Date.UTC(year, month - 1, day, Number(h), Number(mi), s ? Number(s) : 0);
  if (!tz || tz === 'Z') return utc;
  const sign = tz.startsWith('-') ? -1 : 1;
  const [tzh, tzm] = tz.slice(1).split(':').map(Number);
  return utc - sign * ((tzh ?? 0) * 60 + (tzm ?? 0)) * 60_000;
}

export interface Duration {
  amount: number;
  unit: 'D' | 'W' | 'M' | 'Y';
}

export function parseDuration(text: string): Duration {
  const match = /^P(\d+)(D|W|M|Y)$/.exec(text);
  if (!match) throw new TypeError(`invalid duration '${text}' (expected e.g. P30D, P6M, P2Y)`);
  return { amount: Number(match[1]), unit: match[2] as Duration['unit'] };
}

/** Subtracts a duration from an instant using calendar months and years (P6M = six calendar months). */
export function subtractDuration(from: number, duration: Duration): number {
  const date = new Date(from);
  switch (duration.unit) {
    case 'D':
      return from - duration.amount * 86_400_000;
    case 'W':
      return from - duration.amount * 7 * 86_400_000;
    case 'M':
      return addMonthsUtc(date, -duration.amount);
    case 'Y':
      return addMonthsUtc(date, -12 * duration.amount);
  }
}

function addMonthsUtc(date: Date, months: number): number {
  const result = new Date(date.getTime());
  const day = result.getUTCDate();
  result.setUTCDate(1);
  result.setUTCMonth(result.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(result.getUTCFullYear(), result.getUTCMonth() + 1, 0)).getUTCDate();
  result.setUTCDate(Math.min(day, lastDay));
  return result.getTime();
}

export function isWithin(instant: number, now: number, duration: Duration): boolean {
  return instant >= subtractDuration(now, duration) && instant <= now + 86_400_000;
}

/** Age in completed years at `at`. */
export function ageInYears(birth: number, at: number): number {
  const b = new Date(birth);
  const a = new Date(at);
  let years = a.getUTCFullYear() - b.getUTCFullYear();
  if (a.getUTCMonth() < b.getUTCMonth() || (a.getUTCMonth() === b.getUTCMonth() && a.getUTCDate() < b.getUTCDate())) years -= 1;
  return years;
}

export function formatDate(instant: number): string {
  return new Date(instant).toISOString().slice(0, 10);
}

export function describeDuration(duration: Duration): string {
  const unit = { D: 'day', W: 'week', M: 'month', Y: 'year' }[duration.unit];
  return `${duration.amount} ${unit}${duration.amount === 1 ? '' : 's'}`;
}
