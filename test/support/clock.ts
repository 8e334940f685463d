/** The fixed "now" of every test: scenario dates are written relative to it. */
export const TEST_NOW = Date.parse('2026-11-27T12:00:00Z');

/** Deterministic UUIDs (version 4 layout) so whole cards can be compared. */
export function seededUuid(seed = 0): () => string {
  let counter = seed;
  return () => {
    counter += 1;
    return `00000000-0000-4000-8000-${counter.toString(16).padStart(12, '0')}`;
  };
}

export function daysAgo(days: number, from = TEST_NOW): string {
  return new Date(from - days * 86_400_000).toISOString();
}

export function dateDaysAgo(days: number, from = TEST_NOW): string {
  return daysAgo(days, from).slice(0, 10);
}
