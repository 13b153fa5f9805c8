import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the order page shows of each source version: the WDT record and the Kingdee document mapped
 * from it, written by the transformer in the statement that assigns the version (purged with the
 * audit trail, by first_seen_at). Order-number search: an index on upper(source_key) with
 * text_pattern_ops serves prefix searches (`q` matching the start of the number, the usual case);
 * contains-searches scan audit_orders (one narrow row per order) without pg_trgm.
 */
export class OrderSnapshots1764300700000 implements MigrationInterface {
  name = 'OrderSnapshots1764300700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE source_versions ADD COLUMN record jsonb, ADD COLUMN document jsonb`);
    await q.query(
      `CREATE INDEX idx_audit_orders_key_prefix ON audit_orders (upper(source_key) text_pattern_ops)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS idx_audit_orders_key_prefix`);
    await q.query(`ALTER TABLE source_versions DROP COLUMN IF EXISTS record, DROP COLUMN IF EXISTS document`);
  }
}
