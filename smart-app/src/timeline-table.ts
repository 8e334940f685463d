import { formatDate } from '../../src/fhir/dates';
import { el } from './dom';
import type { TimelineData } from './timeline-data';

/** Every point and period of the timeline as table rows: the keyboard and screen-reader view. */
export function renderTimelineTable(body: HTMLElement, data: TimelineData): void {
  const rows: { at: number; cells: [string, string, string, string]; series: string }[] = [];
  for (const series of data.values)
    for (const p of series.points) rows.push({ at: p.at, series: series.id, cells: [formatDate(p.at), series.label, p.display, p.source] });
  for (const p of data.doses.points) rows.push({ at: p.at, series: data.doses.id, cells: [formatDate(p.at), data.doses.label, p.display, p.source] });
  for (const lane of data.therapies) {
    for (const band of lane.bands) {
      const end = band.endKind === 'ongoing' ? 'ongoing' : band.endKind === 'recorded' ? formatDate(band.end) : 'end not recorded';
      rows.push({ at: band.start, series: lane.id, cells: [`${formatDate(band.start)} → ${end}`, lane.label, band.display, band.source] });
    }
  }
  rows.sort((a, b) => a.at - b.at);
  body.replaceChildren(...rows.map((row) => el('tr', { 'data-series': row.series }, ...row.cells.map((cell) => el('td', {}, cell)))));
}
