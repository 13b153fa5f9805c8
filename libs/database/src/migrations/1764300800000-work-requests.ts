import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Requests the operator writes and the workers carry out (the operator never calls WDT or Kingdee):
 * range requests (backfill by the extractor leader of the scheme; replay of the transform stage by
 * a transformer, of the load stage by a loader) and live previews of a scheme against one record.
 * A worker claims a row with `FOR UPDATE SKIP LOCKED` and holds it with a lease it renews; a row whose
 * lease ran out is claimable again.
 */
export class WorkRequests1764300800000 implements MigrationInterface {
  name = 'WorkRequests1764300800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE range_requests (
        id uuid PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('backfill', 'replay')),
        scheme_id text,
        stage text NOT NULL CHECK (stage IN ('extract', 'transform', 'load')),
        range_from timestamptz NOT NULL,
        range_to timestamptz NOT NULL,
        force boolean NOT NULL DEFAULT false,
        state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
        progress_done integer NOT NULL DEFAULT 0,
        progress_total integer,
        resume_from text,
        message text,
        cancel_requested boolean NOT NULL DEFAULT false,
        owner text,
        lease_until timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        requested_by text NOT NULL,
        requested_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz
      )`);
    // The pickup query: open rows of one stage (and scheme), oldest first.
    await q.query(
      `CREATE INDEX idx_range_requests_open ON range_requests (stage, scheme_id, requested_at) WHERE state IN ('queued', 'running')`,
    );
    await q.query(`CREATE INDEX idx_range_requests_requested ON range_requests (requested_at DESC)`);
    await q.query(`
      CREATE TABLE preview_requests (
        id uuid PRIMARY KEY,
        scheme_id text NOT NULL,
        order_no text,
        scheme_yaml text,
        state text NOT NULL CHECK (state IN ('fetching', 'mapping', 'checking', 'done', 'failed')),
        error text,
        record jsonb,
        request jsonb,
        preconditions jsonb NOT NULL DEFAULT '[]',
        codes jsonb NOT NULL DEFAULT '[]',
        refs jsonb NOT NULL DEFAULT '[]',
        owner text,
        lease_until timestamptz,
        requested_by text NOT NULL,
        requested_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX idx_preview_requests_open ON preview_requests (state, scheme_id, requested_at) WHERE state IN ('fetching', 'checking')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS preview_requests`);
    await q.query(`DROP TABLE IF EXISTS range_requests`);
  }
}
