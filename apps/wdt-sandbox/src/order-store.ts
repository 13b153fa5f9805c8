import { parseShanghai } from '@libs/common';
import {
  LAZY_MODIFIED_LAG_MS,
  LAZY_RECS_PER_ORDER,
  LazyDefinition,
  LazyOrderSet,
  SlotPredicate,
} from './lazy-orders';
import { IdSource, WdtOrderRecord } from './order-generator';

export type TimeAxisMode = 'documented' | 'modified' | 'consign_time';

export interface StockoutFilter {
  startMs: number;
  endMs: number;
  status?: number;
  warehouseNo?: string;
  srcOrderNo?: string;
  outerNo?: string;
  stockoutNo?: string;
  axisMode: TimeAxisMode;
}

/** Which field the window filters on: status absent or ≥ 95 → consign_time, status < 95 → modified. */
export function axisField(status: number | undefined, mode: TimeAxisMode): 'consign_time' | 'modified' {
  if (mode !== 'documented') return mode;
  return status === undefined || status >= 95 ? 'consign_time' : 'modified';
}

const clone = <T>(value: T): T => structuredClone(value);
const idNumber = (order: WdtOrderRecord): number => Number(order.stockout_id) || 0;

/** A sorted run of lazily generated orders a query or listing covers (see `mergePage`). */
interface LazyRun {
  length: number;
  /** The k-th order of the run (generated). */
  at(k: number): WdtOrderRecord;
  /** Orders of the run sorting before a stored one (by the run's own order). */
  before(row: { order: WdtOrderRecord; at: number }): number;
}

/** Lazy indices of a predicate in [lo, hi), skipping hidden ones (materialised or deleted). */
function lazyRun(
  set: LazyOrderSet,
  lo: number,
  hi: number,
  key: string,
  predicate: SlotPredicate,
  hidden: readonly number[],
  bound: (row: { order: WdtOrderRecord; at: number }) => number,
): LazyRun {
  const inRange = hidden.filter((i) => i >= lo && i < hi && predicate(set.slot(i)));
  const hiddenBelow = (x: number) => {
    let n = 0;
    for (const i of inRange) if (i < x) n += 1;
    return n;
  };
  return {
    length: set.countIn(lo, hi, key, predicate) - inRange.length,
    at(k) {
      // The k-th visible index: the (k + hidden below it)-th raw one, found by fixed point.
      let raw = k;
      for (;;) {
        const index = set.nth(lo, raw, key, predicate);
        const next = k + hiddenBelow(index + 1);
        if (next === raw) return set.order(index);
        raw = next;
      }
    },
    before(row) {
      const b = Math.max(lo, Math.min(hi, bound(row)));
      return set.countIn(lo, b, key, predicate) - hiddenBelow(b);
    },
  };
}

/** Lazy indices given explicitly (identity filters), ascending. */
function listedRun(set: LazyOrderSet, indices: number[], bound: LazyRun['before']): LazyRun {
  return {
    length: indices.length,
    at: (k) => set.order(indices[k]),
    before: (row) => {
      const b = bound(row);
      return indices.filter((i) => i < b).length;
    },
  };
}

/**
 * One page of the merge of a lazy run and a (small) sorted list of stored orders: stored row j sits at
 * merged position `run.before(j) + j`; everything else is the run's.
 */
function mergePage(
  run: LazyRun,
  stored: { order: WdtOrderRecord; at: number }[],
  pageNo: number,
  pageSize: number,
): { total: number; orders: WdtOrderRecord[] } {
  const total = run.length + stored.length;
  const positions = stored.map((row, j) => run.before(row) + j);
  const start = pageNo * pageSize;
  const end = Math.min(total, start + pageSize);
  const orders: WdtOrderRecord[] = [];
  let j = 0;
  while (j < positions.length && positions[j] < start) j += 1;
  for (let p = start; p < end; p++) {
    if (j < positions.length && positions[j] === p) {
      orders.push(clone(stored[j].order));
      j += 1;
    } else {
      orders.push(run.at(p - j));
    }
  }
  return { total, orders };
}

/**
 * In-memory store of stockout orders keyed by stockout_id. Everything handed out is a copy.
 * Query results are cached per filter until the next mutation (benchmarks page through large stores).
 *
 * Besides stored orders it may hold one lazy set (`defineLazy`): orders generated from (seed, index) on
 * demand, paged by arithmetic, never all in memory. Reading a lazy order generates it; editing one
 * (`upsert` of its stockout_id) stores it, and the stored copy hides the generated one; deleting one
 * hides it.
 */
export class OrderStore implements IdSource {
  private readonly orders = new Map<string, WdtOrderRecord>();
  private stockoutSeq = 50_000;
  private recSeq = 100_000;
  private version = 0;
  private cache = new Map<string, { order: WdtOrderRecord; at: number }[]>();
  private lazy?: LazyOrderSet;
  /** Lazy indices not served from the generator: stored (edited) or deleted. */
  private readonly lazyHidden = new Set<number>();
  private hiddenSorted?: number[];

  get size(): number {
    return this.orders.size + (this.lazy ? this.lazy.count - this.lazyHidden.size : 0);
  }

  /** The lazy set, if one is defined. */
  get lazySet(): LazyOrderSet | undefined {
    return this.lazy;
  }

  /**
   * Defines (or replaces) the lazy set: `count` orders after the ids handed out so far. Stored orders
   * stay (an earlier lazy set's edited orders become plain stored ones).
   */
  defineLazy(definition: LazyDefinition): LazyOrderSet {
    const set = new LazyOrderSet(definition, this.stockoutSeq + 1, this.recSeq + 1);
    this.lazy = set;
    this.lazyHidden.clear();
    this.hiddenSorted = undefined;
    this.stockoutSeq += definition.count;
    this.recSeq += definition.count * LAZY_RECS_PER_ORDER;
    this.touch();
    return set;
  }

  nextStockoutId(): number {
    this.stockoutSeq += 1;
    return this.stockoutSeq;
  }

  nextRecId(): number {
    this.recSeq += 1;
    return this.recSeq;
  }

  /** Inserts or replaces an order (by stockout_id). A lazy order's id stores it (hiding the generated one). */
  upsert(order: WdtOrderRecord): { created: boolean } {
    const key = String(order.stockout_id);
    const lazyIndex = this.lazyIndexOfId(key);
    const created = !this.orders.has(key) && (lazyIndex === undefined || this.lazyHidden.has(lazyIndex));
    this.orders.set(key, clone(order));
    if (lazyIndex !== undefined) this.hide(lazyIndex);
    this.bumpSeqs(order);
    this.touch();
    return { created };
  }

  /** Finds by stockout_id, then by order_no (stored first, then the lazy set, generated). */
  get(key: string): WdtOrderRecord | undefined {
    const found = this.find(key);
    if (found) return clone(found);
    const lazyIndex = this.lazyIndexOf(key);
    return lazyIndex === undefined ? undefined : this.lazy?.order(lazyIndex);
  }

  /**
   * The stored object itself (for in-place modification by the admin handler; call `touch()` after).
   * A lazy order is stored first (materialised), so the modification sticks.
   */
  find(key: string): WdtOrderRecord | undefined {
    const direct = this.orders.get(key);
    if (direct) return direct;
    for (const order of this.orders.values()) if (order.order_no === key) return order;
    const lazyIndex = this.lazyIndexOf(key);
    if (lazyIndex === undefined || !this.lazy) return undefined;
    const order = this.lazy.order(lazyIndex);
    this.upsert(order);
    return this.orders.get(order.stockout_id);
  }

  remove(key: string): boolean {
    const stored = this.orders.get(key) ?? [...this.orders.values()].find((order) => order.order_no === key);
    if (stored) {
      this.orders.delete(String(stored.stockout_id));
      this.touch();
      return true;
    }
    const lazyIndex = this.lazyIndexOf(key);
    if (lazyIndex === undefined) return false;
    this.hide(lazyIndex);
    this.touch();
    return true;
  }

  /** Marks the store changed (drops the query cache). */
  touch(): void {
    this.version += 1;
    this.cache = new Map();
  }

  reset(): void {
    this.orders.clear();
    this.lazy = undefined;
    this.lazyHidden.clear();
    this.hiddenSorted = undefined;
    this.stockoutSeq = 50_000;
    this.recSeq = 100_000;
    this.touch();
  }

  /** All orders by stockout_id, optionally filtered by status / warehouse, paged from 0. */
  list(options: { pageNo: number; pageSize: number; status?: number; warehouseNo?: string }): {
    total: number;
    orders: WdtOrderRecord[];
  } {
    const all = [...this.orders.values()]
      .filter((o) => options.status === undefined || Number(o.status) === options.status)
      .filter((o) => options.warehouseNo === undefined || o.warehouse_no === options.warehouseNo)
      .sort((a, b) => idNumber(a) - idNumber(b));
    const set = this.lazy;
    if (!set) {
      const start = options.pageNo * options.pageSize;
      return { total: all.length, orders: all.slice(start, start + options.pageSize).map(clone) };
    }
    const key = `list:${options.status ?? '*'}:${options.warehouseNo ?? '*'}`;
    const predicate: SlotPredicate = (slot) =>
      (options.status === undefined || slot.status === options.status) &&
      (options.warehouseNo === undefined || slot.warehouseNo === options.warehouseNo);
    const run = lazyRun(
      set,
      0,
      set.count,
      key,
      predicate,
      this.hidden(),
      (row) => idNumber(row.order) - set.baseId,
    );
    return mergePage(
      run,
      all.map((order) => ({ order, at: 0 })),
      options.pageNo,
      options.pageSize,
    );
  }

  /** Matching stored orders in a stable order: axis time, then stockout_id. Internal objects: use `page()` outside. */
  query(filter: StockoutFilter): WdtOrderRecord[] {
    return this.queryRows(filter).map((row) => row.order);
  }

  private queryRows(filter: StockoutFilter): { order: WdtOrderRecord; at: number }[] {
    const key = JSON.stringify(filter);
    let hit = this.cache.get(key);
    if (!hit) {
      const field = axisField(filter.status, filter.axisMode);
      const rows: { order: WdtOrderRecord; at: number }[] = [];
      for (const order of this.orders.values()) {
        const status = Number(order.status);
        if (filter.status === undefined ? status !== 95 && status !== 110 : status !== filter.status)
          continue;
        if (filter.warehouseNo !== undefined && order.warehouse_no !== filter.warehouseNo) continue;
        if (filter.srcOrderNo !== undefined && order.src_order_no !== filter.srcOrderNo) continue;
        if (filter.outerNo !== undefined && order.outer_no !== filter.outerNo) continue;
        if (
          filter.stockoutNo !== undefined &&
          order.stockout_no !== filter.stockoutNo &&
          order.order_no !== filter.stockoutNo
        ) {
          continue;
        }
        const at = typeof order[field] === 'string' ? parseShanghai(order[field] as string) : undefined;
        if (at === undefined || at < filter.startMs || at > filter.endMs) continue;
        rows.push({ order, at });
      }
      rows.sort((a, b) => a.at - b.at || idNumber(a.order) - idNumber(b.order));
      hit = rows;
      this.cache.set(key, hit);
    }
    return hit;
  }

  /** Copies of one page of a query (stored and lazy orders merged; lazy ones generated for the page only). */
  page(
    filter: StockoutFilter,
    pageNo: number,
    pageSize: number,
  ): { total: number; orders: WdtOrderRecord[] } {
    const rows = this.queryRows(filter);
    const run = this.lazy ? this.lazyQueryRun(this.lazy, filter) : undefined;
    if (!run) {
      const start = pageNo * pageSize;
      return { total: rows.length, orders: rows.slice(start, start + pageSize).map((r) => clone(r.order)) };
    }
    return mergePage(run, rows, pageNo, pageSize);
  }

  /** The lazy orders a query covers, by arithmetic (identity filters: the named order, or a scan). */
  private lazyQueryRun(set: LazyOrderSet, filter: StockoutFilter): LazyRun | undefined {
    const field = axisField(filter.status, filter.axisMode);
    const shipped = filter.status === undefined || filter.status >= 95;
    // Unshipped orders have no consign time: nothing of theirs falls in a consign_time window.
    if (field === 'consign_time' && !shipped) return undefined;
    const offsetMs = field === 'modified' && shipped ? LAZY_MODIFIED_LAG_MS : 0;
    const [lo, hi] = set.indexRange(filter.startMs, filter.endMs, offsetMs);
    const key = `q:${filter.status ?? '*'}:${filter.warehouseNo ?? '*'}`;
    const predicate: SlotPredicate = (slot) =>
      (filter.status === undefined
        ? slot.status === 95 || slot.status === 110
        : slot.status === filter.status) &&
      (filter.warehouseNo === undefined || slot.warehouseNo === filter.warehouseNo);
    const bound = (row: { order: WdtOrderRecord; at: number }) =>
      set.boundBefore(row.at, idNumber(row.order), offsetMs);
    const identity = filter.stockoutNo ?? filter.srcOrderNo;
    if (identity === undefined && filter.outerNo === undefined) {
      return lazyRun(set, lo, hi, key, predicate, this.hidden(), bound);
    }
    const hidden = new Set(this.hidden());
    const candidates: number[] = [];
    const named = identity === undefined ? undefined : set.indexOfNumber(identity);
    if (identity !== undefined) {
      if (named !== undefined && named >= lo && named < hi) candidates.push(named);
    } else {
      // outer_no is random: scan the window (generates every order in it — narrow windows only).
      for (let i = lo; i < hi; i++) candidates.push(i);
    }
    const matching = candidates.filter((i) => {
      if (hidden.has(i) || !predicate(set.slot(i))) return false;
      const order = set.order(i);
      return (
        (filter.srcOrderNo === undefined || order.src_order_no === filter.srcOrderNo) &&
        (filter.outerNo === undefined || order.outer_no === filter.outerNo) &&
        (filter.stockoutNo === undefined ||
          order.stockout_no === filter.stockoutNo ||
          order.order_no === filter.stockoutNo)
      );
    });
    return listedRun(set, matching, bound);
  }

  private lazyIndexOfId(key: string): number | undefined {
    return this.lazy && /^\d+$/.test(key) ? this.lazy.indexOfId(Number(key)) : undefined;
  }

  /** The visible lazy order a key (stockout_id or order_no) names, if any. */
  private lazyIndexOf(key: string): number | undefined {
    if (!this.lazy) return undefined;
    const index = this.lazyIndexOfId(key) ?? this.lazy.indexOfNumber(key);
    if (index === undefined || this.lazyHidden.has(index)) return undefined;
    if (this.lazyIndexOfId(key) === undefined && this.lazy.order(index).order_no !== key) return undefined;
    return index;
  }

  private hide(index: number): void {
    if (this.lazyHidden.has(index)) return;
    this.lazyHidden.add(index);
    this.hiddenSorted = undefined;
  }

  private hidden(): number[] {
    this.hiddenSorted ??= [...this.lazyHidden].sort((a, b) => a - b);
    return this.hiddenSorted;
  }

  private bumpSeqs(order: WdtOrderRecord): void {
    const id = Number(order.stockout_id);
    if (Number.isSafeInteger(id) && id > this.stockoutSeq) this.stockoutSeq = id;
    const lines = Array.isArray(order.details_list) ? order.details_list : [];
    for (const line of lines) {
      const rec = Number((line as Record<string, unknown>).rec_id);
      if (Number.isSafeInteger(rec) && rec > this.recSeq) this.recSeq = rec;
    }
  }
}
