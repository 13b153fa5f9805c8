import { seededRandom } from './knobs';
import { GenerateOptions, OrderGenerator, WdtOrderRecord } from './order-generator';
import { SANDBOX_WAREHOUSES } from './reference-data';

/** Shipped lazy orders have `modified` = `consign_time` + this (one constant: the axis stays arithmetic). */
export const LAZY_MODIFIED_LAG_MS = 60_000;
/** Lines per order are at most 5: order i's rec_ids are `baseRecId + 5i … 5i+4`. */
export const LAZY_RECS_PER_ORDER = 5;
/** order_no / src_order_no carry the stockout_id in 8 digits (unique, and decodable back to an index). */
export const LAZY_SEQ_DIGITS = 8;
/** Statuses and warehouses repeat with this period over the index (see `LazyOrderSet`). */
export const LAZY_PATTERN_LENGTH = 100;

const DEFAULT_STATUS_WEIGHTS: Record<string, number> = { '5': 10, '50': 10, '55': 10, '95': 30, '110': 40 };

export interface LazyDefinition {
  count: number;
  seed: number;
  /** Epoch ms; the first order's axis time (rounded down to a whole second). */
  fromMs: number;
  /** Epoch ms; the last order's axis time (rounded down to a whole second). */
  toMs: number;
  unknownCodeRate?: number;
  statusWeights?: GenerateOptions['statusWeights'];
}

/** What decides whether an order can match a query without generating it. */
interface Slot {
  status: number;
  warehouseNo: string;
  warehouseIndex: number;
}

export type SlotPredicate = (slot: Slot) => boolean;

/** Matching positions of one predicate inside the pattern, for counting and n-th lookups in O(1). */
interface PatternIndex {
  /** prefix[k] = matching slots among the first k. */
  prefix: Int32Array;
  /** Positions of the matching slots, ascending. */
  positions: number[];
}

/**
 * N orders defined by `(seed, count, from, to)` and generated on demand: order `i` is a pure function of
 * the definition and `i`, nothing is stored per order.
 *
 * - Axis time (consign_time of a shipped order, modified of an unshipped one): `from + ⌊i·S/(N−1)⌋ s`
 *   with S the span in whole seconds — monotone in i, first at `from`, last at `to`; shipped orders'
 *   `modified` is that + 60 s. So the orders in a closed window are one index interval, found by
 *   arithmetic (`indexRange`).
 * - Status and warehouse come from a seeded pattern of `LAZY_PATTERN_LENGTH` slots (statuses apportioned
 *   by weight, then shuffled): order i takes slot `i mod 100`. Counting the orders of a status in an
 *   index interval, or finding the k-th, is arithmetic too (`count`, `nth`).
 * - stockout_id = baseId + i, so (time, id) order is index order.
 */
export class LazyOrderSet {
  readonly count: number;
  readonly seed: number;
  readonly fromMs: number;
  readonly toMs: number;
  private readonly spanSec: number;
  private readonly denom: number;
  private readonly slots: Slot[];
  private readonly indexes = new Map<string, PatternIndex>();
  private readonly generator: OrderGenerator;

  constructor(
    private readonly definition: LazyDefinition,
    readonly baseId: number,
    readonly baseRecId: number,
  ) {
    this.count = definition.count;
    this.seed = definition.seed;
    this.fromMs = Math.floor(definition.fromMs / 1000) * 1000;
    this.toMs = Math.max(this.fromMs, Math.floor(definition.toMs / 1000) * 1000);
    this.spanSec = (this.toMs - this.fromMs) / 1000;
    this.denom = Math.max(1, this.count - 1);
    this.slots = buildPattern(definition.seed, definition.statusWeights);
    this.generator = new OrderGenerator(definition.seed);
  }

  get lastId(): number {
    return this.baseId + this.count - 1;
  }

  slot(i: number): Slot {
    return this.slots[i % LAZY_PATTERN_LENGTH];
  }

  shipped(i: number): boolean {
    return this.slot(i).status >= 95;
  }

  /** Axis time of order i: consign_time if shipped, modified if not. */
  timeOf(i: number): number {
    return this.fromMs + Math.floor((i * this.spanSec) / this.denom) * 1000;
  }

  /** The index of a stockout_id of this set, if it is one. */
  indexOfId(id: number): number | undefined {
    const i = id - this.baseId;
    return Number.isSafeInteger(i) && i >= 0 && i < this.count ? i : undefined;
  }

  /** The index an order_no / stockout_no / src_order_no of this set names (its last 8 digits), if any. */
  indexOfNumber(text: string): number | undefined {
    const m = /^(?:CT|CGTH)\d{8}(\d{8})$/.exec(text);
    if (!m) return undefined;
    for (let id = Number(m[1]); id <= this.lastId; id += 10 ** LAZY_SEQ_DIGITS) {
      const i = this.indexOfId(id);
      if (i !== undefined) return i;
    }
    return undefined;
  }

  /** Number of orders whose axis second is < `sec` seconds after `from` (the first index at or after). */
  private firstAtOrAfter(sec: number): number {
    if (sec <= 0) return 0;
    if (this.spanSec === 0) return this.count;
    return Math.min(this.count, Math.ceil((sec * this.denom) / this.spanSec));
  }

  /**
   * Indices whose axis time, shifted by `offsetMs`, lies in the closed window [startMs, endMs]:
   * `[lo, hi)`. Times are whole seconds, so the window's ends count at one-second resolution.
   */
  indexRange(startMs: number, endMs: number, offsetMs = 0): [number, number] {
    const a = Math.ceil((startMs - offsetMs - this.fromMs) / 1000);
    const b = Math.floor((endMs - offsetMs - this.fromMs) / 1000);
    if (b < a) return [0, 0];
    const lo = this.firstAtOrAfter(a);
    const hi = this.firstAtOrAfter(b + 1);
    return hi > lo ? [lo, hi] : [lo, lo];
  }

  /**
   * Orders ordered before (axis time `atMs` − `offsetMs`, stockout_id `id`) in (time, id) order: the
   * index bound `b` such that exactly the indices < b sort before it.
   */
  boundBefore(atMs: number, id: number, offsetMs = 0): number {
    const c = (atMs - offsetMs - this.fromMs) / 1000;
    const earlier = this.firstAtOrAfter(Math.ceil(c));
    if (!Number.isInteger(c)) return earlier;
    const sameSecondEnd = this.firstAtOrAfter(c + 1);
    return Math.min(Math.max(id - this.baseId, earlier), sameSecondEnd);
  }

  /** Matching indices in [0, x). */
  countBelow(x: number, key: string, predicate: SlotPredicate): number {
    const index = this.indexFor(key, predicate);
    const per = index.positions.length;
    const clamped = Math.max(0, Math.min(x, this.count));
    return Math.floor(clamped / LAZY_PATTERN_LENGTH) * per + index.prefix[clamped % LAZY_PATTERN_LENGTH];
  }

  /** Matching indices in [lo, hi). */
  countIn(lo: number, hi: number, key: string, predicate: SlotPredicate): number {
    return hi <= lo ? 0 : this.countBelow(hi, key, predicate) - this.countBelow(lo, key, predicate);
  }

  /** The k-th (from 0) matching index at or after `lo`; may be ≥ count (then there is none). */
  nth(lo: number, k: number, key: string, predicate: SlotPredicate): number {
    const index = this.indexFor(key, predicate);
    const per = index.positions.length;
    if (per === 0) return Number.MAX_SAFE_INTEGER;
    const target = this.countBelow(lo, key, predicate) + k;
    return Math.floor(target / per) * LAZY_PATTERN_LENGTH + index.positions[target % per];
  }

  /** Order i, generated from (seed, i). A fresh object each call. */
  order(i: number): WdtOrderRecord {
    if (!Number.isSafeInteger(i) || i < 0 || i >= this.count) throw new RangeError(`no lazy order ${i}`);
    const slot = this.slot(i);
    let line = 0;
    const ids = {
      nextStockoutId: () => this.baseId + i,
      nextRecId: () => this.baseRecId + i * LAZY_RECS_PER_ORDER + line++,
    };
    return this.generator.reseed([this.seed, i]).one(
      {
        fromMs: this.fromMs,
        toMs: this.toMs,
        unknownCodeRate: this.definition.unknownCodeRate,
      },
      ids,
      {
        status: slot.status,
        warehouseIndex: slot.warehouseIndex,
        axisMs: this.timeOf(i),
        modifiedLagMs: LAZY_MODIFIED_LAG_MS,
        seqDigits: LAZY_SEQ_DIGITS,
      },
    );
  }

  describe(): Record<string, unknown> {
    return {
      count: this.count,
      seed: this.seed,
      fromMs: this.fromMs,
      toMs: this.toMs,
      firstStockoutId: this.count > 0 ? String(this.baseId) : undefined,
      lastStockoutId: this.count > 0 ? String(this.lastId) : undefined,
    };
  }

  private indexFor(key: string, predicate: SlotPredicate): PatternIndex {
    let index = this.indexes.get(key);
    if (!index) {
      const prefix = new Int32Array(LAZY_PATTERN_LENGTH + 1);
      const positions: number[] = [];
      this.slots.forEach((slot, k) => {
        const hit = predicate(slot);
        prefix[k + 1] = prefix[k] + (hit ? 1 : 0);
        if (hit) positions.push(k);
      });
      index = { prefix, positions };
      this.indexes.set(key, index);
    }
    return index;
  }
}

/** Statuses apportioned over the pattern by weight (largest remainder), shuffled; warehouses drawn. */
function buildPattern(seed: number, weights: LazyDefinition['statusWeights']): Slot[] {
  const given = weights && Object.keys(weights).length > 0 ? weights : DEFAULT_STATUS_WEIGHTS;
  const entries = Object.entries(given as Record<string, number>).filter(([, w]) => w > 0);
  if (entries.length === 0) throw new RangeError('statusWeights: at least one weight must be > 0');
  const total = entries.reduce((sum, [, w]) => sum + w, 0);
  const shares = entries.map(([status, w]) => {
    const exact = (w / total) * LAZY_PATTERN_LENGTH;
    return { status: Number(status), slots: Math.floor(exact), rest: exact - Math.floor(exact) };
  });
  let left = LAZY_PATTERN_LENGTH - shares.reduce((sum, s) => sum + s.slots, 0);
  for (const share of [...shares].sort((a, b) => b.rest - a.rest)) {
    if (left === 0) break;
    share.slots += 1;
    left -= 1;
  }
  const statuses = shares.flatMap((s) => Array.from({ length: s.slots }, () => s.status));
  const random = seededRandom(seed ^ 0x5eed);
  for (let k = statuses.length - 1; k > 0; k--) {
    const j = Math.floor(random() * (k + 1));
    [statuses[k], statuses[j]] = [statuses[j], statuses[k]];
  }
  return statuses.map((status) => {
    const warehouseIndex = Math.floor(random() * SANDBOX_WAREHOUSES.length);
    return { status, warehouseIndex, warehouseNo: SANDBOX_WAREHOUSES[warehouseIndex].warehouse_no };
  });
}
