import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail as two facts per order (libs/audit/README.md): `bill_*` (what Kingdee holds) and
 * the latest source version's outcome (`status`, ordered by `latest_version`); every attempt's
 * request and reply (Postgres only); the order of source versions; closing of orders and dead
 * letters; what a resync or re-push request came to.
 */
export class AuditTrail1764300400000 implements MigrationInterface {
  name = 'AuditTrail1764300400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE audit_orders
        ADD COLUMN bill_state text NOT NULL DEFAULT 'none' CHECK (bill_state IN ('none', 'saved', 'audited')),
        ADD COLUMN bill_at timestamptz,
        ADD COLUMN bill_source text,
        ADD COLUMN latest_version text,
        ADD COLUMN closed_by text,
        ADD COLUMN closed_reason text,
        ADD COLUMN attempt_id uuid`);
    // Orders recorded before this migration: the bill they hold follows from their status.
    await q.query(`
      UPDATE audit_orders SET bill_state = CASE WHEN status = 'saved_not_audited' THEN 'saved' ELSE 'audited' END,
             bill_at = last_occurred_at, bill_source = 'kingdee'
       WHERE kingdee_id IS NOT NULL
          OR status IN ('loaded', 'changed_after_load', 'duplicate', 'saved_not_audited')`);
    await q.query(`CREATE INDEX idx_audit_orders_bill ON audit_orders (bill_state, last_occurred_at)`);
    await q.query(`ALTER TABLE audit_history ADD COLUMN attempt_id uuid, ADD COLUMN source_version text`);
    await q.query(`
      CREATE TABLE audit_attempts (
        attempt_id uuid NOT NULL,
        scheme_id text NOT NULL,
        source_key text NOT NULL,
        bill_key text NOT NULL,
        operation text NOT NULL,
        outcome text NOT NULL,
        request jsonb,
        reply jsonb,
        request_bytes int NOT NULL DEFAULT 0,
        reply_bytes int NOT NULL DEFAULT 0,
        at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (attempt_id, scheme_id, source_key)
      )`);
    await q.query(`CREATE INDEX idx_audit_attempts_order ON audit_attempts (scheme_id, source_key, at)`);
    await q.query(`CREATE INDEX idx_audit_attempts_at ON audit_attempts (at)`);
    await q.query(`
      CREATE TABLE source_versions (
        scheme_id text NOT NULL,
        source_key text NOT NULL,
        fingerprint text NOT NULL,
        modified text NOT NULL,
        first_offset bigint NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scheme_id, source_key, fingerprint)
      )`);
    await q.query(`CREATE INDEX idx_source_versions_seen ON source_versions (first_seen_at)`);
    await q.query(`
      ALTER TABLE dead_letters
        ADD COLUMN closed_at timestamptz,
        ADD COLUMN closed_by text,
        ADD COLUMN closed_reason text,
        ADD COLUMN source_version text`);
    await q.query(`
      ALTER TABLE resync_requests
        ADD COLUMN trigger text NOT NULL DEFAULT 'resync',
        ADD COLUMN source_key text`);
    await q.query(`CREATE INDEX idx_operator_actions_target ON operator_actions (target, at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS idx_operator_actions_target`);
    await q.query(
      `ALTER TABLE resync_requests DROP COLUMN IF EXISTS trigger, DROP COLUMN IF EXISTS source_key`,
    );
    await q.query(
      `ALTER TABLE dead_letters DROP COLUMN IF EXISTS closed_at, DROP COLUMN IF EXISTS closed_by, DROP COLUMN IF EXISTS closed_reason, DROP COLUMN IF EXISTS source_version`,
    );
    await q.query(`DROP TABLE IF EXISTS source_versions`);
    await q.query(`DROP TABLE IF EXISTS audit_attempts`);
    await q.query(
      `ALTER TABLE audit_history DROP COLUMN IF EXISTS attempt_id, DROP COLUMN IF EXISTS source_version`,
    );
    await q.query(`DROP INDEX IF EXISTS idx_audit_orders_bill`);
    for (const c of [
      'bill_state',
      'bill_at',
      'bill_source',
      'latest_version',
      'closed_by',
      'closed_reason',
      'attempt_id',
    ])
      await q.query(`ALTER TABLE audit_orders DROP COLUMN IF EXISTS ${c}`);
  }
}
