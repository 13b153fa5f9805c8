import { AuditEvent } from '@libs/contracts';

export type BillState = 'none' | 'saved' | 'audited';

/**
 * What the trail knows of one order of one scheme, as two facts never confused:
 * - the **bill** (`billState`, `kingdeeId`, `kingdeeNumber`): what Kingdee holds. Set by what the
 *   loader learnt from Kingdee; cleared only by an operator's action (or a later check of Kingdee).
 * - the **latest** outcome (`status`, …): the outcome of the newest source version. An event about
 *   an older version never replaces it; a closed order is reopened by a newer version.
 */
export interface OrderFacts {
  schemeId: string;
  sourceKey: string;
  status: string;
  stage: string;
  reason: string | null;
  errorClass: string | null;
  errorMessage: string | null;
  errorField: string | null;
  kingdeeId: string | null;
  kingdeeNumber: string | null;
  billKey: string | null;
  billState: BillState;
  billAt: string | null;
  billSource: string | null;
  /** Calls to Kingdee made for this order, all versions. */
  attempts: number;
  latencyMs: number | null;
  deadLetterId: string | null;
  correlationId: string;
  lastEventId: string;
  lastOccurredAt: string;
  firstSeenAt: string;
  latestVersion: string | null;
  closedBy: string | null;
  closedReason: string | null;
  attemptId: string | null;
}

/** Statuses that say the order's bill exists in Kingdee. */
const BILL_EXISTS = new Set([
  'loaded',
  'changed_after_load',
  'duplicate',
  'conflict_in_erp',
  'duplicate_in_erp',
]);
/** Statuses after which the order is still on its way. */
const TRANSITIONAL = new Set(['parked', 'settling', 'saved_not_audited', 'waiting_base_data']);

function time(iso: string): number {
  return Date.parse(iso);
}

/** Whether `e` is a later report than the one the row holds (occurrence time, then event id). */
function laterThanRow(row: OrderFacts, e: AuditEvent): boolean {
  const a = time(row.lastOccurredAt);
  const b = time(e.occurredAt);
  return b > a || (b === a && e.eventId > row.lastEventId);
}

/**
 * Whether `e` replaces the latest outcome of `row`. Versions first: a newer version always does, an
 * older never. Without a version (a record that could not be read) an event never replaces a
 * versioned outcome, except an operator's. Within one version: the later report, except that a
 * report of the order on its way never replaces its bill's existence, "already loaded" never
 * replaces "loaded", and a closed order is reopened only by its bill's existence.
 */
export function replacesLatest(row: OrderFacts, e: AuditEvent): boolean {
  const v = e.sourceVersion ?? null;
  if (v !== null && row.latestVersion !== null && v !== row.latestVersion) return v > row.latestVersion;
  if (v !== null && row.latestVersion === null) return true;
  if (v === null && row.latestVersion !== null && e.stage !== 'operator') return false;
  if (!laterThanRow(row, e)) return false;
  if (e.stage === 'operator') return true;
  if (e.status === 'duplicate' && row.status === 'loaded') return false;
  if (TRANSITIONAL.has(e.status) && BILL_EXISTS.has(row.status)) return false;
  if (row.status === 'closed') return BILL_EXISTS.has(e.status);
  return true;
}

/** The bill after `e`: only what Kingdee said about it moves it, and `audited` never drops to `saved`. */
function billAfter(
  row: OrderFacts | undefined,
  e: AuditEvent,
): Pick<OrderFacts, 'billState' | 'kingdeeId' | 'kingdeeNumber' | 'billAt' | 'billSource'> {
  const current = {
    billState: row?.billState ?? ('none' as BillState),
    kingdeeId: row?.kingdeeId ?? null,
    kingdeeNumber: row?.kingdeeNumber ?? null,
    billAt: row?.billAt ?? null,
    billSource: row?.billSource ?? null,
  };
  if (e.stage === 'operator') {
    // A person linked the order to a bill they found in Kingdee; other actions leave the bill alone
    // (confirming a bill absent clears it through its own statement).
    if (e.status === 'loaded' && (e.kingdeeId || e.kingdeeNumber))
      return {
        billState: 'audited',
        kingdeeId: e.kingdeeId ?? null,
        kingdeeNumber: e.kingdeeNumber ?? null,
        billAt: e.occurredAt,
        billSource: `operator:${e.actor ?? '?'}`,
      };
    return current;
  }
  const id = e.kingdeeId ?? null;
  const number = e.kingdeeNumber ?? null;
  if (e.status === 'loaded' && (id !== null || number !== null))
    return {
      billState: 'audited',
      kingdeeId: id ?? current.kingdeeId,
      kingdeeNumber: number ?? current.kingdeeNumber,
      billAt: e.occurredAt,
      billSource: 'kingdee',
    };
  if (e.status === 'saved_not_audited' && (id !== null || number !== null)) {
    const same = current.billState === 'audited' && (id === null || id === current.kingdeeId);
    return same
      ? current
      : {
          billState: 'saved',
          kingdeeId: id ?? current.kingdeeId,
          kingdeeNumber: number ?? current.kingdeeNumber,
          billAt: e.occurredAt,
          billSource: 'kingdee',
        };
  }
  if (
    (e.status === 'duplicate' || e.status === 'changed_after_load') &&
    current.billState === 'none' &&
    (id || number)
  )
    return {
      billState: 'audited',
      kingdeeId: id,
      kingdeeNumber: number,
      billAt: e.occurredAt,
      billSource: 'kingdee',
    };
  // Other reports may name the bill (a conflict's number) without saying what state it is in.
  return {
    ...current,
    kingdeeId: current.kingdeeId ?? id,
    kingdeeNumber: current.kingdeeNumber ?? number,
  };
}

/** The order's facts after `e` (recorded for the first time). */
export function applyEvent(row: OrderFacts | undefined, e: AuditEvent): OrderFacts {
  const bill = billAfter(row, e);
  const attempts = (row?.attempts ?? 0) + (e.attemptId ? 1 : 0);
  if (row && !replacesLatest(row, e))
    return {
      ...row,
      ...bill,
      attempts,
      billKey: row.billKey ?? e.billKey ?? null,
      firstSeenAt: time(e.occurredAt) < time(row.firstSeenAt) ? e.occurredAt : row.firstSeenAt,
    };
  return {
    schemeId: e.schemeId,
    sourceKey: e.sourceKey,
    status: e.status,
    stage: e.stage,
    reason: e.reason ?? null,
    errorClass: e.errorClass ?? null,
    errorMessage: e.errorMessage ?? null,
    errorField: e.errorField ?? null,
    ...bill,
    billKey: e.billKey ?? row?.billKey ?? null,
    attempts,
    latencyMs: e.latencyMs ?? null,
    deadLetterId: e.deadLetterId ?? null,
    correlationId: e.correlationId,
    lastEventId: e.eventId,
    lastOccurredAt: e.occurredAt,
    firstSeenAt: row && time(row.firstSeenAt) < time(e.occurredAt) ? row.firstSeenAt : e.occurredAt,
    latestVersion: e.sourceVersion ?? row?.latestVersion ?? null,
    closedBy: e.status === 'closed' ? (e.actor ?? null) : null,
    closedReason: e.status === 'closed' ? (e.reason ?? null) : null,
    attemptId: e.attemptId ?? null,
  };
}
