import { formatShanghai, parseShanghai } from '@libs/common';
import { compileScheme, type CompiledMapping } from '@libs/mapping';
import type { Scheme } from '@libs/scheme';
import type { StockoutReturnQuery, WdtQueryCallOptions, WdtStockoutPage } from '@libs/wdt-client';
import type { SourceEntry } from '../reconcile.types';

/** The one WDT call the reconciler needs (`WdtStockoutReturnClient` implements it). */
export interface StockoutPageSource {
  queryPage(query: StockoutReturnQuery, call?: WdtQueryCallOptions): Promise<WdtStockoutPage>;
}

/** WDT refuses a query spanning more than 30 days. */
export const MAX_WDT_WINDOW_MS = 30 * 86_400_000;
/** A window whose total_count moved while paging is read at most this many times in all. */
const MAX_WINDOW_READS = 3;

export interface SourceReadStats {
  /** WDT entries mapped and handed over (a re-read window counts again; staging dedupes). */
  entries: number;
  /** Sum of page 0's total_count over every window (known once all windows started). */
  total: number | null;
  pages: number;
  calls: number;
  /** Entries that are not objects or have no order_no (of each window's final read). */
  unusable: number;
}

export interface SourceReadOptions {
  scheme: Scheme;
  /** The period by consign time, Shanghai wall clock, inclusive. */
  from: string;
  to: string;
  signal: AbortSignal;
  /** Now (ms), for the modified axis' upper end. */
  now: number;
  /** Each page's usable entries (write them before the next page is read). */
  onEntries: (entries: SourceEntry[]) => Promise<void>;
  onStats?: (stats: Readonly<SourceReadStats>) => void;
}

type Axis = 'consign_time' | 'modified';

/**
 * The time axis a scheme queries WDT on (as the extractor's `axisFor`, not imported so this lib
 * stays free of the extractor's Kafka dependencies): status absent or ≥ 95 → consign time.
 */
export function reconcileAxis(scheme: Scheme): Axis {
  const configured = scheme.source.cursor.axis;
  if (configured !== 'auto') return configured;
  const status = scheme.source.filters.status;
  return status === undefined || Number(status) >= 95 ? 'consign_time' : 'modified';
}

/** Splits [from, to] (ms, inclusive) into windows of at most 30 days that neither overlap nor leave gaps. */
export function planReadWindows(
  fromMs: number,
  toMs: number,
  maxMs = MAX_WDT_WINDOW_MS,
): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  // Wall-clock strings have whole seconds: the next window starts one second after the previous end.
  for (let start = fromMs; start <= toMs;) {
    const end = Math.min(toMs, start + maxMs - 1000);
    out.push([start, end]);
    start = end + 1000;
  }
  return out;
}

function mustParse(text: string, name: string): number {
  const ms = parseShanghai(text);
  if (ms === undefined) throw new Error(`${name} must be Shanghai wall clock "yyyy-MM-dd HH:mm:ss"`);
  return ms;
}

/** Whether a record's consign_time lies in the period (modified axis). */
function consignedIn(record: Record<string, unknown>, fromMs: number, toMs: number): boolean {
  const text = record.consign_time;
  if (typeof text !== 'string') return false;
  const ms = parseShanghai(text);
  return ms !== undefined && ms >= fromMs && ms <= toMs;
}

/** Maps one WDT record to what the reconciliation compares; never throws. */
export async function sourceEntryOf(
  mapping: CompiledMapping,
  record: Record<string, unknown>,
  orderNo: string,
): Promise<SourceEntry> {
  try {
    const r = await mapping.map(record);
    if (r.outcome === 'document') return { key: r.billKey, orderNo, outcome: 'document', model: r.model };
    return { key: r.billKey, orderNo, outcome: 'skipped', reason: r.reason, precondition: r.precondition };
  } catch (err) {
    const billKey = (err as { billKey?: unknown }).billKey;
    return {
      key: typeof billKey === 'string' && billKey !== '' ? billKey : orderNo,
      orderNo,
      outcome: 'unmappable',
      reason: err instanceof Error ? err.message : String(err),
    };
  }
}

/**
 * Reads a scheme's period from WDT page by page (never a whole window in memory), at background
 * priority, in windows of at most 30 days, with the scheme's filters and page size. Page 0 of every
 * window is read first, so the total is known early; a window whose total_count changes while paging
 * is read again (staging dedupes by order number), at most three times in all.
 */
export class WdtSourceReader {
  constructor(private readonly wdt: StockoutPageSource) {}

  async read(o: SourceReadOptions): Promise<SourceReadStats> {
    const { scheme } = o;
    const mapping = compileScheme(scheme);
    const axis = reconcileAxis(scheme);
    const fromMs = mustParse(o.from, 'from');
    const toMs = mustParse(o.to, 'to');
    // modified axis: orders consigned in the period may have been modified any time since.
    const queryTo = axis === 'modified' ? Math.max(toMs, Math.floor(o.now / 1000) * 1000) : toMs;
    const filters = scheme.source.filters;
    const warehouses: Array<string | undefined> = filters.warehouse_no ?? [undefined];
    const stats: SourceReadStats = { entries: 0, total: null, pages: 0, calls: 0, unusable: 0 };
    const report = (): void => o.onStats?.({ ...stats });

    type Slot = { start: string; end: string; warehouseNo?: string; first?: WdtStockoutPage };
    const slots: Slot[] = [];
    for (const [start, end] of planReadWindows(fromMs, queryTo))
      for (const warehouseNo of warehouses)
        slots.push({ start: formatShanghai(start), end: formatShanghai(end), warehouseNo });

    const query = (slot: Slot, pageNo: number): StockoutReturnQuery => ({
      startTime: slot.start,
      endTime: slot.end,
      status: filters.status,
      warehouseNo: slot.warehouseNo,
      srcOrderNo: filters.src_order_no,
      outerNo: filters.outer_no,
      stockoutNo: filters.stockout_no,
      // Unset: the client's default for its gateway (native 100, Qimen 30).
      pageSize: scheme.source.pageSize,
      pageNo,
    });
    const fetch = async (slot: Slot, pageNo: number, knownTotalCount?: number): Promise<WdtStockoutPage> => {
      try {
        const page = await this.wdt.queryPage(query(slot, pageNo), {
          priority: 'background',
          signal: o.signal,
          knownTotalCount,
        });
        stats.calls += page.attempts;
        stats.pages += 1;
        return page;
      } catch (err) {
        const attempts = (err as { attempts?: unknown }).attempts;
        stats.calls += typeof attempts === 'number' ? attempts : 1;
        throw err;
      }
    };
    /** Maps and hands over a page's usable entries; returns how many were unusable. */
    const take = async (page: WdtStockoutPage): Promise<number> => {
      let unusable = 0;
      const entries: SourceEntry[] = [];
      for (const entry of page.entries) {
        const record =
          entry !== null && typeof entry === 'object' && !Array.isArray(entry) ? entry : undefined;
        const orderNo = (record as { order_no?: unknown } | undefined)?.order_no;
        if (!record || typeof orderNo !== 'string' || orderNo.trim() === '') {
          unusable += 1;
          continue;
        }
        const rec = record as Record<string, unknown>;
        if (axis === 'modified' && !consignedIn(rec, fromMs, toMs)) continue;
        entries.push(await sourceEntryOf(mapping, rec, orderNo));
      }
      if (entries.length > 0) await o.onEntries(entries);
      stats.entries += entries.length;
      return unusable;
    };

    // Page 0 of every window first: the period's total is known before the long part.
    for (const slot of slots) slot.first = await fetch(slot, 0);
    stats.total = slots.reduce((n, s) => n + (s.first?.totalCount ?? 0), 0);
    report();

    for (const slot of slots) {
      let first = slot.first as WdtStockoutPage;
      for (let read = 1; ; read++) {
        if (read > 1) first = await fetch(slot, 0);
        const pageSize = first.pageSize;
        const pageCount = Math.ceil(first.totalCount / pageSize);
        const order =
          scheme.source.pageOrder === 'first_to_last'
            ? Array.from({ length: Math.max(0, pageCount - 1) }, (_, i) => i + 1)
            : Array.from({ length: Math.max(0, pageCount - 1) }, (_, i) => pageCount - 1 - i);
        let unusable = await take(first);
        let changed = false;
        for (const pageNo of order) {
          o.signal.throwIfAborted();
          const page = await fetch(slot, pageNo, first.totalCount);
          if (page.totalCount !== first.totalCount) changed = true;
          unusable += await take(page);
          report();
        }
        if (!changed || read >= MAX_WINDOW_READS) {
          // Only the window's last read counts: a re-read sees the same entries again.
          stats.unusable += unusable;
          if (first.totalCount !== slot.first?.totalCount && stats.total !== null)
            stats.total += first.totalCount - (slot.first?.totalCount ?? 0);
          break;
        }
      }
      report();
    }
    return stats;
  }
}
