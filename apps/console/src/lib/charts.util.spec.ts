import { backlogOption, latencyOption, throughputOption } from './charts.util';

describe('overview chart options', () => {
  const t = (key: string) => key;
  it('stacks loaded/failed/skipped/dead-lettered per bucket with Shanghai labels', () => {
    const option = throughputOption(
      [{ at: '2026-11-28T02:00:00Z', loaded: 3, failed: 1, skipped: 0, deadLettered: 0 }],
      t,
    );
    expect(option.xAxis.data).toEqual(['11-28 10:00']);
    expect(option.series.map((s) => s.data[0])).toEqual([3, 1, 0, 0]);
  });
  it('shows latency percentiles in seconds and backlog per stage', () => {
    const option = latencyOption([
      { at: '2026-11-28T10:00:00+08:00', p50Ms: 1500, p90Ms: null, p99Ms: 12345, count: 4 },
    ]);
    expect(option.series.map((s) => s.data[0])).toEqual([1.5, null, 12.3]);
    expect(
      backlogOption([{ stage: 'load', lag: 7, unit: 'messages', updatedAt: null }]).series[0].data,
    ).toEqual([7]);
  });
});
