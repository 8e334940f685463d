import { parseArgs } from 'node:util';
import { loadConfig } from '../config/env';
import { openStore } from '../store/open-store';
import type { FeedbackSummary, OverrideReasonCount, SummaryPeriod } from '../store/store';

const USAGE = `Usage: npm run report -- [--service ID] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--period day|week|month] [--top N] [--json]

Per rule and period: cards shown, accepted, overridden and the top override reasons, from the store
named by CDS_DB_URL. Defaults: the last 30 days up to now, by day, all services (as the HTTP summary).`;

const DAY_MS = 86_400_000;

function instant(value: string, name: string): number {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (!Number.isFinite(ms)) throw new TypeError(`--${name}: '${value}' is not a date (YYYY-MM-DD or RFC 3339)`);
  return ms;
}

const percent = (part: number, whole: number) => (whole === 0 ? '-' : `${Math.round((100 * part) / whole)}%`);

function reasonLabel(reason: OverrideReasonCount): string {
  const name = reason.display ?? reason.code ?? '(no reason given)';
  return `${name} ×${reason.cards}`;
}

/** The report as a plain-text table (one row per service, rule and period). */
function formatSummaryTable(summary: FeedbackSummary): string {
  const header = ['service', 'rule', 'period', 'shown', 'accepted', 'overridden', 'accept%', 'override%', 'top override reasons'];
  const rows = summary.rows.map((r) => [
    r.serviceId,
    r.ruleId,
    r.period,
    String(r.shown),
    String(r.accepted),
    String(r.overridden),
    percent(r.accepted, r.shown),
    percent(r.overridden, r.shown),
    r.topOverrideReasons.map(reasonLabel).join('; '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const numeric = new Set([3, 4, 5, 6, 7]);
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : numeric.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [
    `Feedback summary ${new Date(summary.from).toISOString()} → ${new Date(summary.to).toISOString()}, by ${summary.period}`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...(rows.length > 0 ? rows.map(line) : ['(no cards issued in this period)']),
    '',
    `Feedback for card uuids this service never issued (flagged): ${summary.unknownCardFeedback}`,
  ];
  return `${out.join('\n')}\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      service: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      // The same default as GET …/feedback/summary, so both answer the same question.
      period: { type: 'string', default: 'day' },
      top: { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!['day', 'week', 'month'].includes(values.period)) throw new TypeError(`--period must be day, week or month`);
  const top = Number(values.top);
  if (!Number.isInteger(top) || top < 0 || top > 20) throw new TypeError('--top must be an integer from 0 to 20');
  const to = values.to ? instant(values.to, 'to') : Date.now();
  const from = values.from ? instant(values.from, 'from') : to - 30 * DAY_MS;
  if (from >= to) throw new TypeError('--from must be before --to');

  const config = loadConfig();
  const store = openStore(config.dbUrl);
  try {
    await store.migrate();
    const summary = await store.feedbackSummary({
      ...(values.service ? { serviceId: values.service } : {}),
      from,
      to,
      period: values.period as SummaryPeriod,
      topReasons: top,
    });
    // Dates as ISO 8601, like the HTTP summary (epoch milliseconds meant nothing to a reader).
    const json = { ...summary, from: new Date(summary.from).toISOString(), to: new Date(summary.to).toISOString() };
    process.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : formatSummaryTable(summary));
  } finally {
    await store.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`report: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    process.exit(1);
  });
}
