import { MigrationInterface, QueryRunner } from 'typeorm';

/** Operator actions (who did what, when) and resync requests the extractor leader carries out. */
export class Operator1764300200000 implements MigrationInterface {
  name = 'Operator1764300200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE operator_actions (
        id bigserial PRIMARY KEY,
        token_name text NOT NULL,
        action text NOT NULL,
        target text,
        params jsonb NOT NULL DEFAULT '{}'::jsonb,
        outcome text,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX idx_operator_actions_at ON operator_actions (at)`);
    await q.query(`
      CREATE TABLE resync_requests (
        id uuid PRIMARY KEY,
        scheme_id text NOT NULL,
        order_no text NOT NULL,
        requested_by text NOT NULL,
        requested_at timestamptz NOT NULL DEFAULT now(),
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'not_found', 'failed')),
        result text,
        done_at timestamptz
      )`);
    await q.query(
      `CREATE INDEX idx_resync_requests_pending ON resync_requests (scheme_id, requested_at) WHERE state = 'pending'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS resync_requests`);
    await q.query(`DROP TABLE IF EXISTS operator_actions`);
  }
}
