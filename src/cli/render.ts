import type { Card } from '../schemas/cds-response';
import type { PatientResult } from './evaluate';

/** Plain-text rendering of the CLI's results: cards for one patient, a summary table for many. */
const INDICATOR_LABEL: Record<Card['indicator'], string> = { info: 'INFO', warning: 'WARNING', critical: 'CRITICAL' };

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => (line.trim() === '' ? '' : `${prefix}${line}`))
    .join('\n');
}

function renderCard(card: Card): string {
  const lines = [`[${INDICATOR_LABEL[card.indicator]}] ${card.source.topic?.code ?? '(no rule id)'}: ${card.summary}`];
  lines.push(`  Source: ${card.source.label}${card.source.url ? ` <${card.source.url}>` : ''}`);
  for (const suggestion of card.suggestions ?? []) {
    lines.push(`  Suggestion${suggestion.isRecommended ? ' (recommended)' : ''}: ${suggestion.label}`);
  }
  for (const reason of card.overrideReasons ?? []) lines.push(`  Override reason: ${reason.display ?? reason.code}`);
  for (const link of card.links ?? []) lines.push(`  Link: ${link.label} <${link.url}>`);
  if (card.detail) lines.push('', indent(card.detail.trim(), '    '));
  return lines.join('\n');
}

export function renderPatientCards(result: PatientResult, asOf: string): string {
  const title = `Patient ${result.patientId}${result.name ? ` (${result.name})` : ''}: ${result.hook}, as of ${asOf}`;
  if (result.error) return `${title}\n  not evaluated: ${result.error}\n`;
  if (result.cards.length === 0) return `${title}\n  no cards\n`;
  return `${title}: ${result.cards.length} card(s)\n\n${result.cards.map(renderCard).join('\n\n')}\n`;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

export function ruleCounts(results: readonly PatientResult[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const result of results) for (const id of result.ruleIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  return new Map([...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

export function renderSummaryTable(results: readonly PatientResult[], asOf: string, hook: string): string {
  const rows = results.map((r) => [r.patientId, r.name ?? '', r.error ? 'error' : String(r.cards.length), r.error ? r.error : r.ruleIds.join(', ') || '—']);
  const header = ['patient', 'name', 'cards', 'rule ids'];
  const widths = header.map((h, i) => Math.min(40, Math.max(h.length, ...rows.map((row) => row[i]!.length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i]!))).join('  ').trimEnd();
  const out = [`${hook} as of ${asOf}: ${results.length} patient(s)`, '', line(header), line(widths.map((w) => '-'.repeat(w)))];
  out.push(...rows.map(line));
  const counts = ruleCounts(results);
  const total = results.reduce((sum, r) => sum + r.cards.length, 0);
  out.push('', `${total} card(s) in total${counts.size ? `: ${[...counts].map(([id, n]) => `${id} ×${n}`).join(', ')}` : ''}`);
  const errors = results.filter((r) => r.error).length;
  if (errors > 0) out.push(`${errors} patient(s) not evaluated (see the rule ids column)`);
  return `${out.join('\n')}\n`;
}

/** Progress on stderr: a redrawn bar on a terminal, a line every 10 % otherwise (logs, CI). */
export class ProgressBar {
  private lastDecile = -1;
  constructor(
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream,
    private readonly label = 'patients',
  ) {}

  update(done: number): void {
    const fraction = this.total === 0 ? 1 : done / this.total;
    if (this.stream.isTTY) {
      const width = 30;
      const filled = Math.round(fraction * width);
      this.stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${this.label} (${Math.floor(fraction * 100)}%)`);
      if (done === this.total) this.stream.write('\n');
      return;
    }
    const decile = Math.floor(fraction * 10);
    if (decile !== this.lastDecile || done === this.total) {
      this.lastDecile = decile;
      this.stream.write(`${done}/${this.total} ${this.label} (${Math.floor(fraction * 100)}%)\n`);
    }
  }
}
