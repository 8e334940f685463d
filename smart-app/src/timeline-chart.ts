import { LineChart, ScatterChart } from 'echarts/charts';
import { AriaComponent, GridComponent, MarkLineComponent, TitleComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { formatDate } from '../../src/fhir/dates';
import type { TimelineData } from './timeline-data';

echarts.use([LineChart, ScatterChart, GridComponent, TooltipComponent, MarkLineComponent, TitleComponent, AriaComponent, SVGRenderer]);

const COLORS = { value: '#1f6feb', threshold: '#c62828', dose: '#6a1b9a', therapy: ['#00897b', '#ef6c00', '#5d4037'] };
const LANE_HEIGHT = 120;
const VALUE_HEIGHT = 110;
const GAP = 46;
const TOP = 34;

/** One sentence per series for screen readers (the table under the chart has every point). */
export function describeTimeline(data: TimelineData): string {
  const parts: string[] = ['Bone-health timeline.'];
  for (const series of data.values) {
    if (series.points.length === 0) parts.push(`${series.label}: none recorded.`);
    else {
      const last = series.points[series.points.length - 1]!;
      parts.push(`${series.label}: ${series.points.length} result(s), latest ${last.display} on ${formatDate(last.at)}.`);
    }
  }
  parts.push(
    `${data.doses.label}: ${data.doses.points.length} dose(s)${data.doses.points.length > 0 ? `, last on ${formatDate(data.doses.points[data.doses.points.length - 1]!.at)}` : ''}.`,
  );
  for (const lane of data.therapies) parts.push(`${lane.label}: ${lane.bands.length === 0 ? 'none recorded' : `${lane.bands.length} period(s)`}.`);
  return parts.join(' ');
}

/**
 * The bone-health timeline with Apache ECharts (SVG): a lane of therapy periods (bands) and
 * zoledronic acid doses, then one panel per value series with its thresholds, on one time axis.
 */
export function renderTimeline(container: HTMLElement, data: TimelineData, now: number): echarts.ECharts {
  const dates = [
    now,
    ...data.values.flatMap((s) => s.points.map((p) => p.at)),
    ...data.doses.points.map((p) => p.at),
    ...data.therapies.flatMap((l) => l.bands.flatMap((b) => [b.start, b.end])),
  ];
  const min = Math.min(...dates) - 30 * 86_400_000;
  const max = now + 30 * 86_400_000;
  const lanes = [data.doses.label, ...data.therapies.map((l) => l.label)];
  const panels = data.values.length + 1;
  // Wide screens show the lane names whole; a 400 px side panel keeps the plot wide enough to read.
  const labelWidth = container.clientWidth >= 600 ? 150 : 95;
  container.style.height = `${TOP + LANE_HEIGHT + data.values.length * VALUE_HEIGHT + (panels - 1) * GAP + 30}px`;

  const grids = [{ top: TOP, height: LANE_HEIGHT }];
  data.values.forEach((_s, i) => grids.push({ top: TOP + LANE_HEIGHT + GAP + i * (VALUE_HEIGHT + GAP), height: VALUE_HEIGHT }));
  const xAxes = grids.map((_g, i) => ({
    type: 'time' as const,
    gridIndex: i,
    min,
    max,
    axisLabel: { hideOverlap: true, fontSize: 11 },
    splitLine: { show: false },
  }));
  const yAxes: echarts.EChartsCoreOption[] = [
    {
      type: 'category',
      gridIndex: 0,
      data: lanes,
      inverse: true,
      axisLabel: { fontSize: 11, width: labelWidth, overflow: 'truncate' },
      axisTick: { show: false },
    },
    ...data.values.map((series, i) => ({
      type: 'value',
      gridIndex: i + 1,
      scale: true,
      name: '',
      axisLabel: { fontSize: 11 },
      splitNumber: 3,
      ...(series.thresholds.length ? bounds(series) : {}),
    })),
  ];
  const titles = [
    { text: 'Therapy and zoledronic acid doses', top: 8, left: 8, textStyle: { fontSize: 13 } },
    ...data.values.map((series, i) => ({
      text: series.points.length === 0 ? `${series.label} — none recorded` : series.label,
      top: grids[i + 1]!.top - 26,
      left: 8,
      textStyle: { fontSize: 13 },
    })),
  ];
  const seriesOptions: echarts.EChartsCoreOption[] = [];
  data.therapies.forEach((lane, laneIndex) => {
    const points: (readonly [number, string] | null)[] = [];
    for (const band of lane.bands) points.push([band.start, lane.label], [band.end, lane.label], null);
    seriesOptions.push({
      type: 'line',
      name: lane.label,
      xAxisIndex: 0,
      yAxisIndex: 0,
      data: points.map((p) => (p === null ? '-' : p)),
      symbol: 'none',
      lineStyle: { width: 12, color: COLORS.therapy[laneIndex % COLORS.therapy.length], cap: 'butt' },
      connectNulls: false,
      tooltip: { show: false },
      silent: true,
    });
  });
  seriesOptions.push({
    type: 'scatter',
    name: data.doses.label,
    xAxisIndex: 0,
    yAxisIndex: 0,
    symbol: 'diamond',
    symbolSize: 14,
    itemStyle: { color: COLORS.dose },
    data: data.doses.points.map((p) => ({ value: [p.at, data.doses.label], tip: `${formatDate(p.at)} · ${p.display}` })),
  });
  data.values.forEach((series, i) => {
    seriesOptions.push({
      type: 'line',
      name: series.label,
      xAxisIndex: i + 1,
      yAxisIndex: i + 1,
      symbol: 'circle',
      symbolSize: 8,
      lineStyle: { color: COLORS.value },
      itemStyle: { color: COLORS.value },
      data: series.points.map((p) => ({ value: [p.at, p.value], tip: `${formatDate(p.at)} · ${series.label}: ${p.display}` })),
      markLine: {
        silent: true,
        symbol: 'none',
        lineStyle: { color: COLORS.threshold, type: 'dashed' },
        label: { formatter: '{c}', color: COLORS.threshold, fontSize: 11 },
        data: series.thresholds.map((t) => ({ yAxis: t.value, name: t.label })),
      },
    });
  });

  const existing = echarts.getInstanceByDom(container);
  existing?.dispose();
  const chart = echarts.init(container, undefined, { renderer: 'svg' });
  chart.setOption({
    animation: false,
    aria: { enabled: true, label: { description: describeTimeline(data) } },
    title: titles,
    grid: grids.map((g) => ({ ...g, left: labelWidth + 12, right: 30 })),
    xAxis: xAxes,
    yAxis: yAxes,
    tooltip: { trigger: 'item', formatter: (item: { data?: { tip?: string } }) => item.data?.tip ?? '' },
    series: seriesOptions,
  });
  return chart;
}

/** Keep the threshold lines in view even when every value lies far from them. */
function bounds(series: TimelineData['values'][number]): {
  min: (v: { min: number; max: number }) => number;
  max: (v: { min: number; max: number }) => number;
} {
  const thresholds = series.thresholds.map((t) => t.value);
  const low = (v: { min: number }) => Math.min(v.min, ...thresholds);
  const high = (v: { max: number }) => Math.max(v.max, ...thresholds);
  // A tenth of the span as margin, so no threshold line sits on the axis.
  const pad = (v: { min: number; max: number }) => Math.max((high(v) - low(v)) * 0.1, 0.5);
  // Round to a step that suits the span (10 mL/min, 1 or 0.5 units) so the axis labels stay round.
  const step = (v: { min: number; max: number }) => {
    const span = high(v) - low(v);
    return span > 20 ? 10 : span > 5 ? 1 : 0.5;
  };
  return {
    min: (v) => Math.floor((low(v) - pad(v)) / step(v)) * step(v),
    max: (v) => Math.ceil((high(v) + pad(v)) / step(v)) * step(v),
  };
}
