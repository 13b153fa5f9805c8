import { findBillsByField, type KingdeeApi } from '@libs/kingdee-client';
import type { ComparisonPlan, QueryRow } from '../reconcile.types';

export const DEFAULT_KINGDEE_PAGE_ROWS = 2000;
/** Keys per `<key> IN (…)` look-up. */
const LOOKUP_CHUNK = 100;

export interface TargetReadStats {
  /** Query rows read (one per entry line). */
  rows: number;
  /** Distinct bills read (FID). */
  bills: number;
  calls: number;
}

export interface TargetReadOptions {
  plan: ComparisonPlan;
  /** The period, Shanghai wall clock `yyyy-MM-dd HH:mm:ss`, inclusive. */
  from: string;
  to: string;
  /** The Kingdee field the period filters bills on (scheme `reconcile.dateField`). */
  dateField: string;
  /** Extra FilterString AND-ed to the period (scheme `reconcile.targetFilter`). */
  targetFilter?: string;
  signal: AbortSignal;
  /** Each page's rows (write them before the next page is read). */
  onRows: (rows: QueryRow[]) => Promise<void>;
  onStats?: (stats: Readonly<TargetReadStats>) => void;
}

/** A query row's FID as decimal text (Kingdee's FIDs are integers). */
function fidOf(row: QueryRow): string {
  const fid = String(row.FID ?? '');
  if (!/^\d+$/.test(fid))
    throw new Error(`ExecuteBillQuery returned a row without an integer FID: ${JSON.stringify(fid)}`);
  return fid;
}

/** The period's FilterString (dates are the wall-clock text the API speaks; Kingdee compares them as dates). */
export function periodFilter(dateField: string, from: string, to: string, targetFilter?: string): string {
  const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;
  const period = `${dateField} >= ${quote(from)} AND ${dateField} <= ${quote(to)}`;
  return targetFilter && targetFilter.trim() !== '' ? `${period} AND (${targetFilter})` : period;
}

/** Bill, then line order (what staging needs to dedupe and `groupBillsByKey` to group). */
export function periodOrder(plan: ComparisonPlan): string {
  return ['FID', ...plan.entries.map((e) => e.entryIdKey)].map((k) => `${k} ASC`).join(', ');
}

/**
 * Reads the target side from Kingdee: `ExecuteBillQuery` on the scheme's form for the period, paged
 * with StartRow/Limit, then the bills of period orders dated outside the period (looked up by key).
 * One call at a time: the run holds one Kingdee session.
 */
export class KingdeeTargetReader {
  private readonly api: KingdeeApi;
  private calls = 0;

  constructor(
    api: KingdeeApi,
    private readonly pageRows = DEFAULT_KINGDEE_PAGE_ROWS,
  ) {
    // Counts every query (findBillsByField included) without changing the client.
    const count: KingdeeApi['executeBillQueryObjects'] = (query, signal) => {
      this.calls += 1;
      return api.executeBillQueryObjects(query, signal);
    };
    this.api = new Proxy(api, {
      get: (target, prop, receiver) =>
        prop === 'executeBillQueryObjects' ? count : (Reflect.get(target, prop, receiver) as unknown),
    });
  }

  /**
   * Pages by FID (keyset), not by row offset: a bill deleted or entered while the period is read
   * would shift every later row under StartRow paging, so a bill could be skipped or read in part.
   * A full page's last bill may be cut off: it is left out and read whole by the next page
   * (`FID >= last`); a bill with more lines than a page is read alone, by row offset within it.
   */
  async readPeriod(o: TargetReadOptions): Promise<TargetReadStats> {
    const stats: TargetReadStats = { rows: 0, bills: 0, calls: 0 };
    const start = this.calls;
    const period = periodFilter(o.dateField, o.from, o.to, o.targetFilter);
    const order = periodOrder(o.plan);
    const query = (filter: string, startRow: number) => {
      o.signal.throwIfAborted();
      return this.api.executeBillQueryObjects(
        {
          FormId: o.plan.formId,
          FieldKeys: [...o.plan.fieldKeys],
          FilterString: filter,
          OrderString: order,
          StartRow: startRow,
          Limit: this.pageRows,
        },
        o.signal,
      );
    };
    /** `continued`: more lines of a bill already counted. */
    const take = async (rows: QueryRow[], continued = false): Promise<void> => {
      stats.calls = this.calls - start;
      stats.rows += rows.length;
      if (!continued) stats.bills += new Set(rows.map((r) => String(r.FID))).size;
      if (rows.length > 0) await o.onRows(rows);
      o.onStats?.({ ...stats });
    };
    let from: string | undefined;
    for (;;) {
      const rows = await query(from === undefined ? period : `${period} AND FID >= ${from}`, 0);
      if (rows.length < this.pageRows) {
        await take(rows);
        return stats;
      }
      const last = fidOf(rows[rows.length - 1]);
      const complete = rows.filter((r) => fidOf(r) !== last);
      if (complete.length > 0) {
        await take(complete);
        from = last;
        continue;
      }
      // One bill fills the page: read it alone by row offset, then go on after it.
      await take(rows);
      for (let row = rows.length; ; row += this.pageRows) {
        const more = await query(`${period} AND FID = ${last}`, row);
        await take(more, true);
        if (more.length < this.pageRows) break;
      }
      from = String(BigInt(last) + 1n);
    }
  }

  /**
   * Bills carrying the given keys wherever they are dated (an order of the period whose bill is
   * dated outside it still has that bill), chunked by 100 keys.
   */
  async readKeys(
    plan: ComparisonPlan,
    keys: AsyncIterable<string>,
    o: {
      signal: AbortSignal;
      onRows: (rows: QueryRow[]) => Promise<void>;
      onCalls?: (calls: number) => void;
    },
  ): Promise<{ rows: number; bills: number; calls: number }> {
    const start = this.calls;
    let rows = 0;
    const fids = new Set<string>();
    let chunk: string[] = [];
    const flush = async (): Promise<void> => {
      if (chunk.length === 0) return;
      o.signal.throwIfAborted();
      const found = await findBillsByField(this.api, {
        formId: plan.formId,
        field: plan.keyQueryKey,
        values: chunk,
        fieldKeys: [...plan.fieldKeys],
        chunkSize: LOOKUP_CHUNK,
        pageSize: this.pageRows,
        signal: o.signal,
      });
      chunk = [];
      rows += found.length;
      for (const r of found) fids.add(String(r.FID));
      if (found.length > 0) await o.onRows(found);
      o.onCalls?.(this.calls - start);
    };
    for await (const key of keys) {
      chunk.push(key);
      if (chunk.length >= LOOKUP_CHUNK) await flush();
    }
    await flush();
    return { rows, bills: fids.size, calls: this.calls - start };
  }
}
