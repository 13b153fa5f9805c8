import { DataSource } from 'typeorm';

export type ClaimState = 'in_flight' | 'loaded' | 'failed';

export interface ClaimRow {
  billKey: string;
  state: ClaimState;
  owner: string | null;
  leaseExpired: boolean;
  contentHash: string | null;
  kingdeeId: string | null;
  kingdeeNumber: string | null;
  attempts: number;
}

export interface ClaimResult {
  billKey: string;
  /** The row existed before (a previous attempt: its outcome may be unknown → look up first). */
  hadPrevious: boolean;
}

/**
 * Per-bill claims in Postgres: the guarantee behind "at most one bill per source order" across
 * replicas, rebalances and crashes. A claim is taken before the write to Kingdee and settled
 * (loaded / failed) after it; an in-flight claim whose lease expired means the outcome is unknown.
 */
export interface ClaimStore {
  read(schemeId: string, billKeys: string[]): Promise<Map<string, ClaimRow>>;
  /** Atomically claims the keys that are free, failed, or in flight with an expired lease. */
  claim(
    schemeId: string,
    owner: string,
    leaseMs: number,
    items: Array<{ billKey: string; contentHash: string }>,
  ): Promise<ClaimResult[]>;
  settleLoaded(
    schemeId: string,
    owner: string,
    items: Array<{
      billKey: string;
      kingdeeId: string | null;
      kingdeeNumber: string | null;
      contentHash: string;
    }>,
  ): Promise<void>;
  settleFailed(schemeId: string, owner: string, billKeys: string[]): Promise<void>;
  /** Gives a claim back without an outcome (nothing was written: safe to retry at once). */
  release(schemeId: string, owner: string, billKeys: string[]): Promise<void>;
}

export class PostgresClaimStore implements ClaimStore {
  constructor(private readonly ds: DataSource) {}

  async read(schemeId: string, billKeys: string[]): Promise<Map<string, ClaimRow>> {
    if (billKeys.length === 0) return new Map();
    const rows: Array<Record<string, unknown>> = await this.ds.query(
      `SELECT bill_key, state, owner, (lease_until IS NULL OR lease_until < now()) AS lease_expired, content_hash,
              kingdee_id, kingdee_number, attempts
         FROM bill_claims WHERE scheme_id = $1 AND bill_key = ANY($2::text[])`,
      [schemeId, billKeys],
    );
    return new Map(
      rows.map((r) => [
        String(r.bill_key),
        {
          billKey: String(r.bill_key),
          state: r.state as ClaimState,
          owner: (r.owner as string) ?? null,
          leaseExpired: Boolean(r.lease_expired),
          contentHash: (r.content_hash as string) ?? null,
          kingdeeId: (r.kingdee_id as string) ?? null,
          kingdeeNumber: (r.kingdee_number as string) ?? null,
          attempts: Number(r.attempts),
        },
      ]),
    );
  }

  async claim(
    schemeId: string,
    owner: string,
    leaseMs: number,
    items: Array<{ billKey: string; contentHash: string }>,
  ): Promise<ClaimResult[]> {
    if (items.length === 0) return [];
    // attempts counts claims of the row: 1 means this statement inserted it (no earlier attempt),
    // more means an earlier attempt existed whose outcome may be unknown.
    const rows: Array<{ bill_key: string; attempts: number }> = await this.ds.query(
      `INSERT INTO bill_claims AS c (scheme_id, bill_key, state, owner, lease_until, content_hash, attempts, updated_at)
       SELECT $1, i.bill_key, 'in_flight', $4, now() + ($5 || ' milliseconds')::interval, i.content_hash, 1, now()
         FROM unnest($2::text[], $3::text[]) AS i(bill_key, content_hash)
       ON CONFLICT (scheme_id, bill_key) DO UPDATE SET state = 'in_flight', owner = EXCLUDED.owner,
         lease_until = EXCLUDED.lease_until, content_hash = EXCLUDED.content_hash, attempts = c.attempts + 1, updated_at = now()
       WHERE c.state = 'failed' OR (c.state = 'in_flight' AND (c.lease_until < now() OR c.owner = EXCLUDED.owner))
       RETURNING c.bill_key, c.attempts`,
      [schemeId, items.map((i) => i.billKey), items.map((i) => i.contentHash), owner, String(leaseMs)],
    );
    return rows.map((r) => ({ billKey: r.bill_key, hadPrevious: Number(r.attempts) > 1 }));
  }

  async settleLoaded(
    schemeId: string,
    owner: string,
    items: Array<{
      billKey: string;
      kingdeeId: string | null;
      kingdeeNumber: string | null;
      contentHash: string;
    }>,
  ): Promise<void> {
    if (items.length === 0) return;
    await this.ds.query(
      `UPDATE bill_claims c SET state = 'loaded', owner = NULL, lease_until = NULL, kingdee_id = u.kingdee_id,
              kingdee_number = u.kingdee_number, content_hash = u.content_hash, updated_at = now()
         FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) AS u(bill_key, kingdee_id, kingdee_number, content_hash)
        WHERE c.scheme_id = $1 AND c.bill_key = u.bill_key AND (c.owner = $2 OR c.state <> 'loaded')`,
      [
        schemeId,
        owner,
        items.map((i) => i.billKey),
        items.map((i) => i.kingdeeId),
        items.map((i) => i.kingdeeNumber),
        items.map((i) => i.contentHash),
      ],
    );
  }

  async settleFailed(schemeId: string, owner: string, billKeys: string[]): Promise<void> {
    if (billKeys.length === 0) return;
    await this.ds.query(
      `UPDATE bill_claims SET state = 'failed', owner = NULL, lease_until = NULL, updated_at = now()
        WHERE scheme_id = $1 AND bill_key = ANY($3::text[]) AND owner = $2 AND state = 'in_flight'`,
      [schemeId, owner, billKeys],
    );
  }

  async release(schemeId: string, owner: string, billKeys: string[]): Promise<void> {
    if (billKeys.length === 0) return;
    // Back to "failed" (free to claim) rather than deleted: the row remembers an attempt was made.
    await this.settleFailed(schemeId, owner, billKeys);
  }
}
