import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { formatShanghai, parseShanghai } from '@libs/common';
import { queryRows, ReconcileRunEntity } from '@libs/database';
import type { Finding, FindingKind } from '../reconcile.types';
import type {
  FindingCounts,
  ReconcilePhase,
  ReconcileProgress,
  ReconcileRunState,
  ReconcileRunView,
  ReconcileTrigger,
} from './reconcile-run.types';

/** One `reconcile_findings` row to insert (`seq` 1.. in key order within the run). */
export interface FindingRow {
  seq: number;
  finding: Exclude<Finding, { kind: 'matched' }>;
  cause: string | null;
  trailStatus: string | null;
  billNumbers: string[];
}

/** Rows per INSERT (9 parameters each, well under Postgres' 65 535). */
const INSERT_BATCH = 500;

const RUN_COLUMNS = `id::text AS id, scheme_id, period_from, period_to, trigger, schedule_slot, requested_by, state,
  phase, progress, counts, error, requested_at, started_at, finished_at`;

type RunRow = Record<string, unknown>;

function iso(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return (v instanceof Date ? v : new Date(String(v))).toISOString();
}

function wallClock(v: unknown): string {
  return formatShanghai((v instanceof Date ? v : new Date(String(v))).getTime());
}

function toView(r: RunRow): ReconcileRunView {
  return {
    id: String(r.id),
    schemeId: String(r.scheme_id),
    periodFrom: wallClock(r.period_from),
    periodTo: wallClock(r.period_to),
    trigger: r.trigger as ReconcileTrigger,
    scheduleSlot: (r.schedule_slot as string | null) ?? null,
    requestedBy: String(r.requested_by),
    state: r.state as ReconcileRunState,
    phase: (r.phase as ReconcilePhase | null) ?? null,
    progress: (r.progress as Partial<ReconcileProgress>) ?? {},
    counts: (r.counts as FindingCounts | null) ?? null,
    error: (r.error as string | null) ?? null,
    requestedAt: iso(r.requested_at) as string,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
  };
}

function periodInstant(text: string, name: string): Date {
  const ms = parseShanghai(text);
  if (ms === undefined)
    throw new Error(`${name} must be Shanghai wall clock "yyyy-MM-dd HH:mm:ss", got ${JSON.stringify(text)}`);
  return new Date(ms);
}

/**
 * `reconcile_runs` and `reconcile_findings`. Runs are claimed with a lease like range requests; every
 * write after the claim is conditional on the owner, so a holder that lost its lease (taken over by
 * another reconciler) can no longer change the run.
 */
export class ReconcileRunStore {
  constructor(private readonly ds: DataSource) {}

  /**
   * Requests a run (state `queued`), or with `owner` starts one already held by that owner (the CLI).
   * Undefined when the schedule slot is taken (another replica requested that night's run).
   */
  async create(r: {
    schemeId: string;
    from: string;
    to: string;
    trigger: ReconcileTrigger;
    requestedBy: string;
    scheduleSlot?: string;
    owner?: string;
    /** With `owner`: the first lease (default 60 s). */
    leaseMs?: number;
  }): Promise<string | undefined> {
    const from = periodInstant(r.from, 'from');
    const to = periodInstant(r.to, 'to');
    if (to.getTime() < from.getTime()) throw new Error('the period ends before it starts');
    const id = randomUUID();
    const owned = r.owner !== undefined;
    // Raw: CASE on whether the run starts owned (lease on the database clock) in the insert.
    const rows = await queryRows<{ id: string }>(
      this.ds,
      `INSERT INTO reconcile_runs (id, scheme_id, period_from, period_to, trigger, schedule_slot, requested_by,
              state, owner, lease_until, attempts, started_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
               CASE WHEN $9::text IS NULL THEN NULL ELSE now() + $10 * interval '1 millisecond' END,
               CASE WHEN $9::text IS NULL THEN 0 ELSE 1 END,
               CASE WHEN $9::text IS NULL THEN NULL ELSE now() END)
       ON CONFLICT DO NOTHING
       RETURNING id::text AS id`,
      [
        id,
        r.schemeId,
        from,
        to,
        r.trigger,
        r.scheduleSlot ?? null,
        r.requestedBy,
        owned ? 'running' : 'queued',
        r.owner ?? null,
        r.leaseMs ?? 60_000,
      ],
    );
    return rows[0]?.id;
  }

  /**
   * Claims the oldest queued run (or a running one whose lease expired: its holder died) for
   * `owner`. Cancelled-before-start runs end `cancelled` here instead of being carried out.
   */
  async claim(owner: string, leaseMs: number, schemeIds?: readonly string[]): Promise<string | undefined> {
    // Raw: a claim with FOR UPDATE SKIP LOCKED (replicas take disjoint runs).
    const rows = await queryRows<{ id: string }>(
      this.ds,
      `WITH next AS (
         SELECT id FROM reconcile_runs
          WHERE (state = 'queued' OR (state = 'running' AND lease_until < now()))
            AND ($3::text[] IS NULL OR scheme_id = ANY($3::text[]))
          ORDER BY requested_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
       UPDATE reconcile_runs r SET state = 'running', owner = $1,
              lease_until = now() + $2 * interval '1 millisecond', attempts = r.attempts + 1,
              started_at = COALESCE(r.started_at, now())
         FROM next WHERE r.id = next.id
       RETURNING r.id::text AS id`,
      [owner, leaseMs, schemeIds ? [...schemeIds] : null],
    );
    return rows[0]?.id;
  }

  async renew(
    id: string,
    owner: string,
    leaseMs: number,
  ): Promise<{ held: boolean; cancelRequested: boolean }> {
    // Raw: lease renewal on the database clock, returning the cancel flag.
    const rows = await queryRows<{ cancel_requested: boolean }>(
      this.ds,
      `UPDATE reconcile_runs SET lease_until = now() + $3 * interval '1 millisecond'
        WHERE id = $1 AND owner = $2 AND state = 'running'
       RETURNING cancel_requested`,
      [id, owner, leaseMs],
    );
    return { held: rows.length > 0, cancelRequested: rows[0]?.cancel_requested === true };
  }

  async get(id: string): Promise<ReconcileRunView | undefined> {
    // Raw: RUN_COLUMNS is the API's shape shared with the operator.
    const rows: RunRow[] = await this.ds.query(`SELECT ${RUN_COLUMNS} FROM reconcile_runs WHERE id = $1`, [
      id,
    ]);
    return rows[0] ? toView(rows[0]) : undefined;
  }

  /** Writes partial progress (and `phase`); false when `owner` no longer holds the run. */
  async progress(id: string, owner: string, progress: ReconcileProgress): Promise<boolean> {
    // Raw: conditional on the owner (fencing), RETURNING whether it still owns the run.
    const rows = await queryRows<unknown>(
      this.ds,
      `UPDATE reconcile_runs SET progress = $3::jsonb, phase = $4
        WHERE id = $1 AND owner = $2 AND state = 'running' RETURNING id`,
      [id, owner, JSON.stringify(progress), progress.phase],
    );
    return rows.length > 0;
  }

  /** Ends a run held by `owner`; false when it no longer holds it (nothing written). */
  async finish(
    id: string,
    owner: string,
    end: {
      state: 'done' | 'failed' | 'cancelled';
      counts: FindingCounts | null;
      error: string | null;
      progress?: ReconcileProgress;
    },
  ): Promise<boolean> {
    // Raw: conditional on the owner, COALESCE of jsonb fields in one update.
    const rows = await queryRows<unknown>(
      this.ds,
      `UPDATE reconcile_runs SET state = $3, counts = $4::jsonb, error = $5, finished_at = now(),
              lease_until = NULL, progress = COALESCE($6::jsonb, progress),
              phase = COALESCE($6::jsonb ->> 'phase', phase)
        WHERE id = $1 AND owner = $2 AND state = 'running' RETURNING id`,
      [
        id,
        owner,
        end.state,
        end.counts ? JSON.stringify(end.counts) : null,
        end.error,
        end.progress ? JSON.stringify(end.progress) : null,
      ],
    );
    return rows.length > 0;
  }

  /**
   * Drops findings a previous holder of the run wrote (a run taken over starts again from scratch),
   * as long as `owner` holds it.
   */
  async clearFindings(runId: string, owner: string): Promise<void> {
    // Raw: DELETE … USING reconcile_runs: only while this owner runs it.
    await this.ds.query(
      `DELETE FROM reconcile_findings f USING reconcile_runs r
        WHERE f.run_id = $1 AND r.id = f.run_id AND r.owner = $2 AND r.state = 'running'`,
      [runId, owner],
    );
  }

  /** Inserts findings in batches; only while `owner` holds the run. Returns the rows written. */
  async insertFindings(runId: string, owner: string, rows: readonly FindingRow[]): Promise<number> {
    let written = 0;
    for (let i = 0; i < rows.length; i += INSERT_BATCH) {
      const batch = rows.slice(i, i + INSERT_BATCH);
      // Raw: INSERT … SELECT FROM jsonb_to_recordset: the whole findings batch in one statement.
      const inserted = await queryRows<unknown>(
        this.ds,
        `INSERT INTO reconcile_findings (run_id, seq, kind, bill_key, order_no, cause, trail_status, bill_numbers, detail)
         SELECT $1::uuid, f.seq, f.kind, f.bill_key, f.order_no, f.cause, f.trail_status,
                ARRAY(SELECT jsonb_array_elements_text(f.bill_numbers)), f.detail
           FROM jsonb_to_recordset($3::jsonb) AS f(seq int, kind text, bill_key text, order_no text, cause text,
                trail_status text, bill_numbers jsonb, detail jsonb)
          WHERE EXISTS (SELECT 1 FROM reconcile_runs WHERE id = $1 AND owner = $2 AND state = 'running')
         RETURNING seq`,
        [
          runId,
          owner,
          JSON.stringify(
            batch.map((r) => ({
              seq: r.seq,
              kind: r.finding.kind,
              bill_key: r.finding.key,
              order_no: r.finding.orderNo,
              cause: r.cause,
              trail_status: r.trailStatus,
              bill_numbers: r.billNumbers,
              detail: r.finding,
            })),
          ),
        ],
      );
      if (inserted.length < batch.length) throw new LeaseLostError(runId);
      written += inserted.length;
    }
    return written;
  }

  async markSummaryPublished(id: string): Promise<void> {
    await this.ds.getRepository(ReconcileRunEntity).update({ id }, { summaryPublishedAt: () => 'now()' });
  }

  /** Findings of a run in key order (tests, exports). */
  async findings(runId: string, kind?: FindingKind): Promise<StoredFinding[]> {
    // Raw: an optional kind filter in one read, in the export's shape.
    const rows: Array<Record<string, unknown>> = await this.ds.query(
      `SELECT seq, kind, bill_key, order_no, cause, trail_status, bill_numbers, detail, repush_state, repush_result
         FROM reconcile_findings WHERE run_id = $1 AND ($2::text IS NULL OR kind = $2) ORDER BY seq`,
      [runId, kind ?? null],
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      kind: r.kind as FindingKind,
      billKey: String(r.bill_key),
      orderNo: (r.order_no as string | null) ?? null,
      cause: (r.cause as string | null) ?? null,
      trailStatus: (r.trail_status as string | null) ?? null,
      billNumbers: (r.bill_numbers as string[]) ?? [],
      detail: r.detail as Finding,
      repushState: (r.repush_state as string | null) ?? null,
      repushResult: (r.repush_result as string | null) ?? null,
    }));
  }
}

export interface StoredFinding {
  seq: number;
  kind: FindingKind;
  billKey: string;
  orderNo: string | null;
  cause: string | null;
  trailStatus: string | null;
  billNumbers: string[];
  detail: Finding;
  repushState: string | null;
  repushResult: string | null;
}

/** The run is no longer held by this owner (lease expired and taken over, or ended elsewhere). */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  constructor(readonly runId: string) {
    super(`reconcile run ${runId} is no longer held by this reconciler`);
  }
}
