import { DataSource } from 'typeorm';
import { AppLogger, Clock, silentLogger, systemClock } from '@libs/common';
import type { KingdeeSlotHold, KingdeeSlotHoldRequest, KingdeeSlotLeases } from '@libs/kingdee-client';
import { inShortTransaction, parseJson } from './short-transaction.util';
import { planSlots, SlotPlan, SlotRow } from './slot-plan.util';

export interface PostgresKingdeeSlotLeasesOptions {
  /** This process, unique among all that share the database. */
  instance: string;
  /** A lease lasts this long unless renewed; renewal every leaseMs ÷ 3 (default 30 s). */
  leaseMs?: number;
  /** Local clock of the lease's own expiry guard. */
  clock?: Clock;
  logger?: AppLogger;
  /** A renewal slower than this counts as failed (default min(3 s, leaseMs ÷ 3)). */
  queryTimeoutMs?: number;
}

const SNAPSHOT_SQL = `
WITH t AS (SELECT clock_timestamp() AS now),
old AS (
  DELETE FROM kingdee_slot_holders h USING t
  WHERE h.account = $1 AND h.seen_at < t.now - make_interval(secs => 10 * $3 / 1000.0)
)
SELECT
  (extract(epoch FROM t.now) * 1000)::float8 AS now_ms,
  (SELECT coalesce(json_agg(json_build_array(s.slot, s.instance, (extract(epoch FROM s.expires_at) * 1000)::float8)
                            ORDER BY s.slot), '[]'::json)
     FROM kingdee_slots s WHERE s.account = $1 AND s.slot < $2) AS slots,
  (SELECT coalesce(json_agg(json_build_array(h.instance, h.want)), '[]'::json)
     FROM kingdee_slot_holders h
    WHERE h.account = $1 AND h.seen_at > t.now - make_interval(secs => $3 / 1000.0)) AS holders
FROM t`;

/** Slots 0..cap−1 exist (a statement of its own: a CTE's rows are not visible to its own query). */
const SEED_SQL = `
INSERT INTO kingdee_slots (account, slot) SELECT $1, g FROM generate_series(0, $2 - 1) AS g
ON CONFLICT (account, slot) DO NOTHING`;

const WRITE_SQL = `
WITH mine AS (
  UPDATE kingdee_slots SET instance = $2, expires_at = clock_timestamp() + make_interval(secs => $4 / 1000.0)
  WHERE account = $1 AND slot = ANY($3::int[])
),
give AS (
  UPDATE kingdee_slots SET instance = NULL, expires_at = NULL
  WHERE account = $1 AND slot = ANY($5::int[]) AND instance = $2
)
INSERT INTO kingdee_slot_holders (account, instance, want, held, seen_at)
VALUES ($1, $2, $6, $7, clock_timestamp())
ON CONFLICT (account, instance) DO UPDATE SET want = EXCLUDED.want, held = EXCLUDED.held, seen_at = EXCLUDED.seen_at`;

/**
 * A Kingdee account's session cap shared by every process: slots 0..cap−1 in `kingdee_slots`, each
 * leased by one process with an expiry. A holder renews every leaseMs ÷ 3 in a short transaction
 * serialised per account (`pg_advisory_xact_lock`), taking free or expired slots while it holds fewer
 * than it wants and giving slots back to a process that waits with none (`planSlots`). A holder that
 * cannot renew stops using its slots before their lease can end (`onChange(0)`), and a dead process's
 * slots are taken over once expired. Processes holding or waiting are in `kingdee_slot_holders`.
 */
export class PostgresKingdeeSlotLeases implements KingdeeSlotLeases {
  readonly instance: string;
  private readonly leaseMs: number;
  private readonly clock: Clock;
  private readonly logger: AppLogger;
  private readonly queryTimeoutMs: number;
  private readonly holders = new Set<SlotHolder>();
  private readonly perAccount = new Map<string, number>();

  constructor(
    private readonly ds: DataSource,
    opts: PostgresKingdeeSlotLeasesOptions,
  ) {
    if (!opts.instance) throw new RangeError('PostgresKingdeeSlotLeases needs an instance id');
    this.instance = opts.instance;
    this.leaseMs = opts.leaseMs ?? 30_000;
    if (!(this.leaseMs >= 30)) throw new RangeError('leaseMs must be >= 30');
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? silentLogger;
    this.queryTimeoutMs = opts.queryTimeoutMs ?? Math.min(3000, Math.floor(this.leaseMs / 3));
  }

  async hold(req: KingdeeSlotHoldRequest): Promise<KingdeeSlotHold> {
    if (!(Number.isInteger(req.cap) && req.cap >= 1)) throw new RangeError('cap must be an integer >= 1');
    if (!(Number.isInteger(req.want) && req.want >= 0)) throw new RangeError('want must be an integer >= 0');
    // Two holds on one account in one process are two participants.
    const n = this.perAccount.get(req.account) ?? 0;
    this.perAccount.set(req.account, n + 1);
    const id = n === 0 ? this.instance : `${this.instance}/${n}`;
    const holder = new SlotHolder(this.ds, req, {
      id,
      leaseMs: this.leaseMs,
      clock: this.clock,
      logger: this.logger,
      queryTimeoutMs: this.queryTimeoutMs,
      onReleased: () => this.holders.delete(holder),
    });
    this.holders.add(holder);
    await holder.start();
    return holder;
  }

  /** Releases every hold of this process. */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.holders].map((h) => h.release()));
  }
}

interface HolderSettings {
  id: string;
  leaseMs: number;
  clock: Clock;
  logger: AppLogger;
  queryTimeoutMs: number;
  onReleased: () => void;
}

class SlotHolder implements KingdeeSlotHold {
  private current = 0;
  private timer?: NodeJS.Timeout;
  private expiry?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private released = false;
  private failing = false;

  constructor(
    private readonly ds: DataSource,
    private readonly req: KingdeeSlotHoldRequest,
    private readonly s: HolderSettings,
  ) {}

  held(): number {
    return this.current;
  }

  async start(): Promise<void> {
    await this.tick();
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearTimeout(this.timer);
    clearTimeout(this.expiry);
    await this.ticking?.catch(() => undefined);
    this.set(0);
    this.s.onReleased();
    await inShortTransaction(
      this.ds,
      `kingdee-slots:${this.req.account}`,
      this.s.queryTimeoutMs,
      async (q) => {
        await q(
          `WITH give AS (
           UPDATE kingdee_slots SET instance = NULL, expires_at = NULL WHERE account = $1 AND instance = $2
         )
         DELETE FROM kingdee_slot_holders WHERE account = $1 AND instance = $2`,
          [this.req.account, this.s.id],
        );
      },
    ).catch((err: unknown) => {
      // Not given back: the leases end on their own within leaseMs.
      this.s.logger.warn(
        { account: this.req.account, instance: this.s.id, err: (err as Error).message },
        'Kingdee session slots not given back (they expire on their own)',
      );
    });
  }

  private tick(): Promise<void> {
    const run = this.renew().finally(() => {
      this.ticking = undefined;
      if (!this.released) {
        this.timer = setTimeout(() => void this.tick(), Math.max(10, Math.floor(this.s.leaseMs / 3)));
        this.timer.unref();
      }
    });
    this.ticking = run;
    return run;
  }

  private async renew(): Promise<void> {
    const { account, cap, want } = this.req;
    // The database stamps the lease after this moment, so it surely lasts until startedAt + leaseMs
    // (less a margin for a late timer).
    const startedAt = this.s.clock.now();
    let plan: SlotPlan;
    try {
      plan = await inShortTransaction(
        this.ds,
        `kingdee-slots:${account}`,
        this.s.queryTimeoutMs,
        async (q) => {
          type Snapshot = Array<{ now_ms: number; slots: unknown; holders: unknown }>;
          let [row] = (await q(SNAPSHOT_SQL, [account, cap, this.s.leaseMs])) as Snapshot;
          if (parseJson<unknown[]>(row.slots, []).length < cap) {
            await q(SEED_SQL, [account, cap]);
            [row] = (await q(SNAPSHOT_SQL, [account, cap, this.s.leaseMs])) as Snapshot;
          }
          const slots = parseJson<Array<[number, string | null, number | null]>>(row.slots, []).map(
            ([slot, instance, expiresAt]): SlotRow => ({
              slot: Number(slot),
              instance,
              expiresAt: expiresAt === null ? null : Number(expiresAt),
            }),
          );
          const participants = parseJson<Array<[string, number]>>(row.holders, []).map(([instance, w]) => ({
            instance,
            want: Number(w),
          }));
          const planned = planSlots({
            cap,
            me: this.s.id,
            want,
            inUse: Math.max(0, this.req.inUse?.() ?? 0),
            now: Number(row.now_ms),
            slots,
            participants,
          });
          await q(WRITE_SQL, [
            account,
            this.s.id,
            [...planned.keep, ...planned.take],
            this.s.leaseMs,
            planned.give,
            want,
            planned.held,
          ]);
          return planned;
        },
      );
    } catch (err) {
      if (!this.failing) {
        this.failing = true;
        this.s.logger.warn(
          { account, instance: this.s.id, held: this.current, err: (err as Error).message },
          'Kingdee session slots not renewed: using them until their lease could end, then none',
        );
      }
      return;
    }
    if (this.released) return;
    if (this.failing) {
      this.failing = false;
      this.s.logger.warn({ account, instance: this.s.id }, 'Kingdee session slots renewed again');
    }
    const holding = plan.keep.length + plan.take.length;
    clearTimeout(this.expiry);
    if (holding > 0) {
      const margin = Math.min(1000, Math.floor(this.s.leaseMs / 10));
      const lastsFor = startedAt + this.s.leaseMs - margin - this.s.clock.now();
      this.expiry = setTimeout(() => this.lost(), Math.max(0, lastsFor));
      this.expiry.unref();
    }
    this.set(plan.held);
  }

  /** No renewal came through before the lease could end: stop using every slot. */
  private lost(): void {
    if (this.released || this.current === 0) return;
    this.s.logger.warn(
      { account: this.req.account, instance: this.s.id, held: this.current },
      'Kingdee session slots lost (not renewed in time): using none until renewed',
    );
    this.set(0);
  }

  private set(held: number): void {
    if (held === this.current) return;
    this.current = held;
    try {
      this.req.onChange(held);
    } catch (err) {
      this.s.logger.error({ err: (err as Error).message }, 'Kingdee slot onChange listener failed');
    }
  }
}
