import { classifyKey, type KeySides } from './reconcile-classifier';
import { ReconcileInputError } from './reconcile.errors';
import type {
  ComparisonPlan,
  KeyReconciliation,
  SourceEntry,
  TargetBillGroup,
  TrailLookup,
} from './reconcile.types';

export interface MergeOptions {
  plan: ComparisonPlan;
  /** WDT orders mapped, sorted by key (the order `compareKeys` defines). */
  source: AsyncIterable<SourceEntry>;
  /** Kingdee bills grouped by key, sorted the same way (see `groupBillsByKey`). */
  target: AsyncIterable<TargetBillGroup>;
  trail: TrailLookup;
  /** Keys per trail look-up, and so the most keys held at once (default 500). */
  batchSize?: number;
  /**
   * Key order of both inputs (default: UTF-16 code units, as JS sorts). Readers must sort the same
   * way (a Postgres staging table: `ORDER BY key COLLATE "C"`); an input out of order is an error,
   * never a silent wrong finding.
   */
  compareKeys?: (a: string, b: string) => number;
}

export const defaultCompareKeys = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Pulls items of a key-sorted stream one key at a time, checking the order as it goes. */
class KeyedReader<T> {
  private readonly it: AsyncIterator<T>;
  private pending: T | undefined;
  private ended = false;
  private lastKey: string | undefined;

  constructor(
    iterable: AsyncIterable<T>,
    private readonly side: string,
    private readonly keyOf: (item: T) => string,
    private readonly compare: (a: string, b: string) => number,
    /** Folds a second item with the same key into the first (or throws). */
    private readonly fold: (a: T, b: T) => T,
  ) {
    this.it = iterable[Symbol.asyncIterator]();
  }

  private async pull(): Promise<T | undefined> {
    if (this.pending !== undefined) {
      const p = this.pending;
      this.pending = undefined;
      return p;
    }
    if (this.ended) return undefined;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return undefined;
    }
    return r.value;
  }

  /** The next key's item (equal keys folded), or undefined at the end. */
  async next(): Promise<T | undefined> {
    let item = (await this.pull()) as T | undefined;
    if (item === undefined) return undefined;
    const key = this.keyOf(item);
    if (this.lastKey !== undefined && this.compare(this.lastKey, key) >= 0) {
      throw new ReconcileInputError(
        `${this.side} keys out of order: ${JSON.stringify(key)} after ${JSON.stringify(this.lastKey)}`,
      );
    }
    for (;;) {
      const following = (await this.pull()) as T | undefined;
      if (following === undefined) break;
      if (this.compare(this.keyOf(following), key) !== 0) {
        this.pending = following;
        break;
      }
      item = this.fold(item, following);
    }
    this.lastKey = key;
    return item;
  }

  async close(): Promise<void> {
    if (!this.ended) await this.it.return?.();
  }
}

function foldSource(a: SourceEntry, b: SourceEntry): SourceEntry {
  // The same order read twice (WDT pages shift while read): the later read is the newer one.
  if (a.orderNo === b.orderNo) return b;
  throw new ReconcileInputError(
    `orders ${a.orderNo} and ${b.orderNo} both map to key ${JSON.stringify(a.key)}; the scheme's idempotency key is not unique`,
  );
}

function foldTarget(a: TargetBillGroup, b: TargetBillGroup): TargetBillGroup {
  // A key's bills split over two groups (a page boundary in a reader): one group.
  return { key: a.key, bills: [...a.bills, ...b.bills] };
}

/**
 * Merges the two key-sorted sides and classifies key by key, yielding one `KeyReconciliation` per
 * key present on either side, in key order (findings may be empty: a skipped order without a bill).
 * Holds at most `batchSize` keys: the trail is looked up per batch, then the batch is yielded.
 */
export async function* reconcileStreams(options: MergeOptions): AsyncGenerator<KeyReconciliation> {
  const batchSize = Math.max(1, options.batchSize ?? 500);
  const compare = options.compareKeys ?? defaultCompareKeys;
  const source = new KeyedReader(options.source, 'source', (s) => s.key, compare, foldSource);
  const target = new KeyedReader(options.target, 'target', (t) => t.key, compare, foldTarget);
  let batch: KeySides[] = [];

  const flush = async function* (): AsyncGenerator<KeyReconciliation> {
    const keys = batch.map((b) => b.key);
    const trail = await options.trail.lookup(keys);
    const current = batch;
    batch = [];
    for (const sides of current) {
      const view = trail.get(sides.key);
      yield {
        key: sides.key,
        findings: classifyKey(options.plan, view ? { ...sides, trail: view } : sides),
      };
    }
  };

  try {
    let s = await source.next();
    let t = await target.next();
    while (s !== undefined || t !== undefined) {
      const c = s === undefined ? 1 : t === undefined ? -1 : compare(s.key, t.key);
      if (c < 0) {
        batch.push({ key: s!.key, source: s, bills: [] });
        s = await source.next();
      } else if (c > 0) {
        batch.push({ key: t!.key, bills: t!.bills });
        t = await target.next();
      } else {
        batch.push({ key: s!.key, source: s, bills: t!.bills });
        s = await source.next();
        t = await target.next();
      }
      if (batch.length >= batchSize) yield* flush();
    }
    if (batch.length > 0) yield* flush();
  } finally {
    await Promise.all([source.close(), target.close()]);
  }
}
