import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The loader's write protocol (libs/loading/README.md): claim epochs (fencing tokens), write and
 * settle times, the document a claim carries, the new claim states; parked messages of stopped
 * schemes; schemes the loader stopped itself.
 */
export class WriteProtocol1764300300000 implements MigrationInterface {
  name = 'WriteProtocol1764300300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE bill_claims DROP CONSTRAINT IF EXISTS bill_claims_state_check`);
    await q.query(`UPDATE bill_claims SET state = 'writing' WHERE state = 'in_flight'`);
    await q.query(`
      ALTER TABLE bill_claims
        ADD COLUMN epoch bigint NOT NULL DEFAULT 0,
        ADD COLUMN last_write_at timestamptz,
        ADD COLUMN write_epoch bigint,
        ADD COLUMN settle_deadline timestamptz,
        ADD COLUMN next_check_at timestamptz,
        ADD COLUMN reason text,
        ADD COLUMN detail jsonb,
        ADD COLUMN document jsonb,
        ADD CONSTRAINT bill_claims_state_check CHECK (state IN
          ('writing', 'settling', 'saved_not_audited', 'loaded', 'failed', 'free', 'conflict_in_erp', 'duplicate_in_erp'))`);
    // In-flight rows of the previous protocol may have been written: settle them before anything else.
    await q.query(
      `UPDATE bill_claims SET state = 'settling', last_write_at = updated_at,
              settle_deadline = updated_at + interval '230 seconds', write_epoch = 0
        WHERE state = 'writing'`,
    );
    await q.query(
      `CREATE INDEX idx_bill_claims_lease ON bill_claims (lease_until)
        WHERE state IN ('writing', 'settling', 'saved_not_audited')`,
    );
    await q.query(`CREATE INDEX idx_bill_claims_owner ON bill_claims (owner) WHERE owner IS NOT NULL`);
    await q.query(`
      CREATE TABLE parked_messages (
        stage text NOT NULL,
        scheme_id text NOT NULL,
        message_key text NOT NULL,
        reason text NOT NULL,
        detail text,
        origin_topic text NOT NULL,
        origin_partition int NOT NULL,
        origin_offset bigint NOT NULL,
        payload bytea NOT NULL,
        parked_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        drain_owner text,
        drain_until timestamptz,
        PRIMARY KEY (stage, scheme_id, message_key)
      )`);
    await q.query(`CREATE INDEX idx_parked_messages_drain ON parked_messages (stage, scheme_id, parked_at)`);
    await q.query(`
      CREATE TABLE scheme_stops (
        scheme_id text PRIMARY KEY,
        reason text NOT NULL,
        detail jsonb,
        stopped_by text NOT NULL,
        stopped_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS scheme_stops`);
    await q.query(`DROP TABLE IF EXISTS parked_messages`);
    await q.query(`DROP INDEX IF EXISTS idx_bill_claims_owner`);
    await q.query(`DROP INDEX IF EXISTS idx_bill_claims_lease`);
    await q.query(`ALTER TABLE bill_claims DROP CONSTRAINT IF EXISTS bill_claims_state_check`);
    await q.query(
      `UPDATE bill_claims SET state = CASE WHEN state IN ('writing', 'settling', 'saved_not_audited') THEN 'in_flight'
         WHEN state IN ('loaded', 'conflict_in_erp', 'duplicate_in_erp') THEN 'loaded' ELSE 'failed' END`,
    );
    await q.query(`
      ALTER TABLE bill_claims
        DROP COLUMN epoch, DROP COLUMN last_write_at, DROP COLUMN write_epoch, DROP COLUMN settle_deadline, DROP COLUMN next_check_at,
        DROP COLUMN reason, DROP COLUMN detail, DROP COLUMN document,
        ADD CONSTRAINT bill_claims_state_check CHECK (state IN ('in_flight', 'loaded', 'failed'))`);
  }
}
