// Pure helpers of the reconciliation pages: class order and colours, progress of a run, the default
// period (yesterday, as the nightly run covers), and which findings a person can re-push.
import type { FindingKind, ReconcileCounts, ReconcileRun } from '../api/console-types';

export const COUNT_KINDS = [
  'matched',
  'missing_in_erp',
  'duplicated_in_erp',
  'extra_in_erp',
  'differs',
  'trail_disagrees',
] as const;
export type CountKind = (typeof COUNT_KINDS)[number];

export const FINDING_KINDS: readonly FindingKind[] = [
  'missing_in_erp',
  'duplicated_in_erp',
  'extra_in_erp',
  'differs',
  'trail_disagrees',
];

/** Red: a bill too few or too many; orange: a bill to review; purple: the trail to correct. */
export const KIND_COLOURS: Record<CountKind, string> = {
  matched: 'green',
  missing_in_erp: 'red',
  duplicated_in_erp: 'red',
  extra_in_erp: 'orange',
  differs: 'orange',
  trail_disagrees: 'purple',
};

export const REPUSHABLE: readonly FindingKind[] = ['missing_in_erp', 'differs'];

export function isOpen(run: Pick<ReconcileRun, 'state'> | null | undefined): boolean {
  return run?.state === 'queued' || run?.state === 'running';
}

/** Findings needing a person (every class but matched). */
export function findingTotal(counts: ReconcileCounts | null | undefined): number {
  if (!counts) return 0;
  return FINDING_KINDS.reduce((n, k) => n + (counts[k] ?? 0), 0);
}

/**
 * How far a run is, 0–100: reading WDT is the first 40 %, Kingdee the next 40 %, comparing the
 * rest (the phases take about that share of a month's run at the API bounds).
 */
export function runPercent(run: Pick<ReconcileRun, 'state' | 'progress'>): number {
  if (run.state === 'done') return 100;
  const p = run.progress;
  const ratio = (done?: number, total?: number | null) =>
    total && total > 0 ? Math.min(1, (done ?? 0) / total) : 0;
  switch (p.phase) {
    case 'source':
      return Math.round(40 * ratio(p.sourceOrders, p.sourceTotal));
    case 'target':
      return 40 + Math.round(40 * ratio(p.targetBills, p.sourceTotal ?? p.sourceOrders));
    case 'compare':
      return 80 + Math.round(20 * ratio(p.keysCompared, p.keysTotal));
    case 'finished':
      return 100;
    default:
      return 0;
  }
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Yesterday in Shanghai, 00:00:00 – 23:59:59, as `yyyy-MM-dd HH:mm:ss` (what the nightly run covers). */
export function yesterdayShanghai(nowMs: number): [string, string] {
  const shanghai = new Date(nowMs + 8 * 3_600_000 - 86_400_000);
  const day = `${shanghai.getUTCFullYear()}-${pad(shanghai.getUTCMonth() + 1)}-${pad(shanghai.getUTCDate())}`;
  return [`${day} 00:00:00`, `${day} 23:59:59`];
}

const FAILED_TRAIL = ['failed', 'dead_lettered'];

/**
 * The translation of a trail contradiction from the finding's fields (the reconciler's sentence is
 * English); undefined when only the sentence says it (a different FID linked), shown as it is.
 */
export function trailContradiction(f: {
  kind: string;
  trailStatus: string | null;
  billNumbers: readonly string[];
}): { key: 'reconcile.trailNoBill' | 'reconcile.trailHasBill'; bills: string } | undefined {
  if (f.kind !== 'trail_disagrees' || !f.trailStatus) return undefined;
  if (f.billNumbers.length === 0) return { key: 'reconcile.trailNoBill', bills: '' };
  if (FAILED_TRAIL.includes(f.trailStatus))
    return { key: 'reconcile.trailHasBill', bills: f.billNumbers.join(', ') };
  return undefined;
}
