/**
 * `npm run sandbox` keeps the service's JSON log out of the way but must not hide its warnings: a
 * refused JWT looks, in the CDS Hooks sandbox, exactly like "no recommendations". This turns one log
 * line into one readable line when it is a warning or worse (pino level ≥ 40), else undefined.
 */
const LEVEL_NAMES: Record<number, string> = { 40: 'warning', 50: 'error', 60: 'fatal' };

/** Fields worth showing; the service's log holds no PHI or tokens, and we still pick ids and codes only. */
const SHOWN_FIELDS = ['method', 'route', 'status', 'authFailure', 'issuer', 'tenant', 'errorCode', 'serviceId', 'hook'] as const;

export function describeServiceWarning(line: string): string | undefined {
  if (!line.startsWith('{')) {
    // Not pino: a start-up error on stderr is worth showing as it is.
    return line.trim() === '' ? undefined : `CDS service: ${line}`;
  }
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const level = typeof entry.level === 'number' ? entry.level : 0;
  if (level < 40) return undefined;
  const details = SHOWN_FIELDS.filter((field) => entry[field] !== undefined).map((field) => `${field}=${String(entry[field])}`);
  const hint = entry.authFailure ? ' (the JWT was refused; see "Trust and authentication" in README.md)' : '';
  return `CDS service ${LEVEL_NAMES[Math.min(60, Math.floor(level / 10) * 10)] ?? 'warning'}: ${String(entry.msg ?? '')}${details.length ? ` ${details.join(' ')}` : ''}${hint}`;
}
