import type { FindingKind } from '../reconcile.types';

/**
 * The shapes a reconciliation run shares between the reconciler (which carries runs out), the CLI,
 * the operator API (which requests runs and reads them) and the summary event. Tables:
 * libs/database/src/migrations/1764301100000-reconciliation.ts.
 */

export type ReconcileTrigger = 'schedule' | 'api' | 'cli';
export type ReconcileRunState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
/** source: reading WDT; target: reading Kingdee; compare: merging by key and writing findings. */
export type ReconcilePhase = 'source' | 'target' | 'compare' | 'finished';

/** `reconcile_runs.progress`: what a run has done so far (written at most every second or so). */
export interface ReconcileProgress {
  phase: ReconcilePhase;
  /** WDT orders read in the period (after de-duplication by order number). */
  sourceOrders: number;
  /** WDT's total_count over the period's windows, once page 0 of every window is read; else null. */
  sourceTotal: number | null;
  sourcePages: number;
  /** WDT HTTP calls made, retries included. */
  wdtCalls: number;
  /**
   * WDT list entries the run could not use (not an object, or no `order_no`): neither compared nor
   * dropped silently: a run with such entries still completes and says how many here (and in its log).
   */
  sourceUnusable?: number;
  /** Kingdee ExecuteBillQuery rows read (one per entry line). */
  targetRows: number;
  /** Distinct bills (FID) read. */
  targetBills: number;
  kingdeeCalls: number;
  /** Keys classified so far, and how many there are once both sides are staged. */
  keysCompared: number;
  keysTotal: number | null;
}

/** Counts per finding class; `matched` is counted, never stored as a finding row. */
export type FindingCounts = Record<FindingKind, number>;

export const EMPTY_COUNTS: Readonly<FindingCounts> = Object.freeze({
  matched: 0,
  missing_in_erp: 0,
  duplicated_in_erp: 0,
  extra_in_erp: 0,
  differs: 0,
  trail_disagrees: 0,
});

/** Finding classes an operator can re-push from a run. */
export const REPUSHABLE_KINDS: readonly FindingKind[] = ['missing_in_erp', 'differs'];

export type RepushState = 'requested' | 'running' | 'done' | 'refused' | 'failed';

/** A run as stored (times as ISO strings; the period as Shanghai wall-clock `yyyy-MM-dd HH:mm:ss`). */
export interface ReconcileRunView {
  id: string;
  schemeId: string;
  periodFrom: string;
  periodTo: string;
  trigger: ReconcileTrigger;
  scheduleSlot: string | null;
  requestedBy: string;
  state: ReconcileRunState;
  phase: ReconcilePhase | null;
  progress: Partial<ReconcileProgress>;
  counts: FindingCounts | null;
  error: string | null;
  requestedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/**
 * The summary event of a finished run, published on the audit topic with header
 * `event-type: sync.reconciliation` and key `reconcile:<schemeId>` (see docs/consumers.md).
 */
export interface ReconcileSummary {
  eventId: string;
  runId: string;
  schemeId: string;
  periodFrom: string;
  periodTo: string;
  trigger: ReconcileTrigger;
  state: 'done' | 'failed';
  counts: FindingCounts | null;
  /** Failed runs: why (secrets and personal data never appear). */
  error: string | null;
  startedAt: string;
  finishedAt: string;
  occurredAt: string;
}
