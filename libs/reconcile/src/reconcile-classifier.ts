import { reportValue, sameValue } from './field-compare.util';
import type {
  BillRef,
  ComparableField,
  ComparisonPlan,
  FieldDifference,
  Finding,
  MissingCause,
  QueryRow,
  SourceEntry,
  TargetBill,
  TrailView,
} from './reconcile.types';

/** Everything known about one key. */
export interface KeySides {
  key: string;
  /** The WDT order mapping to the key; absent when WDT has none in the period. */
  source?: SourceEntry;
  /** Kingdee's bills carrying the key (empty: none). */
  bills: readonly TargetBill[];
  /** The trail's view; absent when the trail never saw the order. */
  trail?: TrailView;
}

/** Trail statuses that say the order's bill exists in Kingdee (as `order-facts` reads them). */
const CLAIMS_BILL: ReadonlySet<string> = new Set([
  'loaded',
  'changed_after_load',
  'duplicate',
  'conflict_in_erp',
  'duplicate_in_erp',
]);
const FAILED: ReadonlySet<string> = new Set(['failed', 'dead_lettered']);

/** Why the trail thinks an eligible order has no bill. Unknown statuses are on their way (contract). */
export function missingCause(trail: TrailView | undefined): MissingCause {
  if (!trail) return 'never_seen';
  if (FAILED.has(trail.status)) return 'failed';
  if (trail.status === 'skipped') return 'skipped';
  if (trail.status === 'closed') return 'closed';
  if (CLAIMS_BILL.has(trail.status)) return 'unexplained';
  return 'waiting';
}

function billRef(b: TargetBill): BillRef {
  return { fid: b.fid, billNo: b.billNo, documentStatus: b.documentStatus };
}

function modelValue(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = Object.hasOwn(cur, seg) ? (cur as Record<string, unknown>)[seg] : undefined;
  }
  return cur;
}

/** A query row's value; field keys are case-insensitive in Kingdee, so fall back to any casing. */
function rowValue(row: QueryRow | undefined, key: string): unknown {
  if (!row) return undefined;
  if (Object.hasOwn(row, key)) return row[key];
  const upper = key.toUpperCase();
  const hit = Object.keys(row).find((k) => k.toUpperCase() === upper);
  return hit === undefined ? undefined : row[hit];
}

function fieldDifference(
  f: ComparableField,
  label: string,
  expected: unknown,
  actual: unknown,
): FieldDifference | undefined {
  if (sameValue(f.compare, expected, actual)) return undefined;
  return { kind: 'value', field: label, expected: reportValue(expected), actual: reportValue(actual) };
}

/**
 * Differences between the mapping of the current order and one bill: header fields, entry lines
 * matched by position (the bill's lines in entry-id order, as the loader wrote them), and the
 * document status the scheme asks for.
 */
export function compareBill(
  plan: ComparisonPlan,
  model: Readonly<Record<string, unknown>>,
  bill: TargetBill,
  trail?: TrailView,
): FieldDifference[] {
  const out: FieldDifference[] = [];
  for (const f of plan.header) {
    const d = fieldDifference(f, f.path, modelValue(model, f.path), rowValue(bill.header, f.queryKey));
    if (d) out.push(d);
  }
  for (const entry of plan.entries) {
    const raw = modelValue(model, entry.path);
    const expectedLines = Array.isArray(raw) ? (raw as unknown[]) : [];
    const actualLines = bill.entries[entry.path] ?? [];
    if (expectedLines.length !== actualLines.length) {
      out.push({
        kind: 'line_count',
        field: entry.path,
        expected: String(expectedLines.length),
        actual: String(actualLines.length),
      });
    }
    const common = Math.min(expectedLines.length, actualLines.length);
    for (let i = 0; i < common; i++) {
      for (const f of entry.fields) {
        const d = fieldDifference(
          f,
          `${entry.path}[${i}].${f.path}`,
          modelValue(expectedLines[i], f.path),
          rowValue(actualLines[i], f.queryKey),
        );
        if (d) out.push(d);
      }
    }
  }
  if (plan.expectedStatus !== null && bill.documentStatus !== plan.expectedStatus) {
    // D is Kingdee's "re-audit" state after UnAudit; a bill the trail saw audited was un-audited too.
    const unAudited = bill.documentStatus === 'D' || trail?.billState === 'audited';
    out.push({
      kind: unAudited ? 'un_audited' : 'not_audited',
      field: 'FDocumentStatus',
      expected: plan.expectedStatus,
      actual: bill.documentStatus || null,
    });
  }
  return out;
}

/** Where the trail contradicts what Kingdee holds for the key, as a sentence; undefined if it does not. */
export function trailContradiction(
  trail: TrailView | undefined,
  bills: readonly TargetBill[],
): string | undefined {
  if (!trail) return undefined;
  const n = bills.length;
  if (n === 0) {
    if (CLAIMS_BILL.has(trail.status) || trail.billState !== 'none') {
      const which = trail.kingdeeNumber ? ` ${trail.kingdeeNumber}` : '';
      return `the trail says ${trail.status} (bill${which} ${trail.billState}) but Kingdee holds no bill`;
    }
    return undefined;
  }
  const numbers = bills.map((b) => b.billNo).join(', ');
  if (FAILED.has(trail.status)) return `the trail says ${trail.status} but Kingdee holds ${numbers}`;
  if (n === 1 && trail.billState !== 'none' && trail.kingdeeId && trail.kingdeeId !== bills[0].fid) {
    return `the trail links bill FID ${trail.kingdeeId} but Kingdee holds FID ${bills[0].fid} (${bills[0].billNo})`;
  }
  return undefined;
}

/**
 * Classifies one key from its three sides. At most one content finding (matched, missing_in_erp,
 * duplicated_in_erp, extra_in_erp, differs), possibly with trail_disagrees; a skipped order without
 * a bill gives no content finding at all.
 */
export function classifyKey(plan: ComparisonPlan, sides: KeySides): Finding[] {
  const { key, source, bills, trail } = sides;
  const orderNo = source?.orderNo ?? null;
  const findings: Finding[] = [];
  const eligible = source !== undefined && source.outcome !== 'skipped';

  if (eligible) {
    if (bills.length === 0) {
      findings.push({
        kind: 'missing_in_erp',
        key,
        orderNo,
        cause: missingCause(trail),
        trailStatus: trail?.status ?? null,
        trailReason: trail?.reason ?? null,
      });
    } else if (bills.length > 1) {
      findings.push({ kind: 'duplicated_in_erp', key, orderNo, bills: bills.map(billRef) });
    } else if (source.outcome === 'unmappable') {
      findings.push({ kind: 'matched', key, orderNo, bill: billRef(bills[0]), contentChecked: false });
    } else {
      const differences = compareBill(plan, source.model, bills[0], trail);
      findings.push(
        differences.length === 0
          ? { kind: 'matched', key, orderNo, bill: billRef(bills[0]), contentChecked: true }
          : { kind: 'differs', key, orderNo, bill: billRef(bills[0]), differences },
      );
    }
  } else if (bills.length > 0) {
    findings.push({
      kind: 'extra_in_erp',
      key,
      orderNo,
      cause: source ? 'not_eligible' : 'no_order',
      sourceReason: source?.outcome === 'skipped' ? source.reason : null,
      bills: bills.map(billRef),
    });
  }

  const contradiction = trailContradiction(trail, bills);
  if (contradiction && trail) {
    findings.push({
      kind: 'trail_disagrees',
      key,
      orderNo,
      trailStatus: trail.status,
      trailBill: trail.billState,
      billsInErp: bills.length,
      detail: contradiction,
    });
  }
  return findings;
}
