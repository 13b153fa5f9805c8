import { CronExpressionParser } from 'cron-parser';
import {
  AppLogger,
  Clock,
  formatShanghai,
  formatShanghaiDate,
  parseShanghai,
  silentLogger,
} from '@libs/common';
import type { Scheme } from '@libs/scheme';

const DAY_MS = 86_400_000;
/** On boot (or when a scheme appears), a slot that fired at most this long ago is still run. */
export const SCHEDULE_CATCH_UP_MS = DAY_MS;

/** A nightly run a scheme's `reconcile.cron` calls for. */
export interface ScheduledRun {
  schemeId: string;
  /** The Shanghai date the cron fired (`yyyy-MM-dd`): unique per scheme in reconcile_runs. */
  slot: string;
  firedAt: number;
  /** `reconcile.days` full Shanghai calendar days before `slot`, `yyyy-MM-dd HH:mm:ss` inclusive. */
  from: string;
  to: string;
}

/** Where scheduled runs are written (ReconcileRunStore fits); undefined: the slot has a run already. */
export interface ScheduledRunSink {
  create(r: {
    schemeId: string;
    from: string;
    to: string;
    trigger: 'schedule';
    requestedBy: string;
    scheduleSlot: string;
  }): Promise<string | undefined>;
}

/** The latest time at or before `now` the cron fires in `timezone`; undefined if it never did. */
export function latestFire(cron: string, timezone: string, now: number): number | undefined {
  try {
    // `prev()` is strictly before currentDate: start one second later so a fire at `now` counts.
    return CronExpressionParser.parse(cron, { currentDate: new Date(now + 1000), tz: timezone })
      .prev()
      .getTime();
  } catch {
    return undefined;
  }
}

/** The run of a scheme's slot: the `days` whole Shanghai days before the date the cron fired. */
export function scheduledRun(scheme: Pick<Scheme, 'id' | 'reconcile'>, firedAt: number): ScheduledRun {
  const slot = formatShanghaiDate(firedAt);
  const midnight = parseShanghai(slot)!;
  return {
    schemeId: scheme.id,
    slot,
    firedAt,
    from: formatShanghai(midnight - scheme.reconcile.days * DAY_MS),
    to: formatShanghai(midnight - 1000),
  };
}

/** Schemes the schedule covers: the scheme runs (`enabled`) and its nightly reconciliation is on. */
export function scheduledSchemes(schemes: readonly Scheme[]): Scheme[] {
  return schemes.filter((s) => s.enabled && s.reconcile.enabled);
}

/**
 * The nightly schedule: on each `tick`, every scheme whose `reconcile.cron` (in `schedule.timezone`)
 * fired since the last tick gets a queued run for that slot. A scheme seen for the first time (boot,
 * a new or re-enabled file) catches up its latest slot if that fired within the last 24 h. Replicas
 * (and a restart within the day) are safe: the slot is unique per scheme, so a second insert is a
 * no-op. A failed insert is tried again at the next tick.
 */
export class ReconcileScheduler {
  /** Per scheme: the latest fire handled (and the cron it was computed from). */
  private readonly handled = new Map<string, { cron: string; firedAt: number }>();
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<unknown>;
  private readonly logger: AppLogger;

  constructor(
    private readonly deps: {
      schemes: () => readonly Scheme[];
      runs: ScheduledRunSink;
      clock: Clock;
      logger?: AppLogger;
      /** Who the rows name as requester (default `schedule`). */
      requestedBy?: string;
    },
  ) {
    this.logger = deps.logger ?? silentLogger;
  }

  /** Inserts the runs due now; resolves with those it inserted (not those another replica did). */
  async tick(): Promise<ScheduledRun[]> {
    const now = this.deps.clock.now();
    const inserted: ScheduledRun[] = [];
    const current = scheduledSchemes(this.deps.schemes());
    for (const id of [...this.handled.keys()]) if (!current.some((s) => s.id === id)) this.handled.delete(id);
    for (const scheme of current) {
      const { cron } = scheme.reconcile;
      const firedAt = latestFire(cron, scheme.schedule.timezone, now);
      if (firedAt === undefined) continue;
      const seen = this.handled.get(scheme.id);
      const due = seen && seen.cron === cron ? firedAt > seen.firedAt : now - firedAt <= SCHEDULE_CATCH_UP_MS;
      if (!due) {
        this.handled.set(scheme.id, { cron, firedAt });
        continue;
      }
      const run = scheduledRun(scheme, firedAt);
      try {
        const id = await this.deps.runs.create({
          schemeId: run.schemeId,
          from: run.from,
          to: run.to,
          trigger: 'schedule',
          requestedBy: this.deps.requestedBy ?? 'schedule',
          scheduleSlot: run.slot,
        });
        this.handled.set(scheme.id, { cron, firedAt });
        if (id) {
          inserted.push(run);
          this.logger.info(
            { scheme: run.schemeId, slot: run.slot, from: run.from, to: run.to, run: id },
            'nightly reconciliation queued',
          );
        } else
          this.logger.info(
            { scheme: run.schemeId, slot: run.slot },
            'nightly reconciliation already queued (by another replica or an earlier start)',
          );
      } catch (err) {
        this.logger.warn(
          { scheme: run.schemeId, slot: run.slot, err: (err as Error).message },
          'nightly reconciliation not queued; tried again at the next tick',
        );
      }
    }
    return inserted;
  }

  /** Ticks now and every `intervalMs` (a cron fire is seen at most one interval late). */
  start(intervalMs: number): void {
    if (this.timer) return;
    const loop = () => {
      this.ticking = this.tick().finally(() => {
        if (this.timer) this.timer = setTimeout(loop, intervalMs).unref();
      });
    };
    this.timer = setTimeout(loop, 0).unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking?.catch(() => undefined);
  }
}
