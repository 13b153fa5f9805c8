// ECharts options of the overview, built from the API's series (pure: tested without a browser).
import type { Overview } from '../api/console-types';
import { formatTime } from './time.util';

type T = (key: string) => string;

const axisTime = (at: string) => formatTime(at, false).slice(5);

export function throughputOption(series: Overview['series'], t: T) {
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 40, right: 16, top: 32, bottom: 28 },
    xAxis: { type: 'category', data: series.map((p) => axisTime(p.at)) },
    yAxis: { type: 'value', minInterval: 1 },
    series: (['loaded', 'failed', 'skipped', 'deadLettered'] as const).map((key) => ({
      name: t(`overview.${key}`),
      type: 'bar',
      stack: 'orders',
      data: series.map((p) => p[key] ?? 0),
    })),
  };
}

export function latencyOption(latency: Overview['latency']) {
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 48, right: 16, top: 32, bottom: 28 },
    xAxis: { type: 'category', data: latency.map((p) => axisTime(p.at)) },
    yAxis: { type: 'value', name: 's' },
    series: (['p50Ms', 'p90Ms', 'p99Ms'] as const).map((key) => ({
      name: key.replace('Ms', ''),
      type: 'line',
      smooth: true,
      // Buckets without loads are absent: a lone point must still show.
      showSymbol: true,
      symbolSize: 5,
      data: latency.map((p) => (p[key] === null ? null : Math.round(p[key]! / 100) / 10)),
    })),
  };
}

export function backlogOption(backlog: Overview['backlog']) {
  return {
    tooltip: { trigger: 'axis' },
    grid: { left: 72, right: 16, top: 8, bottom: 28 },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: backlog.map((b) => b.stage) },
    series: [{ type: 'bar', data: backlog.map((b) => b.lag), label: { show: true, position: 'right' } }],
  };
}
