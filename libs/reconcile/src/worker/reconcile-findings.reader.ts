import { DataSource } from 'typeorm';
import { ReconcileFindingEntity } from '@libs/database';
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
  const rows = await ds.getRepository(ReconcileFindingEntity).find({
    select: {
      seq: true,
      kind: true,
      billKey: true,
      orderNo: true,
      cause: true,
      trailStatus: true,
      billNumbers: true,
    },
    where: { runId },
    order: { seq: 'ASC' },
    take: limit,
  });
  return rows.map((r) => ({
    seq: r.seq,
    kind: r.kind as FindingLine['kind'],
    billKey: r.billKey,
    orderNo: r.orderNo,
    cause: r.cause,
    trailStatus: r.trailStatus,
    billNumbers: r.billNumbers ?? [],
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
