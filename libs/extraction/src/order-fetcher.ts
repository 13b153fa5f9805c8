import { Clock, formatShanghai, parseShanghai } from '@libs/common';
import { pageSizeOf, Scheme } from '@libs/scheme';
import { axisFor } from './extraction.service';
import { ExtractionStore, StockoutSource } from './extraction.ports';

const DAY_MS = 86_400_000;
/** WDT answers at most 30 days per query. */
const SPAN_MS = 30 * DAY_MS - 1000;
/** How far back an order never extracted is looked for (six queries). */
const SEARCH_BACK_MS = 180 * DAY_MS;

/**
 * Reads one order from WDT by its number, for a live preview (nothing is emitted): where the order
 * was last seen when the scheme extracted it (a narrow window, as resync aims), else back from now
 * in 30-day windows. Undefined when WDT does not return it.
 */
export async function fetchOrder(
  deps: { source: StockoutSource; store: ExtractionStore; clock: Clock },
  scheme: Scheme,
  orderNo: string,
  signal?: AbortSignal,
): Promise<Record<string, unknown> | undefined> {
  const now = deps.clock.now();
  const windows: Array<[number, number]> = [];
  const known = await deps.store.knownOrder(scheme.id, orderNo);
  const anchorText = axisFor(scheme) === 'consign_time' ? known?.consignTime : known?.modified;
  const anchor = anchorText ? parseShanghai(anchorText) : undefined;
  if (anchor !== undefined) windows.push([anchor - 60_000, Math.min(now, anchor - 60_000 + SPAN_MS)]);
  for (let end = now; end > now - SEARCH_BACK_MS; end -= SPAN_MS + 1000) windows.push([end - SPAN_MS, end]);
  for (const [start, end] of windows) {
    signal?.throwIfAborted();
    const result = await deps.source.queryAll(
      {
        startTime: formatShanghai(start),
        endTime: formatShanghai(end),
        status: scheme.source.filters.status,
        stockoutNo: orderNo,
        pageSize: pageSizeOf(scheme, deps.source.gateway),
      },
      { order: 'first-last', priority: 'normal' },
    );
    const found = result.records.find((r) => r.order_no === orderNo);
    if (found) return found;
  }
  return undefined;
}
