import { CronExpressionParser } from 'cron-parser';
import { AppLogger, cappedExponentialDelay, Clock } from '@libs/common';
import { durationMs, Scheme } from '@libs/scheme';
import { ExtractionService, RunStats } from './extraction.service';
import { LeaderLease } from './leader-lease';

export type ExtractorRole = 'leader' | 'standby';

export interface SchedulerHooks {
  onPoll?(schemeId: string, stats: RunStats | undefined): void;
  onError?(schemeId: string, error: Error): void;
  /** Told once per transition: this replica leads the scheme, or another replica does. */
  onRole?(schemeId: string, role: ExtractorRole): void;
  /**
   * How long to wait after a poll that found nothing to page through (at most one WDT call): with N
   * schemes on one WDT app key of L calls a minute, max(pollInterval, 120·N/L s), so idle polling
   * takes at most half the key's budget and a backlog always has the other half. Read at every poll
   * (N changes as schemes come and go). Absent: `pollInterval`.
   */
  idlePollMs?(schemeId: string): number;
}

/** The pause after an idle poll for N schemes sharing L calls a minute: max(pollInterval, 120·N/L s). */
export function idlePollMs(pollIntervalMs: number, schemesOnKey: number, callsPerMinute: number): number {
  return Math.max(pollIntervalMs, Math.ceil((120_000 * Math.max(1, schemesOnKey)) / callsPerMinute));
}

/** A cadence on the scheduler's clock: due once `intervalMs` passed since it last ran (or started). */
export class Cadence {
  private next: number;
  constructor(
    private readonly intervalMs: number,
    startMs: number,
  ) {
    this.next = startMs + intervalMs;
  }
  due(nowMs: number): boolean {
    return nowMs >= this.next;
  }
  ran(nowMs: number): void {
    this.next = nowMs + this.intervalMs;
  }
}

function nextCron(expr: string, tz: string, afterMs: number): number {
  return CronExpressionParser.parse(expr, { currentDate: new Date(afterMs), tz })
    .next()
    .getTime();
}

/**
 * Runs one scheme: holds the leader lease, polls every `pollInterval` (or, with a 传递时间 cron, at
 * each cron time), starts the lookback re-read every `source.cursor.lookbackInterval` and the
 * reconciliation sweep at its cron, backs off on errors. Errors never stop the loop; a permanent WDT
 * auth error is logged loudly once per failure streak.
 *
 * The lookback and the sweep run beside the poll loop, one at a time, never in it: awaited inline, a
 * lookback of a 10-minute window (up to 6 pages at a steady 1 order/s) held the next poll back by its
 * whole duration, and shipment → bill p99 crept up with it. Their WDT calls wait in the same limiter at
 * background priority. They read windows behind the poll's (cursor − lookback … cursor − overlap), and a
 * record both read is an identical event (same id), so running them side by side costs at most a re-emit.
 */
export class ExtractionScheduler {
  private running = false;
  private wake?: () => void;
  private loop?: Promise<void>;
  private failures = 0;
  private role?: ExtractorRole;
  /** The lookback or sweep running beside the poll loop, if any. */
  private background?: Promise<void>;

  constructor(
    private readonly scheme: Scheme,
    private readonly service: ExtractionService,
    private readonly lease: LeaderLease,
    private readonly clock: Clock,
    private readonly logger: AppLogger,
    private readonly hooks: SchedulerHooks = {},
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.background;
    await this.lease.release();
  }

  private setRole(role: ExtractorRole): void {
    if (this.role === role || !this.running) return;
    this.role = role;
    this.hooks.onRole?.(this.scheme.id, role);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, ms));
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Starts a background task beside the poll loop; its failure is reported, never thrown into the loop. */
  private runBeside(task: 'lookback' | 'sweep', work: () => Promise<unknown>): void {
    this.background = work()
      .then(() => undefined)
      .catch((err: Error & { kind?: string }) => {
        this.hooks.onError?.(this.scheme.id, err);
        this.logger[err.kind === 'auth' ? 'error' : 'warn'](
          { scheme: this.scheme.id, task, kind: err.kind, err: err.message },
          `${task} failed; it runs again at its next time`,
        );
      })
      .finally(() => {
        this.background = undefined;
      });
  }

  /** A poll that paged (more than one call) is followed at `pollInterval`; an idle one may wait longer. */
  private pauseAfter(calls: number, interval: number): number {
    if (calls > 1 || !this.hooks.idlePollMs) return interval;
    return Math.max(interval, this.hooks.idlePollMs(this.scheme.id));
  }

  private async run(): Promise<void> {
    const interval = durationMs(this.scheme.schedule.pollInterval);
    const tz = this.scheme.schedule.timezone;
    const sweepCron = this.scheme.source.reconciliation?.cron;
    let nextSweep = sweepCron ? nextCron(sweepCron, tz, this.clock.now()) : Infinity;
    const lookback = new Cadence(durationMs(this.scheme.source.cursor.lookbackInterval), this.clock.now());
    let lastCalls = 0;
    while (this.running) {
      if (!(await this.lease.tryAcquire().catch(() => false)) || !(await this.lease.stillHeld())) {
        this.setRole('standby');
        await this.sleep(interval);
        continue;
      }
      this.setRole('leader');
      const transfer = this.scheme.schedule.transferTime;
      if (transfer) {
        const at = nextCron(transfer, tz, this.clock.now() - 1000);
        if (at > this.clock.now()) {
          await this.sleep(Math.min(at - this.clock.now(), interval * 12));
          if (at > this.clock.now()) continue;
        }
      }
      try {
        const stats = await this.service.poll();
        lastCalls = stats?.httpCalls ?? 0;
        await this.service.processResyncRequests();
        this.failures = 0;
        this.hooks.onPoll?.(this.scheme.id, stats);
        // One background task at a time; a due one waits for the next poll after the running one ends.
        if (!this.background && this.clock.now() >= nextSweep) {
          nextSweep = nextCron(sweepCron!, tz, this.clock.now());
          this.runBeside('sweep', async () => {
            const swept = await this.service.sweep();
            if (swept)
              this.logger.info(
                { scheme: this.scheme.id, emitted: swept.emitted, fetched: swept.fetched },
                'reconciliation sweep done',
              );
          });
        }
        if (!this.background && lookback.due(this.clock.now())) {
          // Marked at the start: a failing lookback waits its interval too instead of running again at once.
          lookback.ran(this.clock.now());
          this.runBeside('lookback', () => this.service.lookback());
        }
      } catch (err) {
        this.failures += 1;
        const error = err as Error & { kind?: string };
        this.hooks.onError?.(this.scheme.id, error);
        const level = error.kind === 'auth' ? 'error' : 'warn';
        this.logger[level](
          { scheme: this.scheme.id, kind: error.kind, failures: this.failures, err: error.message },
          'poll failed',
        );
        // Doubling from twice the interval, at most 64 intervals or 5 minutes.
        const backoff = cappedExponentialDelay(interval * 2, Math.min(interval * 64, 5 * 60_000));
        await this.sleep(backoff(this.failures));
        continue;
      }
      await this.sleep(transfer ? 1000 : this.pauseAfter(lastCalls, interval));
    }
  }
}
