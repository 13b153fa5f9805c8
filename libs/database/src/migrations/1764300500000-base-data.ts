import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Orders waiting for base data in Kingdee (libs/loading/src/base-data): which code each waits for and
 * what holds for it, and operators' requests for a check now (the loader carries them out).
 */
export class BaseData1764300500000 implements MigrationInterface {
  name = 'BaseData1764300500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE base_data_waits (
        scheme_id text NOT NULL,
        bill_key text NOT NULL,
        source_key text NOT NULL,
        form_id text NOT NULL,
        noun text NOT NULL,
        field text NOT NULL,
        code text NOT NULL,
        org text NOT NULL DEFAULT '',
        problem text NOT NULL CHECK (problem IN ('missing', 'not_allocated', 'forbidden', 'not_audited')),
        diagnosis text NOT NULL,
        kingdee_message text,
        since timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scheme_id, bill_key, form_id, code, org)
      )`);
    await q.query(`CREATE INDEX idx_base_data_waits_code ON base_data_waits (form_id, upper(code))`);
    await q.query(`
      CREATE TABLE base_data_check_requests (
        id uuid PRIMARY KEY,
        requested_by text NOT NULL,
        requested_at timestamptz NOT NULL DEFAULT now(),
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done')),
        picked_by text,
        picked_at timestamptz,
        done_at timestamptz,
        result jsonb
      )`);
    await q.query(
      `CREATE INDEX idx_base_data_check_requests_open ON base_data_check_requests (requested_at) WHERE state <> 'done'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS base_data_check_requests`);
    await q.query(`DROP TABLE IF EXISTS base_data_waits`);
  }
}
