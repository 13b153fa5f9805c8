import type { FieldType, Scheme } from '@libs/scheme';

/**
 * The three sides of a reconciliation, for one key (the scheme's idempotency value, e.g. FBillNo):
 * what WDT's current order maps to, what Kingdee holds, and what the audit trail believes.
 */

/** One WDT order as the source reader saw it, mapped by the scheme's compiled mapping. */
export type SourceEntry =
  | {
      /** The idempotency value the order's bill carries (`MapResult.billKey`). */
      key: string;
      orderNo: string;
      outcome: 'document';
      /** The model the transformer would send today. */
      model: Readonly<Record<string, unknown>>;
    }
  | {
      key: string;
      orderNo: string;
      /** A precondition failed (cancelled, not shipped, no lines): no bill is expected. */
      outcome: 'skipped';
      reason: string;
      precondition?: string;
    }
  | {
      key: string;
      orderNo: string;
      /** Eligible as far as we know, but the mapping fails today: a bill is expected, its content unknown. */
      outcome: 'unmappable';
      reason: string;
    };

/** An ExecuteBillQuery row keyed by field key (`rowsToObjects` of @libs/kingdee-client). */
export type QueryRow = Readonly<Record<string, unknown>>;

/** One Kingdee bill with the values the comparison needs, keyed by their ExecuteBillQuery field keys. */
export interface TargetBill {
  fid: string;
  billNo: string;
  /** Value of the scheme's idempotency field. */
  key: string;
  /** FDocumentStatus: A 创建, B 审核中, C 已审核, D 重新审核 (un-audited), Z 暂存. */
  documentStatus: string;
  header: QueryRow;
  /** Lines per entry path (e.g. `FPURMRBENTRY`), in entry-id order. */
  entries: Readonly<Record<string, readonly QueryRow[]>>;
}

/** Every Kingdee bill carrying one key (normally one). */
export interface TargetBillGroup {
  key: string;
  bills: readonly TargetBill[];
}

export type BillFact = 'none' | 'saved' | 'audited';

/** The audit trail's view of the order behind a key (`order_facts`). */
export interface TrailView {
  /** Latest audit status (`AUDIT_STATUSES`); unknown values are treated as on the way. */
  status: string;
  billState: BillFact;
  kingdeeId?: string | null;
  kingdeeNumber?: string | null;
  reason?: string | null;
}

/** Trail look-up by key, batched by the merge; keys absent from the map were never seen. */
export interface TrailLookup {
  lookup(keys: readonly string[]): Promise<ReadonlyMap<string, TrailView>>;
}

/** How one field's values are compared. */
export type CompareKind = 'text' | 'ref' | 'decimal' | 'day' | 'boolean';

export interface ComparableField {
  /** Path in the mapped model (header) or in a line (entries), e.g. `FSupplierID`, `FPURMRBFIN.FSettleOrgId`. */
  path: string;
  /** The ExecuteBillQuery field key reading it back, e.g. `FSupplierID.FNumber`. */
  queryKey: string;
  type: FieldType;
  compare: CompareKind;
}

export interface ComparableEntry {
  /** Entry path in the model, e.g. `FPURMRBENTRY`. */
  path: string;
  /** The entry id's field key (`FPURMRBENTRY_FEntryID`): lines are grouped and ordered by it. */
  entryIdKey: string;
  fields: readonly ComparableField[];
}

/** What to read from Kingdee and compare, derived from a scheme (`comparisonPlan`). */
export interface ComparisonPlan {
  formId: string;
  /** The idempotency field (model path) and its query key. */
  keyField: string;
  keyQueryKey: string;
  header: readonly ComparableField[];
  entries: readonly ComparableEntry[];
  /** `C` when the scheme submits and audits every bill; null when it only saves. */
  expectedStatus: string | null;
  /** FieldKeys for ExecuteBillQuery: FID, FBillNo, FDocumentStatus, the key, header, entry ids, lines. */
  fieldKeys: readonly string[];
}

/** Why the trail says an eligible order has no bill. */
export type MissingCause = 'waiting' | 'failed' | 'skipped' | 'closed' | 'never_seen' | 'unexplained';

export interface BillRef {
  fid: string;
  billNo: string;
  documentStatus: string;
}

export type DifferenceKind = 'value' | 'line_count' | 'not_audited' | 'un_audited';

export interface FieldDifference {
  kind: DifferenceKind;
  /** `FSupplierID`, `FPURMRBENTRY[2].FRMREALQTY`, `FPURMRBENTRY` (line count), `FDocumentStatus`. */
  field: string;
  /** Display text of both sides (null: no value). */
  expected: string | null;
  actual: string | null;
}

interface FindingBase {
  key: string;
  /** The WDT order, when the source side has one for the key. */
  orderNo: string | null;
}

export type Finding =
  | (FindingBase & {
      kind: 'matched';
      bill: BillRef;
      /** False when the order cannot be mapped today: the bill exists, its content was not compared. */
      contentChecked: boolean;
    })
  | (FindingBase & {
      kind: 'missing_in_erp';
      cause: MissingCause;
      trailStatus: string | null;
      trailReason: string | null;
    })
  | (FindingBase & { kind: 'duplicated_in_erp'; bills: BillRef[] })
  | (FindingBase & {
      kind: 'extra_in_erp';
      /** no_order: nothing in WDT for the period (entered by hand); not_eligible: a skipped order. */
      cause: 'no_order' | 'not_eligible';
      sourceReason: string | null;
      bills: BillRef[];
    })
  | (FindingBase & { kind: 'differs'; bill: BillRef; differences: FieldDifference[] })
  | (FindingBase & {
      kind: 'trail_disagrees';
      trailStatus: string | null;
      trailBill: BillFact;
      /** How many bills Kingdee holds for the key. */
      billsInErp: number;
      detail: string;
    });

export type FindingKind = Finding['kind'];

export const FINDING_KINDS: readonly FindingKind[] = [
  'matched',
  'missing_in_erp',
  'duplicated_in_erp',
  'extra_in_erp',
  'differs',
  'trail_disagrees',
];

/** Everything known about one key: the merge yields one per key, in key order. */
export interface KeyReconciliation {
  key: string;
  findings: Finding[];
}

/**
 * A connection the engine uses per scheme: one client for every scheme (a single-account deployment,
 * tests) or the client of each scheme's own connection (`source.connection` / `target.connection`).
 */
export type PerScheme<T> = T | ((scheme: Scheme) => T);

export function forScheme<T extends object>(value: PerScheme<T>, scheme: Scheme): T {
  return typeof value === 'function' ? (value as (scheme: Scheme) => T)(scheme) : value;
}
