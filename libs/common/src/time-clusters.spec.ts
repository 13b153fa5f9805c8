import { clusterByTime } from './time-clusters';

describe('clusterByTime', () => {
  it('groups items within the span of each group’s first item, whatever the input order', () => {
    const groups = clusterByTime([30, 0, 5, 11, 10, 50], (x) => x, 10);
    expect(groups).toEqual([[0, 5, 10], [11], [30], [50]]);
  });
  it('gives no groups for no items', () => {
    expect(clusterByTime([], (x: number) => x, 10)).toEqual([]);
  });
});
