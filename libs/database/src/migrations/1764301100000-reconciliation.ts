import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reconciliation (apps/reconciler, `npm run reconcile`): one row per run of one scheme over one
 * period, its findings (every class but `matched`, which is counted only), and an unlogged staging
 * table the run streams both sides into so it compares them by key in bounded memory.
 *
 * Runs are requested (trigger `api`, `schedule`) and carried out by a reconciler that claims a row
 * with `FOR UPDATE SKIP LOCKED` and a lease, as range requests are. A nightly run is unique per scheme
 * and slot, so replicas of the worker never run one night twice. A finding's re-push is requested by
 * an operator (`repush_state = 'requested'`) and carried out by the reconciler, which holds the
 * Kingdee connection and looks again before anything is written.
 */
export class Reconciliation1764301100000 implements MigrationInterface {
  name = 'Reconciliation1764301100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE reconcile_runs (
        id uuid PRIMARY KEY,
        scheme_id text NOT NULL,
        period_from timestamptz NOT NULL,
        period_to timestamptz NOT NULL,
        trigger text NOT NULL CHECK (trigger IN ('schedule', 'api', 'cli')),
        schedule_slot text,
        requested_by text NOT NULL,
        state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
        phase text,
        progress jsonb NOT NULL DEFAULT '{}',
        counts jsonb,
        error text,
        cancel_requested boolean NOT NULL DEFAULT false,
        owner text,
        lease_until timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        requested_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        summary_published_at timestamptz
      )`);
    await q.query(
      `CREATE UNIQUE INDEX uq_reconcile_runs_slot ON reconcile_runs (scheme_id, schedule_slot) WHERE schedule_slot IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX idx_reconcile_runs_open ON reconcile_runs (requested_at) WHERE state IN ('queued', 'running')`,
    );
    await q.query(`CREATE INDEX idx_reconcile_runs_scheme ON reconcile_runs (scheme_id, requested_at DESC)`);
    await q.query(`
      CREATE TABLE reconcile_findings (
        run_id uuid NOT NULL REFERENCES reconcile_runs (id) ON DELETE CASCADE,
        seq integer NOT NULL,
        kind text NOT NULL CHECK (kind IN ('missing_in_erp', 'duplicated_in_erp', 'extra_in_erp', 'differs', 'trail_disagrees')),
        bill_key text NOT NULL,
        order_no text,
        cause text,
        trail_status text,
        bill_numbers text[] NOT NULL DEFAULT '{}',
        detail jsonb NOT NULL,
        repush_state text CHECK (repush_state IN ('requested', 'running', 'done', 'refused', 'failed')),
        repush_result text,
        repush_requested_by text,
        repush_requested_at timestamptz,
        repushed_at timestamptz,
        PRIMARY KEY (run_id, seq)
      )`);
    await q.query(`CREATE INDEX idx_reconcile_findings_kind ON reconcile_findings (run_id, kind, seq)`);
    await q.query(`CREATE INDEX idx_reconcile_findings_order ON reconcile_findings (order_no)`);
    await q.query(
      `CREATE INDEX idx_reconcile_findings_repush ON reconcile_findings (repush_requested_at) WHERE repush_state IN ('requested', 'running')`,
    );
    // The trail is looked up by the bill's key, a batch of keys at a time.
    await q.query(`CREATE INDEX idx_audit_orders_bill_key ON audit_orders (scheme_id, bill_key)`);
    // Unlogged: a crash loses it, and the run is re-read from scratch by the next holder anyway.
    // Byte-order collation, so the primary key serves the read-back in the merge's key order.
    await q.query(`
      CREATE UNLOGGED TABLE reconcile_staging (
        run_id uuid NOT NULL,
        side text NOT NULL CHECK (side IN ('source', 'target')),
        bill_key text COLLATE "C" NOT NULL,
        item_id text COLLATE "C" NOT NULL,
        payload jsonb NOT NULL,
        PRIMARY KEY (run_id, side, bill_key, item_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS reconcile_staging`);
    await q.query(`DROP TABLE IF EXISTS reconcile_findings`);
    await q.query(`DROP TABLE IF EXISTS reconcile_runs`);
    await q.query(`DROP INDEX IF EXISTS idx_audit_orders_bill_key`);
  }
}
