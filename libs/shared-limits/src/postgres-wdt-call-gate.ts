import { DataSource } from 'typeorm';
import { AppLogger, Clock, silentLogger, systemClock } from '@libs/common';
import type { WdtCallGate, WdtCallGateRequest } from '@libs/wdt-client';
import { inShortTransaction, parseJson } from './short-transaction.util';
import {
  BudgetRequest,
  BudgetWaiting,
  fallbackLimit,
  msUntilRoom,
  planGrants,
  PROCESSES_SEEN_MS,
  WdtGatePriority,
} from './wdt-budget.util';

/**
 * How long a granted call counts against its key: WDT's 60 s plus a second. WDT counts a call when it
 * arrives, which is after the gate let it go (the HTTP request is still being sent); counted for
 * exactly 60 s from the grant, a call granted right after an earlier one left the gate's window could
 * still arrive inside WDT's window of that earlier one (the multi-shop end-to-end test saw 21 of 20).
 */
export const WDT_GATE_WINDOW_MS = 61_000;

export interface PostgresWdtCallGateOptions {
  /** This process, unique among all that share the database (e.g. `<hostname>-<pid>-<random>`). */
  instance: string;
  /** Local clock of the fallback (the shared log runs on the database's clock). */
  clock?: Clock;
  logger?: AppLogger;
  /** The span a call counts over (default WDT_GATE_WINDOW_MS: 60 s plus a second of send time). */
  windowMs?: number;
  /** A waiter re-checks at least this often (and refreshes its demand); default windowMs ÷ 20 within 50..1000 ms. */
  pollMs?: number;
  /** A demand row not refreshed for this long is ignored (default 5 s, at least 3 polls). */
  demandTtlMs?: number;
  /**
   * A scheme whose queue just drained still counts as backlogged this long (default 2 polls): a
   * scheme reading page after page has one call waiting at a time, with gaps between.
   */
  lingerMs?: number;
  /** Heartbeat of the process on every key it used (default 30 s). */
  heartbeatMs?: number;
  /** An acquisition slower than this counts as "Postgres unreachable" (default 3 s). */
  queryTimeoutMs?: number;
  /** In fallback, how often the database is tried again (default 5 s). */
  probeMs?: number;
}

interface Waiter extends BudgetRequest {
  resolve: () => void;
  reject: (error: Error) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** One of this process's calls on a key, on the local clock (`shared`: it is in the shared log). */
interface LocalCall {
  at: number;
  scheme: string;
  priority: WdtGatePriority;
  shared: boolean;
}

interface KeyState {
  key: string;
  waiters: Waiter[];
  running: boolean;
  loop?: Promise<void>;
  woken: boolean;
  wake?: () => void;
  mode: 'shared' | 'fallback';
  /** Processes seen on the key in the last 2 minutes, as last read (0 = never read). */
  processesSeen: number;
  /** Database clock − local clock, as last measured. */
  offsetMs: number;
  /** This process's calls in the last window (shared and fallback). */
  recent: LocalCall[];
  nextProbeAt: number;
  /** This process has demand rows on the key that a drained queue must remove. */
  demandWritten: boolean;
}

const SNAPSHOT_SQL = `
WITH t AS (SELECT clock_timestamp() AS now),
pruned AS (
  DELETE FROM wdt_budget_calls c USING t
  WHERE c.budget_key = $1 AND c.started_at <= t.now - make_interval(secs => $2 / 1000.0)
),
stale AS (
  DELETE FROM wdt_budget_demand d USING t
  WHERE d.budget_key = $1 AND d.seen_at <= t.now - make_interval(secs => $4 / 1000.0)
),
beat AS (
  INSERT INTO wdt_budget_processes (budget_key, instance, seen_at) SELECT $1, $3, t.now FROM t
  ON CONFLICT (budget_key, instance) DO UPDATE SET seen_at = EXCLUDED.seen_at
)
SELECT
  (extract(epoch FROM t.now) * 1000)::float8 AS now_ms,
  (SELECT coalesce(json_agg(json_build_array(c.scheme, (extract(epoch FROM c.started_at) * 1000)::float8)
                            ORDER BY c.started_at), '[]'::json)
     FROM wdt_budget_calls c
    WHERE c.budget_key = $1 AND c.started_at > t.now - make_interval(secs => $2 / 1000.0)) AS calls,
  (SELECT coalesce(json_agg(json_build_array(x.scheme, x.priority)), '[]'::json)
     FROM (SELECT DISTINCT d.scheme, d.priority FROM wdt_budget_demand d
            WHERE d.budget_key = $1
              AND ((d.waiting > 0 AND d.instance <> $3 AND d.seen_at > t.now - make_interval(secs => $4 / 1000.0))
                OR (d.waiting = 0 AND d.seen_at > t.now - make_interval(secs => $6 / 1000.0)))) x) AS demand,
  (SELECT count(*)::int FROM wdt_budget_processes p
    WHERE p.budget_key = $1 AND p.instance <> $3
      AND p.seen_at > t.now - make_interval(secs => $5 / 1000.0)) + 1 AS processes
FROM t`;

const WRITE_SQL = `
WITH ins AS (
  INSERT INTO wdt_budget_calls (budget_key, scheme, priority, instance, started_at)
  SELECT $1, g.s, g.p, $2, clock_timestamp() FROM unnest($3::text[], $4::text[]) AS g(s, p)
),
back AS (
  INSERT INTO wdt_budget_calls (budget_key, scheme, priority, instance, started_at)
  SELECT $1, b.s, b.p, $2, to_timestamp(b.at / 1000.0)
  FROM unnest($8::text[], $9::text[], $10::float8[]) AS b(s, p, at)
),
drained AS (
  UPDATE wdt_budget_demand d SET waiting = 0, seen_at = clock_timestamp()
  WHERE d.budget_key = $1 AND d.instance = $2 AND d.waiting > 0
    AND NOT EXISTS (SELECT 1 FROM unnest($5::text[], $6::text[]) AS w(s, p) WHERE w.s = d.scheme AND w.p = d.priority)
)
INSERT INTO wdt_budget_demand (budget_key, instance, scheme, priority, waiting, seen_at)
SELECT $1, $2, w.s, w.p, w.n, clock_timestamp() FROM unnest($5::text[], $6::text[], $7::int[]) AS w(s, p, n)
ON CONFLICT (budget_key, instance, scheme, priority)
DO UPDATE SET waiting = EXCLUDED.waiting, seen_at = EXCLUDED.seen_at`;

/**
 * A WDT app key's L calls per sliding window, shared by every process on the database (replicas and
 * CLIs), with a fair share per scheme and a background lane.
 *
 * Why not `rate-limiter-flexible`'s Postgres store: it is a fixed window — one row per key with
 * `points` and `expire`, the counter reset when `expire` passes — so 2·L calls can land within one
 * sliding 60 s (L at the end of a window, L at the start of the next), which is exactly what WDT
 * refuses; its queue (`RateLimiterQueue`) waits in one process only, first come first served, with no
 * priorities and no fair share between schemes; and it stamps times with each process's own clock.
 * See libs/shared-limits/README.md.
 *
 * How: a log of calls per key (`wdt_budget_calls`, one row per started call, counted from its START,
 * pruned beyond the window). A caller waits in this process's queue for the key; the queue's loop runs
 * a short transaction serialised per key with `pg_advisory_xact_lock`: it prunes, reads the calls in
 * the window and the other processes' waiting schemes (`wdt_budget_demand`), grants what
 * `planGrants` allows (fewer than L in the window, the fair share, normal before background), writes
 * the granted calls and this process's remaining demand, and commits. The database's clock is the only
 * clock. Waiters re-check when the call that frees room leaves the window (computed from the log) and at
 * least every `pollMs` (which also refreshes their demand so it does not go stale). A scheme whose queue
 * drained still counts as waiting for `lingerMs`: a scheme reading page after page has one call waiting
 * at a time, and the gaps between its pages must not hand its share to a heavier scheme.
 *
 * When Postgres cannot be reached (an error, or no answer within `queryTimeoutMs`), the key falls back
 * to a local sliding limit of L ÷ max(2, processes seen on the key in the last 2 minutes) — counting
 * this process's own recent calls — and tries the database again every `probeMs`; back in shared mode,
 * the calls made meanwhile are written to the log so the window stays true. Each transition is logged
 * once.
 *
 * The in-process `WdtRateLimiter` stays in front (its end-time rule is the finer one); this is a
 * second gate.
 */
export class PostgresWdtCallGate implements WdtCallGate {
  readonly instance: string;
  private readonly clock: Clock;
  private readonly logger: AppLogger;
  private readonly windowMs: number;
  private readonly pollMs: number;
  private readonly demandTtlMs: number;
  private readonly lingerMs: number;
  private readonly queryTimeoutMs: number;
  private readonly probeMs: number;
  private readonly keys = new Map<string, KeyState>();
  private readonly heartbeat: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly ds: DataSource,
    opts: PostgresWdtCallGateOptions,
  ) {
    if (!opts.instance) throw new RangeError('PostgresWdtCallGate needs an instance id');
    this.instance = opts.instance;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? silentLogger;
    this.windowMs = opts.windowMs ?? WDT_GATE_WINDOW_MS;
    if (!(this.windowMs > 0)) throw new RangeError('windowMs must be > 0');
    this.pollMs = opts.pollMs ?? Math.min(1000, Math.max(50, Math.floor(this.windowMs / 20)));
    this.demandTtlMs = Math.max(opts.demandTtlMs ?? 5000, 3 * this.pollMs);
    this.lingerMs = Math.min(opts.lingerMs ?? 2 * this.pollMs, this.demandTtlMs);
    this.queryTimeoutMs = opts.queryTimeoutMs ?? 3000;
    this.probeMs = opts.probeMs ?? 5000;
    this.heartbeat = setInterval(() => void this.beat(), opts.heartbeatMs ?? 30_000);
    this.heartbeat.unref();
  }

  acquire(req: WdtCallGateRequest): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('WDT call gate stopped'));
    if (req.signal?.aborted) return Promise.reject(abortReason(req.signal));
    if (!(req.limit >= 1)) return Promise.reject(new RangeError('limit must be >= 1'));
    return new Promise<void>((resolve, reject) => {
      const state = this.state(req.budgetKey);
      const waiter: Waiter = {
        scheme: req.scheme,
        priority: req.priority,
        limit: Math.floor(req.limit),
        resolve,
        reject,
        signal: req.signal,
      };
      if (req.signal) {
        const signal = req.signal;
        waiter.onAbort = () => {
          const index = state.waiters.indexOf(waiter);
          if (index < 0) return;
          state.waiters.splice(index, 1);
          reject(abortReason(signal));
          this.kick(state);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      state.waiters.push(waiter);
      this.kick(state);
    });
  }

  /** `shared` while the database answers, `fallback` while this process limits itself alone. */
  mode(budgetKey: string): 'shared' | 'fallback' {
    return this.keys.get(budgetKey)?.mode ?? 'shared';
  }

  /** Processes seen on the key in the last 2 minutes, as last read (0 = never read). */
  processesSeen(budgetKey: string): number {
    return this.keys.get(budgetKey)?.processesSeen ?? 0;
  }

  /** Rejects every waiter, stops the heartbeat and removes this process's rows (best effort). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.heartbeat);
    const loops: Array<Promise<void>> = [];
    for (const state of this.keys.values()) {
      for (const waiter of state.waiters.splice(0)) this.settle(waiter, new Error('WDT call gate stopped'));
      state.woken = true;
      state.wake?.();
      if (state.loop) loops.push(state.loop);
    }
    await Promise.all(loops);
    const keys = [...this.keys.keys()];
    if (keys.length === 0) return;
    await this.ds
      // Raw: a CTE deleting this instance's rows of two tables in one statement.
      .query(
        `WITH d AS (DELETE FROM wdt_budget_demand WHERE instance = $1 AND budget_key = ANY($2::text[]))
         DELETE FROM wdt_budget_processes WHERE instance = $1 AND budget_key = ANY($2::text[])`,
        [this.instance, keys],
      )
      .catch(() => undefined);
  }

  private state(key: string): KeyState {
    let state = this.keys.get(key);
    if (!state) {
      state = {
        key,
        waiters: [],
        running: false,
        woken: false,
        mode: 'shared',
        processesSeen: 0,
        offsetMs: 0,
        recent: [],
        nextProbeAt: 0,
        demandWritten: false,
      };
      this.keys.set(key, state);
    }
    return state;
  }

  private kick(state: KeyState): void {
    if (this.stopped) return;
    if (state.running) {
      state.woken = true;
      state.wake?.();
      return;
    }
    state.running = true;
    state.loop = this.run(state);
  }

  private async run(state: KeyState): Promise<void> {
    try {
      while (!this.stopped && state.waiters.length > 0) {
        state.woken = false;
        const delay = await this.step(state);
        if (this.stopped || state.waiters.length === 0) break;
        await this.sleep(state, delay);
      }
      if (!this.stopped && state.demandWritten && state.mode === 'shared') await this.clearDemand(state);
    } catch (err) {
      this.logger.error({ budgetKey: state.key, err: (err as Error).message }, 'WDT call gate loop failed');
    } finally {
      state.running = false;
      state.wake = undefined;
    }
    if (!this.stopped && state.waiters.length > 0) this.kick(state);
  }

  private sleep(state: KeyState, ms: number): Promise<void> {
    if (state.woken) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.max(1, ms));
      function done() {
        clearTimeout(timer);
        state.wake = undefined;
        resolve();
      }
      state.wake = done;
    });
  }

  /** One round: grant what may go; returns how long to wait before the next round. */
  private async step(state: KeyState): Promise<number> {
    const now = this.clock.now();
    if (state.mode === 'fallback' && now < state.nextProbeAt) return this.grantLocally(state);
    try {
      const delay = await this.attempt(state);
      if (state.mode === 'fallback') {
        state.mode = 'shared';
        this.logger.warn(
          { budgetKey: state.key, instance: this.instance },
          'Postgres answers again: WDT calls share the budget of the key again',
        );
      }
      return delay;
    } catch (err) {
      if (this.stopped) return 0;
      if (state.mode === 'shared') {
        state.mode = 'fallback';
        const limit = Math.min(...state.waiters.map((w) => w.limit));
        this.logger.warn(
          {
            budgetKey: state.key,
            instance: this.instance,
            processesSeen: state.processesSeen,
            localLimit: Number.isFinite(limit) ? fallbackLimit(limit, state.processesSeen) : undefined,
            err: (err as Error).message,
          },
          'Postgres unreachable: WDT calls on this key fall back to L ÷ max(2, processes seen) in this process',
        );
      }
      state.nextProbeAt = this.clock.now() + this.probeMs;
      return this.grantLocally(state);
    }
  }

  /** The shared round: one short transaction under the key's lock. */
  private async attempt(state: KeyState): Promise<number> {
    const waiters = [...state.waiters];
    const backfill = state.mode === 'fallback' ? state.recent.filter((c) => !c.shared) : [];
    const outcome = await inShortTransaction(
      this.ds,
      `wdt-budget:${state.key}`,
      this.queryTimeoutMs,
      async (q) => {
        const rows = (await q(SNAPSHOT_SQL, [
          state.key,
          this.windowMs,
          this.instance,
          this.demandTtlMs,
          PROCESSES_SEEN_MS,
          this.lingerMs,
        ])) as Array<{ now_ms: number; calls: unknown; demand: unknown; processes: number }>;
        const row = rows[0];
        const nowMs = Number(row.now_ms);
        const offsetMs = nowMs - this.clock.now();
        const calls = parseJson<Array<[string, number]>>(row.calls, []).map(([scheme, at]) => ({
          scheme,
          at: Number(at),
        }));
        // Calls this process made while it could not reach the database join the log (if still in the window).
        const back = backfill
          .map((c) => ({ ...c, at: c.at + offsetMs }))
          .filter((c) => c.at > nowMs - this.windowMs && c.at <= nowMs);
        for (const c of back) calls.push({ scheme: c.scheme, at: c.at });
        calls.sort((a, b) => a.at - b.at);
        const others = parseJson<Array<[string, string]>>(row.demand, []).map(
          ([scheme, priority]): BudgetWaiting => ({ scheme, priority: priority as WdtGatePriority }),
        );
        const usedBy = new Map<string, number>();
        for (const c of calls) usedBy.set(c.scheme, (usedBy.get(c.scheme) ?? 0) + 1);
        const granted = planGrants({ inWindow: calls.length, usedBy, others }, waiters);
        const grantedSet = new Set(granted);
        const left = waiters.filter((_, i) => !grantedSet.has(i));
        const groups = new Map<string, { scheme: string; priority: string; n: number }>();
        for (const w of left) {
          const id = `${w.priority}\u0000${w.scheme}`;
          const g = groups.get(id) ?? { scheme: w.scheme, priority: w.priority, n: 0 };
          g.n += 1;
          groups.set(id, g);
        }
        const demand = [...groups.values()];
        await q(WRITE_SQL, [
          state.key,
          this.instance,
          granted.map((i) => waiters[i].scheme),
          granted.map((i) => waiters[i].priority),
          demand.map((g) => g.scheme),
          demand.map((g) => g.priority),
          demand.map((g) => g.n),
          back.map((c) => c.scheme),
          back.map((c) => c.priority),
          back.map((c) => c.at),
        ]);
        const starts = [...calls.map((c) => c.at), ...granted.map(() => nowMs)];
        const limit = left.length > 0 ? Math.min(...left.map((w) => w.limit)) : 1;
        const room = msUntilRoom(starts, limit, this.windowMs, nowMs);
        const nextLeave = starts.length > 0 ? Math.max(1, starts[0] + this.windowMs - nowMs + 1) : Infinity;
        return {
          granted: granted.map((i) => waiters[i]),
          processes: Number(row.processes),
          offsetMs,
          demandWritten: demand.length > 0,
          delay: Math.min(this.pollMs, room > 0 ? room : nextLeave),
        };
      },
    );
    state.processesSeen = outcome.processes;
    state.offsetMs = outcome.offsetMs;
    state.demandWritten = outcome.demandWritten;
    if (backfill.length > 0) for (const c of backfill) c.shared = true;
    const now = this.clock.now();
    for (const waiter of outcome.granted) {
      if (!state.waiters.includes(waiter)) continue; // aborted meanwhile: its call is counted anyway
      this.remember(state, { at: now, scheme: waiter.scheme, priority: waiter.priority, shared: true });
      this.grant(state, waiter);
    }
    return outcome.delay;
  }

  /** The fallback round: a local sliding window of L ÷ max(2, processes seen), normal lane first. */
  private grantLocally(state: KeyState): number {
    const now = this.clock.now();
    this.prune(state, now);
    const order = () => [
      ...state.waiters.filter((w) => w.priority === 'normal'),
      ...state.waiters.filter((w) => w.priority !== 'normal'),
    ];
    for (;;) {
      const next = order()[0];
      if (!next) return 0;
      const limit = fallbackLimit(next.limit, state.processesSeen);
      if (state.recent.length >= limit) {
        const room = msUntilRoom(
          state.recent.map((c) => c.at),
          limit,
          this.windowMs,
          now,
        );
        return Math.max(1, Math.min(room, state.nextProbeAt - now));
      }
      this.remember(state, { at: now, scheme: next.scheme, priority: next.priority, shared: false });
      this.grant(state, next);
    }
  }

  private remember(state: KeyState, call: LocalCall): void {
    this.prune(state, call.at);
    state.recent.push(call);
  }

  private prune(state: KeyState, now: number): void {
    while (state.recent.length > 0 && state.recent[0].at <= now - this.windowMs) state.recent.shift();
  }

  private grant(state: KeyState, waiter: Waiter): void {
    const index = state.waiters.indexOf(waiter);
    if (index >= 0) state.waiters.splice(index, 1);
    this.settle(waiter);
  }

  private settle(waiter: Waiter, error?: Error): void {
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    if (error) waiter.reject(error);
    else waiter.resolve();
  }

  /** The queue drained: this process no longer waits on the key (its schemes linger a moment). */
  private async clearDemand(state: KeyState): Promise<void> {
    await this.ds
      // Raw: clock_timestamp() (the statement's own time), conditional on waiting > 0.
      .query(
        `UPDATE wdt_budget_demand SET waiting = 0, seen_at = clock_timestamp()
         WHERE budget_key = $1 AND instance = $2 AND waiting > 0`,
        [state.key, this.instance],
      )
      .then(() => {
        if (state.waiters.length === 0) state.demandWritten = false;
      })
      .catch(() => undefined);
  }

  /** Keeps this process counted on every key it used, and reads how many processes share each. */
  private async beat(): Promise<void> {
    const keys = [...this.keys.keys()];
    if (this.stopped || keys.length === 0) return;
    try {
      // Raw: a CTE: heartbeat upsert over unnest, pruning, and the budget read in one round trip.
      const rows = (await this.ds.query(
        `WITH beat AS (
           INSERT INTO wdt_budget_processes (budget_key, instance, seen_at)
           SELECT k, $2, clock_timestamp() FROM unnest($1::text[]) AS k
           ON CONFLICT (budget_key, instance) DO UPDATE SET seen_at = EXCLUDED.seen_at
         ),
         old AS (
           DELETE FROM wdt_budget_processes WHERE seen_at < clock_timestamp() - interval '1 hour'
         )
         SELECT k AS budget_key,
                (SELECT count(*)::int FROM wdt_budget_processes p
                  WHERE p.budget_key = k AND p.instance <> $2
                    AND p.seen_at > clock_timestamp() - make_interval(secs => $3 / 1000.0)) + 1 AS processes
         FROM unnest($1::text[]) AS k`,
        [keys, this.instance, PROCESSES_SEEN_MS],
      )) as Array<{ budget_key: string; processes: number }>;
      for (const row of rows) {
        const state = this.keys.get(row.budget_key);
        if (state) state.processesSeen = Number(row.processes);
      }
    } catch {
      // Unreachable: the count seen last stays; acquisitions notice and fall back on their own.
    }
  }
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('WDT call gate wait aborted');
}
