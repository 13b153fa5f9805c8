import type { Alert } from '@libs/alerts';
import type { Finding, FindingKind } from '../reconcile.types';
import type { FindingCounts, ReconcileSummary } from './reconcile-run.types';

/** Publishes a finished run's summary (libs/kafka `KafkaReconcileSummaryPublisher` on the audit topic). */
export interface ReconcileSummaryPublisher {
  publish(summary: ReconcileSummary): Promise<void>;
}

/** Where a run's one alert goes (libs/alerts `AlertNotifier` fits). */
export interface ReconcileAlertSink {
  notify(alert: Alert): void;
}

const CLASS_LABELS: Readonly<Record<FindingKind, string>> = {
  matched: 'matched',
  missing_in_erp: 'missing in Kingdee',
  duplicated_in_erp: 'duplicated in Kingdee',
  extra_in_erp: 'extra in Kingdee',
  differs: 'differs',
  trail_disagrees: 'trail disagrees',
};

/**
 * The one alert of a finished run with any finding but `matched` (undefined when everything
 * matched): critical when Kingdee holds duplicates, else a warning, with the counts per class.
 */
export function reconcileAlert(
  run: { id: string; schemeId: string; periodFrom: string; periodTo: string },
  counts: FindingCounts,
): Alert | undefined {
  const kinds = (Object.keys(CLASS_LABELS) as FindingKind[]).filter((k) => k !== 'matched');
  if (kinds.every((k) => counts[k] === 0)) return undefined;
  const parts = (Object.keys(CLASS_LABELS) as FindingKind[]).map((k) => `${CLASS_LABELS[k]} ${counts[k]}`);
  return {
    key: `reconcile:${run.schemeId}`,
    severity: counts.duplicated_in_erp > 0 ? 'critical' : 'warning',
    title: `Reconciliation of ${run.schemeId} found discrepancies`,
    text:
      `${run.periodFrom} – ${run.periodTo}: ${parts.join(', ')}. ` +
      `Run ${run.id}: review its findings (duplicates and extras are never deleted automatically).`,
  };
}

/**
 * What a finding row stores besides the finding itself: the cause, the trail status and the bill
 * numbers a person should review (`keyBills`: every bill Kingdee holds for the key).
 */
export function findingColumns(
  finding: Finding,
  keyBills: readonly string[],
  trailStatus: string | null,
): { cause: string | null; trailStatus: string | null; billNumbers: string[] } {
  switch (finding.kind) {
    case 'missing_in_erp':
      return { cause: finding.cause, trailStatus: finding.trailStatus ?? trailStatus, billNumbers: [] };
    case 'duplicated_in_erp':
      return { cause: null, trailStatus, billNumbers: finding.bills.map((b) => b.billNo) };
    case 'extra_in_erp':
      return { cause: finding.cause, trailStatus, billNumbers: finding.bills.map((b) => b.billNo) };
    case 'differs':
      return { cause: null, trailStatus, billNumbers: [finding.bill.billNo] };
    case 'trail_disagrees':
      return { cause: null, trailStatus: finding.trailStatus, billNumbers: [...keyBills] };
    case 'matched':
      return { cause: null, trailStatus, billNumbers: [finding.bill.billNo] };
  }
}

/** Bill numbers Kingdee holds for a key, from its findings. */
export function billsOfKey(findings: readonly Finding[]): string[] {
  const out = new Set<string>();
  for (const f of findings) {
    if (f.kind === 'matched' || f.kind === 'differs') out.add(f.bill.billNo);
    if (f.kind === 'duplicated_in_erp' || f.kind === 'extra_in_erp')
      f.bills.forEach((b) => out.add(b.billNo));
  }
  return [...out];
}
