import { DataSource } from 'typeorm';
import { AppLogger, Clock, silentLogger, systemClock } from '@libs/common';
import { AuditEvent } from '@libs/contracts';
import { AlertNotifier } from './alert-notifier.service';
import { AlertTimers, systemTimers } from './alert.types';

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface AlertMonitorOptions {
  /** A non-paused scheme whose last successful poll is older than this is lagging. */
  lagThresholdMs: number;
  /** The service whose circuit is reported (alert key `circuit_open:<service>`). */
  service?: string;
  clock?: Clock;
  timers?: AlertTimers;
  logger?: AppLogger;
}

/** A code orders wait for in Kingdee's base data (the loader's base-data checker reports them). */
export interface BaseDataWaitingCode {
  code: string;
  /** `supplier GYS999 does not exist in Kingdee` */
  diagnosis: string;
  orders: readonly unknown[];
}

export interface LaggingScheme {
  schemeId: string;
  lagMs: number;
  lastSuccessAt: Date | null;
  lastError: string | null;
}

const ALERTING_STATUSES = new Set(['failed', 'dead_lettered', 'conflict_in_erp', 'duplicate_in_erp']);

/** Titles per alerting status: what happened, in the words an operator acts on. */
const TITLES: Record<string, (order: string, scheme: string, stage: string) => string> = {
  failed: (o, s) => `Order ${o} failed to load (${s})`,
  dead_lettered: (o, s, stage) => `Order ${o} dead-lettered at ${stage} (${s})`,
  conflict_in_erp: (o, s) => `Order ${o}: a different bill with its key is in Kingdee (${s})`,
  duplicate_in_erp: (o, s) => `Order ${o}: several bills with its key are in Kingdee (${s})`,
};

/** Markdown-safe one-liner: no newlines, bounded length. */
function oneLine(text: string | undefined, max = 300): string {
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function minutes(ms: number): string {
  return `${Math.round(ms / 60_000)} min`;
}

/**
 * Turns what the services see into alerts: failed / dead-lettered orders (audit events), the
 * loader's Kingdee circuit opening and closing, and schemes whose extraction lags. Everything goes
 * through the notifier's per-key rate limiting, so a burst becomes one alert plus a summary.
 * Audit events carry no personal data (order numbers, Kingdee's message), so alerts carry none.
 */
export class AlertMonitor {
  private readonly clock: Clock;
  private readonly timers: AlertTimers;
  private readonly logger: AppLogger;
  private readonly service: string;
  private circuitOpen = false;
  private lagTimer: unknown;
  private lagCheck?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly notifier: AlertNotifier,
    private readonly options: AlertMonitorOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? systemTimers;
    this.logger = options.logger ?? silentLogger;
    this.service = options.service ?? 'loader';
  }

  /** Alerts on every failed or dead-lettered order (keys `failed:<schemeId>`, `dead_lettered:<schemeId>`). */
  onAuditEvents(events: readonly AuditEvent[]): void {
    for (const e of events) {
      if (!ALERTING_STATUSES.has(e.status)) continue;
      const failed = e.status === 'failed';
      const message = oneLine(e.errorMessage ?? e.reason) || '(no message)';
      const field = e.errorField ? ` (field ${oneLine(e.errorField, 80)})` : '';
      const item = `${e.sourceKey}: ${message}${field}`;
      const lines = [
        `**Order** ${e.sourceKey}`,
        `**Scheme** ${e.schemeId}`,
        `**Stage** ${e.stage}`,
        `**${failed ? 'Kingdee says' : 'Error'}** ${message}${field}`,
      ];
      if (e.errorClass) lines.push(`**Error class** ${oneLine(e.errorClass, 80)}`);
      if (e.deadLetterId) lines.push(`**Dead letter** ${e.deadLetterId} (re-push: POST /api/repush)`);
      else if (failed)
        lines.push('Fix the cause, then request a resync: POST /api/repush {"orderNos": [...]}');
      if (e.status === 'conflict_in_erp' || e.status === 'duplicate_in_erp')
        lines.push(
          'The loader will not write this order again: a person decides which bill stays in Kingdee.',
        );
      this.notifier.notify({
        key: `${e.status}:${e.schemeId}`,
        severity: failed ? 'warning' : 'critical',
        title: TITLES[e.status](e.sourceKey, e.schemeId, e.stage),
        text: lines.join('\n\n'),
        summary: { what: `records ${e.status.replace(/_/g, ' ')}`, item },
      });
    }
  }

  /** Alerts when the circuit opens; sends a recovery note when it closes after an open. */
  onCircuitState(state: CircuitState, lastError?: string | null): void {
    if (state === 'open') {
      this.circuitOpen = true;
      this.notifier.notify({
        key: `circuit_open:${this.service}`,
        severity: 'critical',
        title: `Kingdee circuit open: ${this.service} paused loading`,
        text:
          `Kingdee is failing as a whole (down, auth or throttled); documents of its schemes are parked ` +
          `in Postgres (nothing fails) and a probe is retried periodically.\n\n**Last error** ${oneLine(lastError ?? undefined) || '(unknown)'}`,
        summary: {
          what: 'circuit openings',
          item: oneLine(lastError ?? undefined, 200) || '(unknown error)',
        },
      });
    } else if (state === 'closed' && this.circuitOpen) {
      this.circuitOpen = false;
      this.notifier.notify({
        key: `circuit_closed:${this.service}`,
        severity: 'info',
        title: `Kingdee circuit closed: ${this.service} loading again`,
        text: 'A call to Kingdee succeeded; loading has resumed.',
        summary: { what: 'recoveries', item: new Date(this.clock.now()).toISOString() },
      });
    }
  }

  /**
   * Orders waiting for base data in Kingdee: one alert (key `base_data_waiting:<service>`) listing
   * every code and how many orders it blocks; repeats fold into the interval's summary.
   */
  onBaseDataWaiting(codes: readonly BaseDataWaitingCode[]): void {
    if (codes.length === 0) return;
    const orders = codes.reduce((n, c) => n + c.orders.length, 0);
    const lines = codes.map(
      (c) => `- ${oneLine(c.diagnosis, 200)}: ${c.orders.length} order${c.orders.length === 1 ? '' : 's'}`,
    );
    this.notifier.notify({
      key: `base_data_waiting:${this.service}`,
      severity: 'warning',
      title: `${orders} order${orders === 1 ? '' : 's'} wait for base data in Kingdee (${codes.length} code${codes.length === 1 ? '' : 's'})`,
      text:
        `Kingdee refused these orders only because of base data; they load by themselves once the codes are usable ` +
        `(created, allocated to the organisation, enabled and audited in Kingdee). Check now: POST /api/base-data/check; ` +
        `list: GET /api/base-data/waiting.\n\n${lines.join('\n')}`,
      summary: {
        what: 'base-data reports',
        item: codes.map((c) => `${c.code} (${c.orders.length})`).join(', '),
      },
    });
  }

  /** A scheme the loader stopped itself (e.g. a numbering rule replaced its FBillNo key). */
  onSchemeStopped(schemeId: string, reason: string): void {
    this.notifier.notify({
      key: `scheme_stopped:${schemeId}`,
      severity: 'critical',
      title: `Loading of scheme ${schemeId} stopped`,
      text: `${oneLine(reason, 1000)}\n\nIts documents are parked; resume the scheme (POST /api/schemes/${schemeId}/resume) once fixed.`,
      summary: { what: 'scheme stops', item: schemeId },
    });
  }

  /**
   * Reads sync_cursors and alerts (key `lag:<schemeId>`) for every non-paused scheme whose last
   * successful poll (or, never successful, its cursor row's last update) is older than the threshold.
   */
  async checkLag(ds: DataSource): Promise<LaggingScheme[]> {
    const rows: Array<{
      scheme_id: string;
      last_success_at: Date | null;
      last_error: string | null;
      since: Date;
      // Raw: a computed column (COALESCE of two times) read in one statement.
    }> = await ds.query(
      `SELECT scheme_id, last_success_at, last_error, COALESCE(last_success_at, updated_at) AS since
         FROM sync_cursors WHERE paused = false ORDER BY scheme_id`,
    );
    const now = this.clock.now();
    const lagging: LaggingScheme[] = [];
    for (const row of rows) {
      const lagMs = now - new Date(row.since).getTime();
      if (lagMs <= this.options.lagThresholdMs) continue;
      lagging.push({
        schemeId: row.scheme_id,
        lagMs,
        lastSuccessAt: row.last_success_at,
        lastError: row.last_error,
      });
      const last = row.last_success_at
        ? `last successful poll ${new Date(row.last_success_at).toISOString()}`
        : 'no successful poll yet';
      this.notifier.notify({
        key: `lag:${row.scheme_id}`,
        severity: 'warning',
        title: `Extraction lagging ${minutes(lagMs)}: ${row.scheme_id}`,
        text:
          `Scheme ${row.scheme_id}: ${last} (threshold ${minutes(this.options.lagThresholdMs)}).` +
          (row.last_error ? `\n\n**Last error** ${oneLine(row.last_error)}` : ''),
        summary: { what: `lag checks found ${row.scheme_id} lagging`, item: `${minutes(lagMs)} behind` },
      });
    }
    return lagging;
  }

  /** Runs `checkLag` every `intervalMs` until `stop()`; a failing check is logged, never thrown. */
  startLagChecks(ds: DataSource, intervalMs: number): void {
    const tick = () => {
      if (this.stopped) return;
      this.lagCheck = this.checkLag(ds)
        .then(() => undefined)
        .catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'lag check failed'))
        .finally(() => {
          if (!this.stopped) this.lagTimer = this.timers.setTimeout(tick, intervalMs);
        });
    };
    this.stopped = false;
    this.lagTimer = this.timers.setTimeout(tick, intervalMs);
  }

  /** Resolves once a running lag check and every alert send started so far have finished. */
  async settled(): Promise<void> {
    await this.lagCheck;
    await this.notifier.settled();
  }

  /** Stops lag checks and sends pending summaries (call on shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.lagTimer !== undefined) this.timers.clearTimeout(this.lagTimer);
    await this.lagCheck;
    await this.notifier.flush();
  }
}
