import { MigrationInterface, QueryRunner } from 'typeorm';

/** Audit trail, dead letters, extractor cursors/fingerprints and loader bill claims. */
export class InitialSchema1764300000000 implements MigrationInterface {
  name = 'InitialSchema1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_orders (
        scheme_id text NOT NULL,
        source_key text NOT NULL,
        status text NOT NULL,
        stage text NOT NULL,
        reason text,
        error_class text,
        error_message text,
        error_field text,
        kingdee_id text,
        kingdee_number text,
        bill_key text,
        attempts int,
        latency_ms double precision,
        dead_letter_id uuid,
        correlation_id text NOT NULL,
        last_event_id uuid NOT NULL,
        last_occurred_at timestamptz NOT NULL,
        first_seen_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (scheme_id, source_key)
      )`);
    await q.query(`CREATE INDEX idx_audit_orders_status ON audit_orders (status, last_occurred_at)`);
    await q.query(`CREATE INDEX idx_audit_orders_time ON audit_orders (last_occurred_at)`);
    await q.query(`CREATE INDEX idx_audit_orders_source_key ON audit_orders (source_key)`);
    await q.query(`
      CREATE TABLE audit_history (
        event_id uuid PRIMARY KEY,
        scheme_id text NOT NULL,
        source_key text NOT NULL,
        stage text NOT NULL,
        status text NOT NULL,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL,
        event jsonb NOT NULL
      )`);
    await q.query(
      `CREATE INDEX idx_audit_history_order ON audit_history (scheme_id, source_key, occurred_at)`,
    );
    await q.query(`CREATE INDEX idx_audit_history_time ON audit_history (occurred_at)`);
    await q.query(`
      CREATE TABLE dead_letters (
        event_id uuid PRIMARY KEY,
        stage text NOT NULL,
        scheme_id text,
        source_key text,
        error_class text NOT NULL,
        error_message text NOT NULL,
        attempts int NOT NULL,
        origin_topic text NOT NULL,
        origin_partition int NOT NULL,
        origin_offset text NOT NULL,
        origin_key text,
        payload jsonb NOT NULL,
        state text NOT NULL DEFAULT 'parked',
        occurred_at timestamptz NOT NULL,
        repushed_at timestamptz,
        repushed_by text
      )`);
    await q.query(`CREATE INDEX idx_dead_letters_state ON dead_letters (state, occurred_at)`);
    await q.query(`CREATE INDEX idx_dead_letters_source_key ON dead_letters (source_key)`);
    await q.query(`
      CREATE TABLE dead_letter_payloads (
        id uuid PRIMARY KEY,
        size_bytes int NOT NULL,
        sha256 text NOT NULL,
        data bytea NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE sync_cursors (
        scheme_id text PRIMARY KEY,
        axis text NOT NULL,
        cursor_value text NOT NULL,
        last_run_at timestamptz,
        last_success_at timestamptz,
        last_error text,
        sweep_value text,
        paused boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE stockout_fingerprints (
        scheme_id text NOT NULL,
        order_no text NOT NULL,
        fingerprint text NOT NULL,
        modified text,
        consign_time text,
        last_emitted_at timestamptz NOT NULL,
        PRIMARY KEY (scheme_id, order_no)
      )`);
    await q.query(`
      CREATE TABLE bill_claims (
        scheme_id text NOT NULL,
        bill_key text NOT NULL,
        state text NOT NULL CHECK (state IN ('in_flight', 'loaded', 'failed')),
        owner text,
        lease_until timestamptz,
        content_hash text,
        kingdee_id text,
        kingdee_number text,
        attempts int NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (scheme_id, bill_key)
      )`);
    await q.query(`CREATE INDEX idx_bill_claims_state ON bill_claims (state)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'bill_claims',
      'stockout_fingerprints',
      'sync_cursors',
      'dead_letter_payloads',
      'dead_letters',
      'audit_history',
      'audit_orders',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
