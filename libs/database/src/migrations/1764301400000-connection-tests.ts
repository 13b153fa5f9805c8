import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Connection tests operators request through the API (`POST /api/connections/{kind}/{name}/test`).
 * The operator holds no secrets: it queues a row, a service holding the kind's secrets (extractor:
 * WDT, loader: Kingdee) claims it with a lease, runs the test and writes the answer.
 */
export class ConnectionTests1764301400000 implements MigrationInterface {
  name = 'ConnectionTests1764301400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE connection_tests (
        id uuid PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('wdt', 'kingdee')),
        name text NOT NULL,
        requested_by text NOT NULL,
        state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done')),
        owner text,
        lease_until timestamptz,
        ok boolean,
        ms integer,
        error_kind text,
        error text,
        requested_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    await q.query(
      `CREATE INDEX connection_tests_open ON connection_tests (kind, requested_at) WHERE state <> 'done'`,
    );
    await q.query(`CREATE INDEX connection_tests_latest ON connection_tests (kind, name, finished_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS connection_tests`);
  }
}
