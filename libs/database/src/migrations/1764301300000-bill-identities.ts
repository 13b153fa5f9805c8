import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Identity across shops (connections). An order number is unique only within one WDT seller, and
 * several schemes may write to one Kingdee account: a bill key (the idempotency value, e.g. FBillNo)
 * belongs to exactly one scheme per (account, form). The loader registers each key before it claims
 * it; a key another scheme holds is never written (the order fails `identity_collision`).
 * scheme_keys also records the seller and account a scheme's state was made with: a scheme with
 * state never changes either (a new shop or account is a new scheme).
 */
export class BillIdentities1764301300000 implements MigrationInterface {
  name = 'BillIdentities1764301300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE bill_identities (
        target_account text NOT NULL,
        form_id text NOT NULL,
        bill_key text NOT NULL,
        scheme_id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (target_account, form_id, bill_key)
      )`);
    await q.query(`CREATE INDEX idx_bill_identities_scheme ON bill_identities (scheme_id)`);
    await q.query(`ALTER TABLE scheme_keys ADD COLUMN source_sid text, ADD COLUMN target_account text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE scheme_keys DROP COLUMN IF EXISTS source_sid, DROP COLUMN IF EXISTS target_account`,
    );
    await q.query(`DROP TABLE IF EXISTS bill_identities`);
  }
}
