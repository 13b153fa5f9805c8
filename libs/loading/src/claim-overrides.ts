import { DataSource } from 'typeorm';
import { BillClaimEntity, queryRows } from '@libs/database';

/**
 * What an operator may decide about a bill's claim (the operator never calls Kingdee; these are
 * facts a person checked there). Each change bumps the claim's epoch, so a loader that held it can no
 * longer change it (libs/loading/README.md, fencing); a claim being written is never touched.
 */
export class ClaimOverrides {
  constructor(private readonly ds: DataSource) {}

  /** The order's bill exists in Kingdee as `number` (`kingdeeId` if known): nobody writes it again. */
  async link(
    schemeId: string,
    billKey: string,
    bill: { kingdeeId: string | null; number: string },
    note: string,
  ): Promise<{ linked: boolean; state: string | null }> {
    // Raw: a conditional upsert (DO UPDATE with epoch + 1 fencing) an operator's link applies.
    const rows = await queryRows<{ state: string }>(
      this.ds,
      `INSERT INTO bill_claims AS c (scheme_id, bill_key, state, kingdee_id, kingdee_number, reason, attempts, updated_at)
       VALUES ($1, $2, 'loaded', $3, $4, $5, 0, now())
       ON CONFLICT (scheme_id, bill_key) DO UPDATE SET state = 'loaded', owner = NULL, lease_until = NULL,
              epoch = c.epoch + 1, kingdee_id = EXCLUDED.kingdee_id, kingdee_number = EXCLUDED.kingdee_number,
              reason = EXCLUDED.reason, document = NULL, next_check_at = NULL, updated_at = now()
        WHERE c.state <> 'writing' OR c.lease_until IS NULL OR c.lease_until < now()
       RETURNING state`,
      [schemeId, billKey, bill.kingdeeId, bill.number, note],
    );
    if (rows.length > 0) return { linked: true, state: 'loaded' };
    return { linked: false, state: await this.state(schemeId, billKey) };
  }

  /**
   * No bill of this order exists in Kingdee (a person looked): the claim becomes `free`, so the next
   * document of the order is written once. Only for claims that are stuck or need a person.
   */
  async confirmAbsent(
    schemeId: string,
    billKey: string,
    note: string,
  ): Promise<{ freed: boolean; state: string | null }> {
    // Raw: resets the claim with its fencing epoch + 1 in one conditional update.
    const rows = await queryRows<{ state: string }>(
      this.ds,
      `UPDATE bill_claims c SET state = 'free', owner = NULL, lease_until = NULL, epoch = c.epoch + 1,
              kingdee_id = NULL, kingdee_number = NULL, reason = $3, write_epoch = NULL, last_write_at = NULL,
              settle_deadline = NULL, next_check_at = NULL, document = NULL, updated_at = now()
        WHERE scheme_id = $1 AND bill_key = $2
          AND state IN ('settling', 'conflict_in_erp', 'duplicate_in_erp', 'failed', 'free')
       RETURNING state`,
      [schemeId, billKey, note],
    );
    if (rows.length > 0) return { freed: true, state: 'free' };
    const state = await this.state(schemeId, billKey);
    return { freed: state === null, state };
  }

  /** Submit/Audit of a saved bill are tried again at once (the settler's next pass). */
  async retryAudit(schemeId: string, billKey: string): Promise<boolean> {
    // Raw: a conditional UPDATE … RETURNING says whether the claim was waiting for audit.
    const rows = await queryRows<{ state: string }>(
      this.ds,
      `UPDATE bill_claims SET next_check_at = now(), updated_at = now()
        WHERE scheme_id = $1 AND bill_key = $2 AND state = 'saved_not_audited' RETURNING state`,
      [schemeId, billKey],
    );
    return rows.length > 0;
  }

  async state(schemeId: string, billKey: string): Promise<string | null> {
    const row = await this.ds
      .getRepository(BillClaimEntity)
      .findOne({ select: { state: true }, where: { schemeId, billKey } });
    return row?.state ?? null;
  }
}
