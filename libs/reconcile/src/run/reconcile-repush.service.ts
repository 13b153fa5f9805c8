import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppLogger, formatShanghai, silentLogger } from '@libs/common';
import type { KingdeeDocument } from '@libs/contracts';
import { queryRows } from '@libs/database';
import { findBillsByField, type KingdeeApi } from '@libs/kingdee-client';
import type { Scheme } from '@libs/scheme';
import { ResyncRequestStore } from '@libs/work-requests';
import { billFromRows } from '../bill-rows.util';
import { comparisonPlan } from '../comparison-plan.util';
import {
  forScheme,
  type ComparisonPlan,
  type FieldDifference,
  type Finding,
  type PerScheme,
  type QueryRow,
  type TargetBill,
} from '../reconcile.types';

export interface ReconcileRepushDeps {
  ds: DataSource;
  schemes: (id: string) => Scheme | undefined;
  kingdee: PerScheme<KingdeeApi>;
  logger?: AppLogger;
}

interface ClaimedRepush {
  runId: string;
  seq: number;
  schemeId: string;
  kind: string;
  billKey: string;
  orderNo: string | null;
  requestedBy: string;
  detail: Finding;
}

type Outcome = { state: 'done' | 'refused' | 'failed'; result: string };

/** Claims that say a bill exists (or are stuck): a look that finds none may free them. */
const FREEABLE = ['settling', 'conflict_in_erp', 'duplicate_in_erp', 'failed', 'free', 'loaded'];
const STATUS_ONLY: ReadonlySet<string> = new Set(['not_audited', 'un_audited']);

/** "F… (expected a, Kingdee b)" for a refusal. */
export function describeDifferences(differences: readonly FieldDifference[]): string {
  return differences
    .map((d) => `${d.field} (expected ${d.expected ?? 'nothing'}, Kingdee ${d.actual ?? 'nothing'})`)
    .join(', ');
}

/** Groups look-up rows (any order) into bills by FID, lines in entry-id order. */
export function billsFromRows(plan: ComparisonPlan, rows: readonly QueryRow[]): TargetBill[] {
  const byFid = new Map<string, QueryRow[]>();
  for (const r of rows) {
    const fid = String(r.FID);
    const list = byFid.get(fid) ?? [];
    list.push(r);
    byFid.set(fid, list);
  }
  const num = (v: unknown): number => Number(v ?? 0);
  return [...byFid.values()].map((list) => {
    const sorted = [...list].sort((a, b) => {
      for (const e of plan.entries) {
        const c = num(a[e.entryIdKey]) - num(b[e.entryIdKey]);
        if (c !== 0) return c;
      }
      return 0;
    });
    return billFromRows(plan, sorted);
  });
}

/**
 * Carries out re-pushes an operator requested on findings (`missing_in_erp`, `differs`). The
 * reconciler holds the Kingdee connection, so it looks again before anything happens: a bill that
 * exists now is never written again; a missing one is written once through the pipeline (claim
 * freed with a fenced epoch bump, resync requested); an un-audited one goes back to the loader's
 * Submit/Audit retry; content that differs is refused — bills are never overwritten.
 */
export class ReconcileRepushService {
  private readonly logger: AppLogger;
  private readonly resyncs = new ResyncRequestStore();

  constructor(private readonly deps: ReconcileRepushDeps) {
    this.logger = deps.logger ?? silentLogger;
  }

  /** Claims and carries out at most one requested re-push; false when none waited. */
  async runOne(owner: string, leaseMs: number, schemeIds?: readonly string[]): Promise<boolean> {
    const claimed = await this.claim(leaseMs, schemeIds);
    if (!claimed) return false;
    let outcome: Outcome;
    try {
      outcome = await this.carryOut(claimed);
    } catch (err) {
      outcome = { state: 'failed', result: `re-push failed: ${(err as Error).message}` };
    }
    // Raw: conditional on the finding still running; now() on the database clock.
    await this.deps.ds.query(
      `UPDATE reconcile_findings SET repush_state = $3, repush_result = $4, repushed_at = now()
        WHERE run_id = $1 AND seq = $2 AND repush_state = 'running'`,
      [claimed.runId, claimed.seq, outcome.state, outcome.result],
    );
    this.logger.info(
      { owner, run: claimed.runId, seq: claimed.seq, key: claimed.billKey, state: outcome.state },
      'reconcile re-push handled',
    );
    return true;
  }

  private async claim(leaseMs: number, schemeIds?: readonly string[]): Promise<ClaimedRepush | undefined> {
    const rows = await queryRows<Record<string, unknown>>(
      this.deps.ds,
      `WITH next AS (
         SELECT f.run_id, f.seq FROM reconcile_findings f JOIN reconcile_runs r ON r.id = f.run_id
          WHERE (f.repush_state = 'requested'
                 OR (f.repush_state = 'running' AND f.repush_requested_at < now() - $1 * interval '1 millisecond'))
            AND f.kind IN ('missing_in_erp', 'differs')
            AND ($2::text[] IS NULL OR r.scheme_id = ANY($2::text[]))
          ORDER BY f.repush_requested_at LIMIT 1 FOR UPDATE OF f SKIP LOCKED)
       UPDATE reconcile_findings f SET repush_state = 'running'
         FROM next, reconcile_runs r
        WHERE f.run_id = next.run_id AND f.seq = next.seq AND r.id = f.run_id
       RETURNING f.run_id::text AS run_id, f.seq, r.scheme_id, f.kind, f.bill_key, f.order_no,
                 f.repush_requested_by, f.detail`,
      [leaseMs, schemeIds ? [...schemeIds] : null],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      runId: String(r.run_id),
      seq: Number(r.seq),
      schemeId: String(r.scheme_id),
      kind: String(r.kind),
      billKey: String(r.bill_key),
      orderNo: (r.order_no as string | null) ?? null,
      requestedBy: (r.repush_requested_by as string | null) ?? 'operator',
      detail: r.detail as Finding,
    };
  }

  private async carryOut(c: ClaimedRepush): Promise<Outcome> {
    const scheme = this.deps.schemes(c.schemeId);
    if (!scheme) return { state: 'failed', result: `scheme ${c.schemeId} is not loaded by this reconciler` };
    const plan = comparisonPlan(scheme);
    const rows = await findBillsByField(forScheme(this.deps.kingdee, scheme), {
      formId: plan.formId,
      field: plan.keyQueryKey,
      values: [c.billKey],
      fieldKeys: [...plan.fieldKeys],
    });
    const bills = billsFromRows(plan, rows);
    if (bills.length === 0) return this.missing(c);
    if (c.kind === 'missing_in_erp') {
      return {
        state: 'done',
        result: `bill ${bills.map((b) => b.billNo).join(', ')} exists now; nothing written`,
      };
    }
    if (bills.length > 1) {
      return {
        state: 'refused',
        result: `Kingdee now holds ${bills.length} bills for ${c.billKey} (${bills.map((b) => b.billNo).join(', ')}); review them there, nothing written`,
      };
    }
    const bill = bills[0];
    const differences = c.detail.kind === 'differs' ? c.detail.differences : [];
    const content = differences.filter((d) => !STATUS_ONLY.has(d.kind));
    if (content.length > 0) {
      return {
        state: 'refused',
        result:
          `bill ${bill.billNo} differs in ${describeDifferences(content)}; bills are never overwritten: ` +
          'correct it in Kingdee, or delete it there and re-push the order (it is then written once)',
      };
    }
    if (plan.expectedStatus === null || bill.documentStatus === plan.expectedStatus) {
      return {
        state: 'done',
        result: `bill ${bill.billNo} is in status ${bill.documentStatus} now; nothing written`,
      };
    }
    return this.retryAudit(c, scheme, bill);
  }

  /** No bill in Kingdee now: free the claim (fenced) and have the order written once. */
  private async missing(c: ClaimedRepush): Promise<Outcome> {
    if (!c.orderNo)
      return { state: 'refused', result: `no WDT order is known for ${c.billKey}; nothing to push` };
    const orderNo = c.orderNo;
    return this.deps.ds.transaction(async (tx) => {
      const claim: Array<{ state: string; live: boolean; unsettled: boolean; deadline: Date | null }> =
        // Raw: a row lock (FOR UPDATE) with lease and settle checks on the database clock.
        await tx.query(
          `SELECT state, (lease_until IS NOT NULL AND lease_until > now()) AS live,
                  (settle_deadline IS NOT NULL AND settle_deadline > now()) AS unsettled, settle_deadline AS deadline
             FROM bill_claims WHERE scheme_id = $1 AND bill_key = $2 FOR UPDATE`,
          [c.schemeId, c.billKey],
        );
      const state = claim[0]?.state;
      // A write the loader sent may still commit in Kingdee after the look above (a reply lost, a
      // late commit): freeing the claim now could write a second bill. The loader settles it first.
      if (state !== undefined && (claim[0].unsettled || state === 'writing')) {
        const until = claim[0].deadline ? ` until ${formatShanghai(claim[0].deadline.getTime())}` : '';
        return {
          state: 'refused' as const,
          result: `a write of ${c.billKey} may still commit in Kingdee${until} (claim ${state}, the loader settles it); re-push it after that if it is still missing`,
        };
      }
      if (state !== undefined && claim[0].live && !FREEABLE.includes(state)) {
        return {
          state: 'refused' as const,
          result: `the loader is working on ${c.billKey} now (claim ${state}); re-push it later if it stays missing`,
        };
      }
      if (state !== undefined) {
        // Epoch + 1: a loader that held the claim can no longer change it (libs/loading/README.md).
        // Raw: resets the claim with its fencing epoch + 1 in one update.
        await tx.query(
          `UPDATE bill_claims c SET state = 'free', owner = NULL, lease_until = NULL, epoch = c.epoch + 1,
                  kingdee_id = NULL, kingdee_number = NULL, reason = $3, write_epoch = NULL, last_write_at = NULL,
                  settle_deadline = NULL, next_check_at = NULL, document = NULL, updated_at = now()
            WHERE scheme_id = $1 AND bill_key = $2`,
          [c.schemeId, c.billKey, `reconcile re-push by ${c.requestedBy}: no bill in Kingdee`],
        );
      }
      const resync = await this.resyncs.request(tx, c.schemeId, orderNo, c.requestedBy, 'repush');
      return {
        state: 'done' as const,
        result: `no bill in Kingdee; resync ${resync.id} requested: the order is written once`,
      };
    });
  }

  /**
   * Hands a bill whose content matches but is not audited to the loader's Submit/Audit retry: the
   * claim becomes `saved_not_audited` with the bill's id and an expired lease, so a loader's settler
   * takes it over at once and Submits and Audits it by id (never a new save).
   */
  private async retryAudit(c: ClaimedRepush, scheme: Scheme, bill: TargetBill): Promise<Outcome> {
    const orderNo = c.orderNo ?? c.billKey;
    const existing: Array<{ content_hash: string | null; state: string; live: boolean }> =
      // Raw: lease liveness computed on the database clock.
      await this.deps.ds.query(
        `SELECT content_hash, state, (lease_until IS NOT NULL AND lease_until > now()) AS live
         FROM bill_claims WHERE scheme_id = $1 AND bill_key = $2`,
        [scheme.id, c.billKey],
      );
    if (existing[0]?.state === 'writing' && existing[0].live)
      return { state: 'refused', result: `the loader is writing ${c.billKey} now; re-push it later` };
    // The settler needs a document to report the outcome on; the bill is only Submitted/Audited by id.
    const document: KingdeeDocument = {
      eventType: 'kingdee.document',
      schemaVersion: 1,
      eventId: randomUUID(),
      schemeId: scheme.id,
      sourceKey: orderNo,
      billKey: c.billKey,
      idempotencyField: scheme.target.idempotencyKey.field,
      formId: scheme.target.formId,
      correlationId: orderNo,
      sourceEventId: randomUUID(),
      sourceFingerprint: `reconcile-repush:${c.runId}`,
      contentHash: existing[0]?.content_hash ?? `reconcile-repush:${c.runId}`,
      transformedAt: new Date().toISOString(),
      model: {},
    };
    // Raw: a conditional upsert of the claim (fencing epoch + 1).
    const rows = await queryRows<unknown>(
      this.deps.ds,
      `INSERT INTO bill_claims AS c (scheme_id, bill_key, state, owner, epoch, lease_until, content_hash,
              kingdee_id, kingdee_number, reason, attempts, next_check_at, document, updated_at)
       VALUES ($1, $2, 'saved_not_audited', NULL, 1, now() - interval '1 millisecond', $6, $3, $4, $5, 0, now(), $7::jsonb, now())
       ON CONFLICT (scheme_id, bill_key) DO UPDATE SET state = 'saved_not_audited', owner = NULL,
              lease_until = now() - interval '1 millisecond', epoch = c.epoch + 1,
              kingdee_id = EXCLUDED.kingdee_id, kingdee_number = EXCLUDED.kingdee_number, reason = EXCLUDED.reason,
              next_check_at = now(), document = EXCLUDED.document, updated_at = now()
        WHERE c.state <> 'writing' OR c.lease_until IS NULL OR c.lease_until < now()
       RETURNING state`,
      [
        scheme.id,
        c.billKey,
        bill.fid,
        bill.billNo,
        `reconcile re-push by ${c.requestedBy}: bill ${bill.billNo} is ${bill.documentStatus}, Submit/Audit again`,
        document.contentHash,
        JSON.stringify(document),
      ],
    );
    if (rows.length === 0)
      return { state: 'refused', result: `the loader is writing ${c.billKey} now; re-push it later` };
    return {
      state: 'done',
      result: `bill ${bill.billNo} (status ${bill.documentStatus}) handed to the loader's Submit/Audit retry; its content was not changed`,
    };
  }
}
