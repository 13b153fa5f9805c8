import { AppLogger, Clock, silentLogger, systemClock } from '@libs/common';
import { Alert, AlertChannel, AlertMessage, AlertTimers, systemTimers } from './alert.types';

export interface AlertNotifierOptions {
  /** Repeats of one key within this interval fold into one summary sent when it ends. */
  minIntervalMs: number;
  clock?: Clock;
  timers?: AlertTimers;
  logger?: AppLogger;
  /** How many folded items a summary lists by name (the rest are only counted). */
  maxSummaryItems?: number;
}

interface KeyWindow {
  alert: Alert;
  startedAt: number;
  folded: number;
  items: string[];
  timer: unknown;
}

/**
 * Sends alerts to every configured channel, rate-limited per alert key: the first occurrence goes
 * out at once and opens a window of `minIntervalMs`; repeats inside the window are only counted
 * (with a few named items) and sent as one summary when the window ends ("12 more records failed
 * in the last 5 min: …"), which opens the next window. An outage sends one alert plus one summary
 * per interval, not one per record. Sending never throws: failures are logged and dropped.
 */
export class AlertNotifier {
  private readonly windows = new Map<string, KeyWindow>();
  private readonly clock: Clock;
  private readonly timers: AlertTimers;
  private readonly logger: AppLogger;
  private readonly maxItems: number;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly channels: AlertChannel[],
    private readonly options: AlertNotifierOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? systemTimers;
    this.logger = options.logger ?? silentLogger;
    this.maxItems = options.maxSummaryItems ?? 10;
  }

  get channelNames(): string[] {
    return this.channels.map((c) => c.name);
  }

  /** Sends now, or counts the alert into its key's pending summary. Never throws. */
  notify(alert: Alert): void {
    const open = this.windows.get(alert.key);
    if (open) {
      open.folded += 1;
      open.alert = alert;
      if (alert.summary && open.items.length < this.maxItems) open.items.push(alert.summary.item);
      return;
    }
    this.openWindow(alert);
    this.dispatch({
      key: alert.key,
      severity: alert.severity,
      title: alert.title,
      text: alert.text,
      occurredAt: new Date(this.clock.now()).toISOString(),
    });
  }

  /** Resolves once every send started so far has finished (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Sends pending summaries now and stops all timers (shutdown). */
  async flush(): Promise<void> {
    for (const key of [...this.windows.keys()]) this.closeWindow(key, false);
    await this.settled();
  }

  private openWindow(alert: Alert): void {
    const window: KeyWindow = { alert, startedAt: this.clock.now(), folded: 0, items: [], timer: undefined };
    window.timer = this.timers.setTimeout(
      () => this.closeWindow(alert.key, true),
      this.options.minIntervalMs,
    );
    this.windows.set(alert.key, window);
  }

  /** Ends a key's window: sends its summary if anything was folded, and (if `reopen`) starts the next. */
  private closeWindow(key: string, reopen: boolean): void {
    const window = this.windows.get(key);
    if (!window) return;
    this.timers.clearTimeout(window.timer);
    this.windows.delete(key);
    if (window.folded === 0) return;
    const { alert } = window;
    const minutes = Math.max(1, Math.round((this.clock.now() - window.startedAt) / 60_000));
    const what = alert.summary?.what ?? `alerts "${alert.title}"`;
    const more = window.folded - window.items.length;
    const list = window.items.map((i) => `- ${i}`).join('\n');
    const text =
      `${window.folded} more ${what} in the last ${minutes} min` +
      (window.items.length > 0 ? `:\n${list}${more > 0 ? `\n- … and ${more} more` : ''}` : '.');
    if (reopen) this.openWindow(alert);
    this.dispatch({
      key,
      severity: alert.severity,
      title: `${alert.title} (+${window.folded})`,
      text,
      occurredAt: new Date(this.clock.now()).toISOString(),
      folded: window.folded,
    });
  }

  private dispatch(message: AlertMessage): void {
    if (this.channels.length === 0) {
      this.logger.warn({ alert: message.key, title: message.title }, 'alert (no channel configured)');
      return;
    }
    for (const channel of this.channels) {
      const sending = channel
        .send(message)
        .then(() => this.logger.info({ alert: message.key, channel: channel.name }, 'alert sent'))
        .catch((err: unknown) =>
          this.logger.error(
            { alert: message.key, channel: channel.name, err: (err as Error).message },
            'alert could not be sent',
          ),
        )
        .finally(() => this.inFlight.delete(sending));
      this.inFlight.add(sending);
    }
  }
}
