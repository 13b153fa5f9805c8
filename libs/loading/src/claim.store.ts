import { DataSource } from 'typeorm';
import { queryRows } from '@libs/database';
import { KingdeeDocument } from '@libs/contracts';

/** Claim states of the write protocol (libs/loading/README.md). */
export const CLAIM_STATES = [
  'writing',
  'settling',
  'saved_not_audited',
  'loaded',
  'failed',
  'free',
  'conflict_in_erp',
  'duplicate_in_erp',
] as const;
export type ClaimState = (typeof CLAIM_STATES)[number];

/** States whose row has an owner and a lease (the others are outcomes). */
export const HELD_STATES: readonly ClaimState[] = ['writing', 'settling', 'saved_not_audited'];
/** Outcomes after which nobody writes the bill again. */
export const FINAL_STATES: readonly ClaimState[] = ['loaded', 'conflict_in_erp', 'duplicate_in_erp'];

/** A claim this process holds: every change of it is conditional on owner and epoch. */
export interface HeldClaim {
  schemeId: string;
  billKey: string;
  epoch: string;
}

/** What the consumer path needs to know of a claim before claiming. */
export interface ClaimSummary {
  billKey: string;
  state: ClaimState;
  /** Held by a live lease (of any owner). */
  live: boolean;
  contentHash: string | null;
  kingdeeId: string | null;
  kingdeeNumber: string | null;
  reason: string | null;
  /** The claim carries its document (settling, saved-not-audited): whoever settles it can write it. */
  hasDocument: boolean;
}

/** A held claim as the settler works on it. */
export interface SettlingClaim extends HeldClaim {
  state: 'writing' | 'settling' | 'saved_not_audited';
  /** A look-up started now counts as made after the settle deadline (Postgres clock). */
  deadlinePassed: boolean;
  settleDeadline: Date | null;
  document: KingdeeDocument | null;
  kingdeeId: string | null;
  kingdeeNumber: string | null;
  attempts: number;
  reason: string | null;
}

/** One state change of a held claim. */
export interface ClaimTransition {
  claim: HeldClaim;
  state: ClaimState;
  kingdeeId?: string | null;
  kingdeeNumber?: string | null;
  contentHash?: string;
  reason?: string | null;
  detail?: Record<string, unknown> | null;
  /** settling / saved_not_audited: when to look again (ms from now; default at once). */
  recheckInMs?: number;
  /** settling: the window after the last write before "not written" may be concluded. */
  settleWindowMs?: number;
  /** Stored with the claim so whoever settles it can write it (settling, saved_not_audited, …). */
  document?: KingdeeDocument;
}

/**
 * Per-bill claims in Postgres. Each method is one statement; every change of a held claim is
 * conditional on (owner, epoch), so a replica that lost a claim can no longer change it.
 */
export interface ClaimStore {
  read(schemeId: string, billKeys: string[]): Promise<Map<string, ClaimSummary>>;
  /**
   * Registers `billKeys` as the bills of `schemeId` in (account, form) where no scheme holds them yet,
   * and returns those another scheme holds, with that scheme: they must not be written (an order
   * number is unique only within one seller; two shops' keys meeting in one account are two orders).
   */
  registerIdentities?(
    schemeId: string,
    account: string,
    formId: string,
    billKeys: string[],
  ): Promise<Map<string, string>>;
  /** Registers the keys of a scheme's existing claims (claims made before identities were kept). */
  registerExistingIdentities?(schemeId: string, account: string, formId: string): Promise<number>;
  /**
   * Claims keys that are absent, `free` or `failed` for `owner` (state `writing`, epoch + 1, lease).
   * The document is not stored: while `writing`, its Kafka message is not yet committed (or its
   * parked row not yet removed), so it comes back if this owner dies. Keys held by anyone,
   * unresolved or final are not claimed.
   */
  claim(owner: string, leaseMs: number, docs: KingdeeDocument[], fence?: PreFence): Promise<HeldClaim[]>;
  /**
   * The fence before a write: sets `last_write_at = now() + horizonMs` (the write must be sent
   * within the horizon) and renews the lease of claims still `writing` under this owner and epoch
   * with a live lease. Returns the fenced ones.
   */
  fence(owner: string, leaseMs: number, claims: HeldClaim[], horizonMs?: number): Promise<HeldClaim[]>;
  /**
   * Applies transitions (conditional on owner and epoch); returns the keys that changed. A claim
   * going (back) to `writing` gets a fresh lease of `leaseMs`.
   */
  transition(owner: string, changes: ClaimTransition[], leaseMs?: number): Promise<Set<string>>;
  /**
   * Gives claims back. Where this epoch wrote (and `notApplied` does not say every write of it
   * applied nothing) the claim becomes `settling` with the deadline from its last write, so a release
   * never hides a write. Otherwise `free` — or, with `keepDocument` (the claim row is the only copy
   * of the document), `settling` with a deadline of now, so the settler finishes it.
   */
  release(
    owner: string,
    claims: HeldClaim[],
    settleWindowMs: (schemeId: string) => number,
    mode?: ReleaseMode,
  ): Promise<void>;
  /** Renews every held claim of `owner`; returns the `writing` ones still held. */
  renew(owner: string, leaseMs: number): Promise<HeldClaim[]>;
  /**
   * Takes over claims of the given schemes whose lease expired: they become this owner's, epoch + 1,
   * and `writing` ones become `settling` (deadline from their last write, or now if that epoch never
   * wrote): whoever takes over settles before writing.
   */
  takeOver(
    owner: string,
    leaseMs: number,
    schemes: Array<{ schemeId: string; settleWindowMs: number }>,
    limit: number,
  ): Promise<HeldClaim[]>;
  /** This owner's settling / saved-not-audited claims due for a look. */
  due(owner: string, limit: number): Promise<SettlingClaim[]>;
  /** Ends the leases of everything `owner` holds (shutdown: the next loader settles at once). */
  endLeases(owner: string): Promise<number>;
  /** Whether a loaded bill of the scheme kept the number it was sent with (no numbering rule). */
  numbersKept(schemeId: string): Promise<boolean>;
}

const KEY = (schemeId: string, billKey: string) => `${schemeId}\u0000${billKey}`;
/** Fences the first `count` documents of a claim in the same statement (their write follows at once). */
export interface PreFence {
  count: number;
  horizonMs: number;
}

export interface ReleaseMode {
  notApplied?: boolean;
  keepDocument?: boolean;
}

export const claimKey = (c: { schemeId: string; billKey: string }): string => KEY(c.schemeId, c.billKey);

export class PostgresClaimStore implements ClaimStore {
  constructor(private readonly ds: DataSource) {}

  async read(schemeId: string, billKeys: string[]): Promise<Map<string, ClaimSummary>> {
    if (billKeys.length === 0) return new Map();
    const rows = await queryRows<Record<string, unknown>>(
      this.ds,
      `SELECT bill_key, state, (lease_until IS NOT NULL AND lease_until > now()) AS live, content_hash,
              kingdee_id, kingdee_number, reason, document IS NOT NULL AS has_document
         FROM bill_claims WHERE scheme_id = $1 AND bill_key = ANY($2::text[])`,
      [schemeId, billKeys],
    );
    return new Map(
      rows.map((r) => [
        String(r.bill_key),
        {
          billKey: String(r.bill_key),
          state: r.state as ClaimState,
          live: Boolean(r.live),
          contentHash: (r.content_hash as string) ?? null,
          kingdeeId: (r.kingdee_id as string) ?? null,
          kingdeeNumber: (r.kingdee_number as string) ?? null,
          reason: (r.reason as string) ?? null,
          hasDocument: Boolean(r.has_document),
        },
      ]),
    );
  }

  async registerIdentities(
    schemeId: string,
    account: string,
    formId: string,
    billKeys: string[],
  ): Promise<Map<string, string>> {
    if (billKeys.length === 0) return new Map();
    // Two statements, not one with a CTE: the look-up must see a key another scheme registered
    // concurrently (committed while our insert waited on it), which the CTE's snapshot would not.
    // Raw: one INSERT … SELECT FROM unnest … ON CONFLICT DO NOTHING for the whole batch.
    await this.ds.query(
      `INSERT INTO bill_identities (target_account, form_id, bill_key, scheme_id)
       SELECT $1, $2, k, $3 FROM unnest($4::text[]) AS k ON CONFLICT DO NOTHING`,
      [account, formId, schemeId, billKeys],
    );
    // Raw: reads another scheme's identities for a batch of keys (bill_key = ANY) in the same transaction as the insert above.
    const rows = await queryRows<{ bill_key: string; scheme_id: string }>(
      this.ds,
      `SELECT bill_key, scheme_id FROM bill_identities
        WHERE target_account = $1 AND form_id = $2 AND bill_key = ANY($4::text[]) AND scheme_id <> $3`,
      [account, formId, schemeId, billKeys],
    );
    return new Map(rows.map((r) => [r.bill_key, r.scheme_id]));
  }

  async registerExistingIdentities(schemeId: string, account: string, formId: string): Promise<number> {
    // Raw: INSERT … SELECT from bill_claims … RETURNING: copies existing keys in one statement.
    const rows = await queryRows<{ bill_key: string }>(
      this.ds,
      `INSERT INTO bill_identities (target_account, form_id, bill_key, scheme_id)
       SELECT $1, $2, bill_key, scheme_id FROM bill_claims WHERE scheme_id = $3
       ON CONFLICT DO NOTHING RETURNING bill_key`,
      [account, formId, schemeId],
    );
    return rows.length;
  }

  async claim(
    owner: string,
    leaseMs: number,
    docs: KingdeeDocument[],
    fence: PreFence = { count: 0, horizonMs: 0 },
  ): Promise<HeldClaim[]> {
    if (docs.length === 0) return [];
    // Raw: the claim protocol's conditional upsert over an unnest batch (fencing, leases on the database clock).
    const rows = await queryRows<{ scheme_id: string; bill_key: string; epoch: string }>(
      this.ds,
      `INSERT INTO bill_claims AS c (scheme_id, bill_key, state, owner, epoch, lease_until, content_hash,
              last_write_at, write_epoch, attempts, updated_at)
       SELECT i.scheme_id, i.bill_key, 'writing', $1, 1, now() + $2 * interval '1 millisecond', i.content_hash,
              CASE WHEN i.fenced THEN now() + $7 * interval '1 millisecond' END,
              CASE WHEN i.fenced THEN 1 END, CASE WHEN i.fenced THEN 1 ELSE 0 END, now()
         FROM unnest($3::text[], $4::text[], $5::text[], $6::boolean[])
              AS i(scheme_id, bill_key, content_hash, fenced)
       ON CONFLICT (scheme_id, bill_key) DO UPDATE SET state = 'writing', owner = EXCLUDED.owner,
              epoch = c.epoch + 1, lease_until = EXCLUDED.lease_until, content_hash = EXCLUDED.content_hash,
              document = NULL, reason = NULL, detail = NULL, settle_deadline = NULL,
              next_check_at = NULL, updated_at = now(),
              last_write_at = CASE WHEN EXCLUDED.write_epoch IS NULL THEN c.last_write_at ELSE EXCLUDED.last_write_at END,
              write_epoch = CASE WHEN EXCLUDED.write_epoch IS NULL THEN c.write_epoch ELSE c.epoch + 1 END,
              attempts = c.attempts + EXCLUDED.attempts
        WHERE c.state IN ('free', 'failed')
       RETURNING c.scheme_id, c.bill_key, c.epoch::text AS epoch`,
      [
        owner,
        leaseMs,
        docs.map((d) => d.schemeId),
        docs.map((d) => d.billKey),
        docs.map((d) => d.contentHash),
        docs.map((_, i) => i < fence.count),
        fence.horizonMs,
      ],
    );
    return rows.map((r) => ({ schemeId: r.scheme_id, billKey: r.bill_key, epoch: String(r.epoch) }));
  }

  async fence(owner: string, leaseMs: number, claims: HeldClaim[], horizonMs = 0): Promise<HeldClaim[]> {
    if (claims.length === 0) return [];
    // Raw: UPDATE … FROM unnest: the batch's write stamps, conditional on (owner, epoch).
    const rows = await queryRows<{ scheme_id: string; bill_key: string; epoch: string }>(
      this.ds,
      `UPDATE bill_claims c SET last_write_at = now() + $6 * interval '1 millisecond', write_epoch = c.epoch,
              lease_until = now() + $2 * interval '1 millisecond', attempts = c.attempts + 1, updated_at = now()
         FROM unnest($3::text[], $4::text[], $5::bigint[]) AS h(scheme_id, bill_key, epoch)
        WHERE c.scheme_id = h.scheme_id AND c.bill_key = h.bill_key AND c.owner = $1 AND c.epoch = h.epoch
          AND c.state = 'writing' AND c.lease_until > now()
       RETURNING c.scheme_id, c.bill_key, c.epoch::text AS epoch`,
      [owner, leaseMs, ...held(claims), horizonMs],
    );
    return rows.map((r) => ({ schemeId: r.scheme_id, billKey: r.bill_key, epoch: String(r.epoch) }));
  }

  async transition(owner: string, changes: ClaimTransition[], leaseMs = 0): Promise<Set<string>> {
    if (changes.length === 0) return new Set();
    // Raw: UPDATE … FROM unnest with CASE per column: the batch's outcomes, conditional on (owner, epoch).
    const rows = await queryRows<{ scheme_id: string; bill_key: string }>(
      this.ds,
      `UPDATE bill_claims c SET state = u.state,
              owner = CASE WHEN u.state IN ('writing', 'settling', 'saved_not_audited') THEN c.owner END,
              lease_until = CASE WHEN u.state = 'writing' THEN now() + $13 * interval '1 millisecond'
                WHEN u.state IN ('settling', 'saved_not_audited') THEN c.lease_until END,
              kingdee_id = COALESCE(u.kingdee_id, c.kingdee_id),
              kingdee_number = COALESCE(u.kingdee_number, c.kingdee_number),
              content_hash = COALESCE(u.content_hash, c.content_hash),
              reason = u.reason, detail = u.detail::jsonb,
              document = CASE WHEN u.state = 'loaded' THEN NULL ELSE COALESCE(u.document::jsonb, c.document) END,
              settle_deadline = CASE
                WHEN u.state = 'settling' AND c.state = 'settling' THEN c.settle_deadline
                WHEN u.state = 'settling' THEN COALESCE(c.last_write_at, now()) + u.window_ms * interval '1 millisecond' END,
              next_check_at = CASE WHEN u.state IN ('settling', 'saved_not_audited')
                THEN now() + u.recheck_ms * interval '1 millisecond' END,
              updated_at = now()
         FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                     $10::text[], $11::bigint[], $12::bigint[], $14::text[])
              AS u(scheme_id, bill_key, epoch, state, kingdee_id, kingdee_number, content_hash, reason, detail,
                   window_ms, recheck_ms, document)
        WHERE c.scheme_id = u.scheme_id AND c.bill_key = u.bill_key AND c.owner = $1 AND c.epoch = u.epoch
       RETURNING c.scheme_id, c.bill_key`,
      [
        owner,
        ...held(changes.map((c) => c.claim)),
        changes.map((c) => c.state),
        changes.map((c) => c.kingdeeId ?? null),
        changes.map((c) => c.kingdeeNumber ?? null),
        changes.map((c) => c.contentHash ?? null),
        changes.map((c) => c.reason ?? null),
        changes.map((c) => (c.detail ? JSON.stringify(c.detail) : null)),
        changes.map((c) => c.settleWindowMs ?? 0),
        changes.map((c) => c.recheckInMs ?? 0),
        leaseMs,
        changes.map((c) => (c.document ? JSON.stringify(c.document) : null)),
      ],
    );
    return new Set(rows.map((r) => KEY(r.scheme_id, r.bill_key)));
  }

  async release(
    owner: string,
    claims: Array<HeldClaim & { document?: KingdeeDocument }>,
    settleWindowMs: (schemeId: string) => number,
    mode: ReleaseMode = {},
  ): Promise<void> {
    if (claims.length === 0) return;
    // Raw: a CTE releasing a batch of claims conditionally on (owner, epoch), returning what changed.
    await this.ds.query(
      `WITH r AS (SELECT c.scheme_id, c.bill_key, COALESCE(c.write_epoch = c.epoch AND NOT $6, false) AS wrote,
                         $7::boolean AS keep, h.window_ms, h.document
                    FROM bill_claims c
                    JOIN unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $8::text[])
                         AS h(scheme_id, bill_key, epoch, window_ms, document)
                      ON c.scheme_id = h.scheme_id AND c.bill_key = h.bill_key AND c.epoch = h.epoch
                   WHERE c.owner = $1 AND c.state = 'writing')
       UPDATE bill_claims c SET
              state = CASE WHEN r.wrote OR r.keep THEN 'settling' ELSE 'free' END,
              owner = CASE WHEN r.wrote OR r.keep THEN c.owner END,
              lease_until = CASE WHEN r.wrote OR r.keep THEN c.lease_until END,
              settle_deadline = CASE WHEN r.wrote THEN c.last_write_at + r.window_ms * interval '1 millisecond'
                WHEN r.keep THEN now() END,
              next_check_at = CASE WHEN r.wrote OR r.keep THEN now() END,
              document = CASE WHEN r.wrote OR r.keep THEN COALESCE(r.document::jsonb, c.document) END,
              updated_at = now()
         FROM r WHERE c.scheme_id = r.scheme_id AND c.bill_key = r.bill_key`,
      [
        owner,
        ...held(claims),
        claims.map((c) => settleWindowMs(c.schemeId)),
        mode.notApplied ?? false,
        mode.keepDocument ?? false,
        claims.map((c) => (c.document ? JSON.stringify(c.document) : null)),
      ],
    );
  }

  async renew(owner: string, leaseMs: number): Promise<HeldClaim[]> {
    // Raw: a CTE renewing every lease of this owner on the database clock, returning the writing ones.
    const rows = await queryRows<{ scheme_id: string; bill_key: string; epoch: string }>(
      this.ds,
      `WITH renewed AS (
         UPDATE bill_claims SET lease_until = now() + $2 * interval '1 millisecond'
          WHERE owner = $1 AND state IN ('writing', 'settling', 'saved_not_audited')
         RETURNING scheme_id, bill_key, epoch, state)
       SELECT scheme_id, bill_key, epoch::text AS epoch FROM renewed WHERE state = 'writing'`,
      [owner, leaseMs],
    );
    return rows.map((r) => ({ schemeId: r.scheme_id, billKey: r.bill_key, epoch: String(r.epoch) }));
  }

  async takeOver(
    owner: string,
    leaseMs: number,
    schemes: Array<{ schemeId: string; settleWindowMs: number }>,
    limit: number,
  ): Promise<HeldClaim[]> {
    if (schemes.length === 0) return [];
    // Raw: a claim of expired leases with FOR UPDATE SKIP LOCKED (replicas take disjoint rows).
    const rows = await queryRows<{ scheme_id: string; bill_key: string; epoch: string }>(
      this.ds,
      `WITH expired AS (
         SELECT scheme_id, bill_key FROM bill_claims
          WHERE scheme_id = ANY($3::text[]) AND state IN ('writing', 'settling', 'saved_not_audited')
            AND lease_until < now()
          ORDER BY lease_until LIMIT $5 FOR UPDATE SKIP LOCKED)
       UPDATE bill_claims c SET owner = $1, epoch = c.epoch + 1, lease_until = now() + $2 * interval '1 millisecond',
              state = CASE WHEN c.state = 'writing' THEN 'settling' ELSE c.state END,
              settle_deadline = CASE WHEN c.state <> 'writing' THEN c.settle_deadline
                WHEN c.write_epoch = c.epoch THEN c.last_write_at + w.window_ms * interval '1 millisecond'
                ELSE now() END,
              next_check_at = now(), updated_at = now()
         FROM expired, unnest($3::text[], $4::bigint[]) AS w(scheme_id, window_ms)
        WHERE c.scheme_id = expired.scheme_id AND c.bill_key = expired.bill_key AND w.scheme_id = c.scheme_id
       RETURNING c.scheme_id, c.bill_key, c.epoch::text AS epoch`,
      [owner, leaseMs, schemes.map((s) => s.schemeId), schemes.map((s) => s.settleWindowMs), limit],
    );
    return rows.map((r) => ({ schemeId: r.scheme_id, billKey: r.bill_key, epoch: String(r.epoch) }));
  }

  async due(owner: string, limit: number): Promise<SettlingClaim[]> {
    const rows = await queryRows<Record<string, unknown>>(
      this.ds,
      `SELECT scheme_id, bill_key, epoch::text AS epoch, state, settle_deadline,
              (settle_deadline IS NOT NULL AND now() >= settle_deadline) AS deadline_passed, document,
              kingdee_id, kingdee_number, attempts, reason
         FROM bill_claims
        WHERE owner = $1 AND state IN ('settling', 'saved_not_audited') AND lease_until > now()
          AND next_check_at <= now()
        ORDER BY next_check_at LIMIT $2`,
      [owner, limit],
    );
    return rows.map((r) => ({
      schemeId: String(r.scheme_id),
      billKey: String(r.bill_key),
      epoch: String(r.epoch),
      state: r.state as SettlingClaim['state'],
      deadlinePassed: Boolean(r.deadline_passed),
      settleDeadline: (r.settle_deadline as Date) ?? null,
      document: (r.document as KingdeeDocument) ?? null,
      kingdeeId: (r.kingdee_id as string) ?? null,
      kingdeeNumber: (r.kingdee_number as string) ?? null,
      attempts: Number(r.attempts),
      reason: (r.reason as string) ?? null,
    }));
  }

  async numbersKept(schemeId: string): Promise<boolean> {
    // Raw: compares two columns case-insensitively (a number that is its own key).
    const rows: unknown[] = await this.ds.query(
      `SELECT 1 FROM bill_claims WHERE scheme_id = $1 AND state = 'loaded' AND upper(kingdee_number) = upper(bill_key) LIMIT 1`,
      [schemeId],
    );
    return rows.length > 0;
  }

  async endLeases(owner: string): Promise<number> {
    // Raw: expires this owner's leases on the database clock, returning the keys.
    const rows = await queryRows<unknown>(
      this.ds,
      `UPDATE bill_claims SET lease_until = now() - interval '1 millisecond', updated_at = now()
        WHERE owner = $1 AND state IN ('writing', 'settling', 'saved_not_audited') RETURNING bill_key`,
      [owner],
    );
    return rows.length;
  }
}

function held(claims: HeldClaim[]): [string[], string[], string[]] {
  return [claims.map((c) => c.schemeId), claims.map((c) => c.billKey), claims.map((c) => c.epoch)];
}
