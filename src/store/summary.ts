import type { OverrideReasonCount, SummaryPeriod, SummaryRow } from './store';

/**
 * Pure roll-up of per-day counts into report rows. The databases group by UTC day (epoch ms divided
 * by 86 400 000, the same integer arithmetic in both); weeks and months are made here, so both
 * adapters share one calendar. A card belongs to the day it was issued, so summing per-day distinct
 * card counts gives distinct cards per week or month.
 */

export const DAY_MS = 86_400_000;

export interface DayCount {
  serviceId: string;
  ruleId: string;
  day: number;
  count: number;
}

export interface DayOutcomeCount extends DayCount {
  outcome: 'accepted' | 'overridden';
}

export interface DayReasonCount extends DayCount {
  system: string | undefined;
  code: string | undefined;
  display: string | undefined;
}

/** The label of the period a UTC day falls in: 2026-11-27 (day), 2026-11-23 (its week's Monday), 2026-11 (month). */
function periodOf(day: number, period: SummaryPeriod): string {
  const date = new Date(day * DAY_MS);
  if (period === 'month') return date.toISOString().slice(0, 7);
  if (period === 'week') {
    const sinceMonday = (date.getUTCDay() + 6) % 7;
    return new Date((day - sinceMonday) * DAY_MS).toISOString().slice(0, 10);
  }
  return date.toISOString().slice(0, 10);
}

export function rollUp(
  shown: readonly DayCount[],
  outcomes: readonly DayOutcomeCount[],
  reasons: readonly DayReasonCount[],
  period: SummaryPeriod,
  topReasons: number,
): SummaryRow[] {
  const rows = new Map<string, SummaryRow & { reasonMap: Map<string, OverrideReasonCount> }>();
  const rowFor = (c: DayCount) => {
    const label = periodOf(c.day, period);
    const key = `${c.serviceId}\u0000${c.ruleId}\u0000${label}`;
    let row = rows.get(key);
    if (!row) {
      row = { serviceId: c.serviceId, ruleId: c.ruleId, period: label, shown: 0, accepted: 0, overridden: 0, topOverrideReasons: [], reasonMap: new Map() };
      rows.set(key, row);
    }
    return row;
  };
  for (const c of shown) rowFor(c).shown += c.count;
  for (const c of outcomes) rowFor(c)[c.outcome] += c.count;
  for (const c of reasons) {
    const row = rowFor(c);
    const key = `${c.system ?? ''}|${c.code ?? ''}`;
    const existing = row.reasonMap.get(key);
    if (existing) {
      existing.cards += c.count;
      existing.display ??= c.display;
    } else {
      row.reasonMap.set(key, {
        ...(c.system ? { system: c.system } : {}),
        ...(c.code ? { code: c.code } : {}),
        ...(c.display ? { display: c.display } : {}),
        cards: c.count,
      });
    }
  }
  return [...rows.values()]
    .map(({ reasonMap, ...row }) => ({
      ...row,
      topOverrideReasons: [...reasonMap.values()]
        .sort((a, b) => b.cards - a.cards || (a.code ?? '').localeCompare(b.code ?? ''))
        .slice(0, topReasons),
    }))
    .sort((a, b) => a.serviceId.localeCompare(b.serviceId) || a.ruleId.localeCompare(b.ruleId) || a.period.localeCompare(b.period));
}
