import { formatShanghai, parseShanghai } from '@libs/common';
import {
  OrderGenerator,
  WdtOrderRecord,
  ZERO_TIME,
  finalizeOrder,
  fmt4,
  materialFor,
  toUnits,
} from './order-generator';
import { OrderStore } from './order-store';

/**
 * Builds complete orders from partial ones (admin "upsert") and applies modifications (admin "modify"):
 * anything not given is generated (seeded), aggregates and md5_str are recomputed unless given explicitly.
 */
type Partial = Record<string, unknown>;
type Line = Record<string, unknown>;

const LINE_KEYS = ['details_list', 'detail_list'] as const;
const HOUR_MS = 3_600_000;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function stringifyScalars(input: Partial): Partial {
  const out: Partial = {};
  for (const [key, value] of Object.entries(input)) {
    out[key] = typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
  }
  return out;
}

export class OrderEditor {
  constructor(
    private readonly store: OrderStore,
    private readonly now: () => number,
  ) {}

  /** A complete order from a partial one; an existing stockout_id is updated in place (fields merged). */
  build(partialInput: Partial, seed: number): WdtOrderRecord {
    const partial = stringifyScalars(partialInput);
    const existing =
      typeof partial.stockout_id === 'string' ? this.store.get(partial.stockout_id) : undefined;
    const generator = new OrderGenerator(seed);
    let order: WdtOrderRecord;
    if (existing) {
      order = existing;
    } else {
      const anchor =
        (typeof partial.consign_time === 'string' && parseShanghai(partial.consign_time)) ||
        (typeof partial.modified === 'string' && parseShanghai(partial.modified)) ||
        this.now();
      order = generator.one({ fromMs: anchor - HOUR_MS, toMs: anchor }, this.store);
      if (typeof partial.status === 'string' && Number(partial.status) < 95) order.consign_time = ZERO_TIME;
    }
    const header = Object.fromEntries(
      Object.entries(partial).filter(([key]) => !LINE_KEYS.includes(key as never)),
    );
    Object.assign(order, header);
    if (header.order_no !== undefined && header.stockout_no === undefined)
      order.stockout_no = header.order_no;
    this.fixConsignTime(order, header);

    const lines = LINE_KEYS.map((key) => partialInput[key]).find((value) => value !== undefined);
    if (lines !== undefined) order.details_list = this.lines(lines, order, generator);
    for (const line of order.details_list ?? []) line.stockout_id = order.stockout_id;
    return finalizeOrder(order, new Set(Object.keys(header)));
  }

  /**
   * Modifies an order: fields in `set`, optional `status`, `consign_time`, `details_list`; bumps
   * `modified` (to `modified` if given, else now, always later than before) and recomputes md5_str.
   */
  modify(existing: WdtOrderRecord, patch: Partial, seed: number): WdtOrderRecord {
    const order = structuredClone(existing);
    const set = isObject(patch.set) ? stringifyScalars(patch.set) : {};
    const header: Partial = { ...set };
    for (const key of ['status', 'consign_time'] as const) {
      if (patch[key] !== undefined) header[key] = String(patch[key]);
    }
    Object.assign(order, header);
    const before = parseShanghai(String(existing.modified)) ?? 0;
    const requested = typeof patch.modified === 'string' ? parseShanghai(patch.modified) : undefined;
    const modifiedMs = requested ?? Math.max(this.now(), before + 1000);
    order.modified = formatShanghai(modifiedMs);
    this.fixConsignTime(order, header);
    const lines = LINE_KEYS.map((key) => patch[key]).find((value) => value !== undefined);
    if (lines !== undefined) order.details_list = this.lines(lines, order, new OrderGenerator(seed));
    for (const line of order.details_list ?? []) line.modified = order.modified;
    return finalizeOrder(order, new Set(Object.keys(set).filter((key) => key !== 'modified')));
  }

  /** Shipped orders need a consign time, unshipped ones have none — unless it was given explicitly. */
  private fixConsignTime(order: WdtOrderRecord, header: Partial): void {
    if (header.consign_time !== undefined) return;
    const shipped = Number(order.status) >= 95;
    const hasConsign = typeof order.consign_time === 'string' && !order.consign_time.startsWith('0000');
    if (shipped && !hasConsign) order.consign_time = String(order.modified);
    if (!shipped && hasConsign && header.status !== undefined) order.consign_time = ZERO_TIME;
  }

  private lines(input: unknown, order: WdtOrderRecord, generator: OrderGenerator): Line[] {
    if (!Array.isArray(input)) throw new TypeError('details_list must be an array');
    return input.map((raw, index) => {
      if (!isObject(raw)) throw new TypeError(`details_list[${index}] must be an object`);
      const given = stringifyScalars(raw);
      const material = materialFor(typeof given.spec_no === 'string' ? given.spec_no : undefined, index);
      const base = generator.line(material, {
        stockoutId: order.stockout_id,
        recId:
          typeof given.rec_id === 'string'
            ? Number(given.rec_id) || this.store.nextRecId()
            : this.store.nextRecId(),
        warehouseId: String(order.warehouse_id ?? '1'),
        created: String(order.stock_check_time ?? order.modified),
        modified: String(order.modified),
      });
      const line: Line = { ...base, ...given };
      if (given.rec_id !== undefined) line.rec_id = given.rec_id;
      if (given.goods_count !== undefined) {
        const qty = toUnits(String(given.goods_count));
        if (given.num === undefined) line.num = given.goods_count;
        if (given.total_amount === undefined) {
          line.total_amount = fmt4((qty * toUnits(String(line.cost_price ?? '0'))) / 10_000);
        }
        if (given.weight === undefined) line.weight = fmt4((qty * toUnits(material.weight)) / 10_000);
      }
      if (given.position_list === undefined) {
        const first = (base.position_list as Line[])[0];
        line.position_list = [{ ...first, position_goods_count: line.goods_count }];
      }
      return line;
    });
  }
}
