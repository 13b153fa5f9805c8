import { parseShanghai } from '@libs/common';
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

/**
 * In-memory store of stockout orders keyed by stockout_id. Everything handed out is a copy.
 * Query results are cached per filter until the next mutation (benchmarks page through large stores).
 */
export class OrderStore implements IdSource {
  private readonly orders = new Map<string, WdtOrderRecord>();
  private stockoutSeq = 50_000;
  private recSeq = 100_000;
  private version = 0;
  private cache = new Map<string, WdtOrderRecord[]>();

  get size(): number {
    return this.orders.size;
  }

  nextStockoutId(): number {
    this.stockoutSeq += 1;
    return this.stockoutSeq;
  }

  nextRecId(): number {
    this.recSeq += 1;
    return this.recSeq;
  }

  /** Inserts or replaces an order (by stockout_id). */
  upsert(order: WdtOrderRecord): { created: boolean } {
    const key = String(order.stockout_id);
    const created = !this.orders.has(key);
    this.orders.set(key, clone(order));
    this.bumpSeqs(order);
    this.touch();
    return { created };
  }

  /** Finds by stockout_id, then by order_no. */
  get(key: string): WdtOrderRecord | undefined {
    const found = this.find(key);
    return found ? clone(found) : undefined;
  }

  /** The stored object itself (for in-place modification by the admin handler; call `touch()` after). */
  find(key: string): WdtOrderRecord | undefined {
    const direct = this.orders.get(key);
    if (direct) return direct;
    for (const order of this.orders.values()) if (order.order_no === key) return order;
    return undefined;
  }

  remove(key: string): boolean {
    const found = this.find(key);
    if (!found) return false;
    this.orders.delete(String(found.stockout_id));
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
    const start = options.pageNo * options.pageSize;
    return { total: all.length, orders: all.slice(start, start + options.pageSize).map(clone) };
  }

  /** Matching orders in a stable order: axis time, then stockout_id. Internal objects: use `page()` outside. */
  query(filter: StockoutFilter): WdtOrderRecord[] {
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
      hit = rows.map((row) => row.order);
      this.cache.set(key, hit);
    }
    return hit;
  }

  /** Copies of one page of a query. */
  page(
    filter: StockoutFilter,
    pageNo: number,
    pageSize: number,
  ): { total: number; orders: WdtOrderRecord[] } {
    const all = this.query(filter);
    const start = pageNo * pageSize;
    return { total: all.length, orders: all.slice(start, start + pageSize).map(clone) };
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
