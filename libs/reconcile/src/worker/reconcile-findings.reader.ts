import { DataSource } from 'typeorm';
import type { FindingKind } from '../reconcile.types';

/** A stored finding as a person reads it in a summary (no personal data: keys and bill numbers). */
export interface FindingLine {
  seq: number;
  kind: Exclude<FindingKind, 'matched'>;
  billKey: string;
  orderNo: string | null;
  cause: string | null;
  trailStatus: string | null;
  billNumbers: string[];
}

/** The first `limit` findings of a run in key order (reconcile_findings.seq). */
export async function firstFindings(ds: DataSource, runId: string, limit: number): Promise<FindingLine[]> {
  const rows: Array<{
    seq: number;
    kind: FindingLine['kind'];
    bill_key: string;
    order_no: string | null;
    cause: string | null;
    trail_status: string | null;
    bill_numbers: string[];
  }> = await ds.query(
    `SELECT seq, kind, bill_key, order_no, cause, trail_status, bill_numbers
     FROM reconcile_findings WHERE run_id = $1 ORDER BY seq LIMIT $2`,
    [runId, limit],
  );
  return rows.map((r) => ({
    seq: r.seq,
    kind: r.kind,
    billKey: r.bill_key,
    orderNo: r.order_no,
    cause: r.cause,
    trailStatus: r.trail_status,
    billNumbers: r.bill_numbers ?? [],
  }));
}

/** `missing_in_erp  key RT001 (order RT001) bills — cause: failed`. */
export function describeFinding(f: FindingLine): string {
  const bills = f.billNumbers.length > 0 ? ` bills ${f.billNumbers.join(', ')}` : '';
  const order = f.orderNo && f.orderNo !== f.billKey ? ` (order ${f.orderNo})` : '';
  const cause = f.cause ? `, cause ${f.cause}` : '';
  const trail = f.trailStatus ? `, trail ${f.trailStatus}` : '';
  return `${f.kind.padEnd(18)} ${f.billKey}${order}${bills}${cause}${trail}`;
}
