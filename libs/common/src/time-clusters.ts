/** Re-reads of orders whose known times lie within this span share one WDT window. */
export const REREAD_CLUSTER_SPAN_MS = 10 * 60_000;

/**
 * Groups items by time: each group starts at its earliest item and holds every later item within
 * `spanMs` of it (sorted input is not required). Re-reading many orders from WDT one window per group
 * instead of one per order is what keeps a bulk re-push within the API's budget.
 */
export function clusterByTime<T>(items: T[], timeOf: (item: T) => number, spanMs: number): T[][] {
  const sorted = [...items].sort((a, b) => timeOf(a) - timeOf(b));
  const groups: T[][] = [];
  let start = Number.NEGATIVE_INFINITY;
  for (const item of sorted) {
    const t = timeOf(item);
    if (groups.length === 0 || t - start > spanMs) {
      groups.push([item]);
      start = t;
    } else groups[groups.length - 1].push(item);
  }
  return groups;
}
