import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The target.idempotencyKey each scheme's bill claims were made under. A running service refuses a
 * key change on a scheme with claims by comparing with the version it holds in memory, but a process
 * that starts (a restart, a new replica) holds none: without this record it would take the changed
 * key from the file and could write a second bill for an order already loaded.
 */
export class SchemeKeys1764301050000 implements MigrationInterface {
  name = 'SchemeKeys1764301050000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE scheme_keys (
        scheme_id text PRIMARY KEY,
        field text NOT NULL,
        source text NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS scheme_keys`);
  }
}
