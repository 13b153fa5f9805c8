import { ReconcileInputError } from './reconcile.errors';
import type { ComparisonPlan, QueryRow, TargetBill, TargetBillGroup } from './reconcile.types';

/**
 * ExecuteBillQuery with entry fields returns one row per entry line (header values repeated; a bill
 * without lines gives one row with empty entry values). These turn such rows, read in
 * `billQueryOrder`, back into bills and bills into key groups, one at a time.
 */

/** OrderString keeping a key's bills, and a bill's lines, adjacent and in order. */
export function billQueryOrder(plan: ComparisonPlan): string {
  return [plan.keyQueryKey, 'FID', ...plan.entries.map((e) => e.entryIdKey)].map((k) => `${k} ASC`).join(',');
}

function text(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

/** One bill from its rows (all with the same FID). Lines are deduplicated by entry id, per entry. */
export function billFromRows(plan: ComparisonPlan, rows: readonly QueryRow[]): TargetBill {
  if (rows.length === 0) throw new ReconcileInputError('a bill needs at least one query row');
  const first = rows[0];
  const entries: Record<string, QueryRow[]> = {};
  for (const entry of plan.entries) {
    const seen = new Set<string>();
    const lines: QueryRow[] = [];
    for (const row of rows) {
      const id = text(row[entry.entryIdKey]);
      // Several entry entities in one query come back as a cross product: keep each line once.
      if (id === '' || id === '0' || seen.has(id)) continue;
      seen.add(id);
      lines.push(row);
    }
    entries[entry.path] = lines;
  }
  return {
    fid: text(first.FID),
    billNo: text(first.FBillNo),
    key: text(first[plan.keyQueryKey]),
    documentStatus: text(first.FDocumentStatus),
    header: first,
    entries,
  };
}

/**
 * Streams rows (sorted by `billQueryOrder`) into one group per key. Holds one key's rows at a time;
 * a bill whose rows are not adjacent is a reader error.
 */
export async function* groupBillsByKey(
  plan: ComparisonPlan,
  rows: AsyncIterable<QueryRow>,
): AsyncGenerator<TargetBillGroup> {
  let key: string | undefined;
  let bills: TargetBill[] = [];
  let fid: string | undefined;
  let billRows: QueryRow[] = [];
  const done = new Set<string>();

  const closeBill = (): void => {
    if (fid === undefined) return;
    bills.push(billFromRows(plan, billRows));
    done.add(fid);
    fid = undefined;
    billRows = [];
  };

  for await (const row of rows) {
    const rowKey = text(row[plan.keyQueryKey]);
    const rowFid = text(row.FID);
    if (rowKey !== key) {
      closeBill();
      if (key !== undefined) yield { key, bills };
      key = rowKey;
      bills = [];
      done.clear();
    }
    if (rowFid !== fid) {
      closeBill();
      if (done.has(rowFid)) throw new ReconcileInputError(`rows of bill FID ${rowFid} are not adjacent`);
      fid = rowFid;
    }
    billRows.push(row);
  }
  closeBill();
  if (key !== undefined) yield { key, bills };
}
