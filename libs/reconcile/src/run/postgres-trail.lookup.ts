import { DataSource } from 'typeorm';
import type { BillFact, TrailLookup, TrailView } from '../reconcile.types';

const BILL_FACTS: ReadonlySet<string> = new Set(['none', 'saved', 'audited']);

/**
 * The audit trail's view of each key (`audit_orders`, latest status per order). Orders recorded
 * without a bill key (before the document stage ran) are found by their order number, which is
 * the key whenever the scheme's idempotency key is `{{order_no}}`.
 */
export class PostgresTrailLookup implements TrailLookup {
  constructor(
    private readonly ds: DataSource,
    private readonly schemeId: string,
  ) {}

  async lookup(keys: readonly string[]): Promise<ReadonlyMap<string, TrailView>> {
    const out = new Map<string, TrailView>();
    if (keys.length === 0) return out;
    const rows: Array<{
      key: string;
      status: string;
      bill_state: string | null;
      kingdee_id: string | null;
      kingdee_number: string | null;
      reason: string | null;
      // Raw: matches a batch of keys on bill_key or, without one, source_key (computed key column).
    }> = await this.ds.query(
      `SELECT COALESCE(bill_key, source_key) AS key, status, bill_state, kingdee_id, kingdee_number,
              COALESCE(reason, error_message) AS reason
         FROM audit_orders
        WHERE scheme_id = $1
          AND (bill_key = ANY($2::text[]) OR (bill_key IS NULL AND source_key = ANY($2::text[])))
        ORDER BY last_occurred_at`,
      [this.schemeId, [...keys]],
    );
    // Two orders sharing a key (should not happen): the latest event wins.
    for (const r of rows)
      out.set(r.key, {
        status: r.status,
        billState: (BILL_FACTS.has(r.bill_state ?? '') ? r.bill_state : 'none') as BillFact,
        kingdeeId: r.kingdee_id,
        kingdeeNumber: r.kingdee_number,
        reason: r.reason,
      });
    return out;
  }
}
