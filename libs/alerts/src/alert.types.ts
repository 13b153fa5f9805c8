/** One alert. Markdown `text` is rendered by DingTalk/WeCom; the webhook receives it as is. */
export interface Alert {
  /** Rate-limit key, e.g. `circuit_open:loader`, `failed:<schemeId>`, `lag:<schemeId>`. */
  key: string;
  severity: 'critical' | 'warning' | 'info';
  title: string;
  text: string;
  /**
   * How repeats fold into the summary sent at the end of the interval:
   * "`count` more `what` in the last 5 min: `item`; `item`; …".
   */
  summary?: { what: string; item: string };
}

/** What a channel receives: the alert, or a summary of folded repeats. */
export interface AlertMessage {
  key: string;
  severity: Alert['severity'];
  title: string;
  text: string;
  occurredAt: string;
  /** For a summary: how many occurrences it stands for. */
  folded?: number;
}

/** A destination (webhook, DingTalk robot, WeCom robot). `send` rejects on any failure. */
export interface AlertChannel {
  readonly name: string;
  send(message: AlertMessage): Promise<void>;
}

/** Timers behind an interface, so rate limiting is tested without waiting. */
export interface AlertTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: AlertTimers = {
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    // An alert summary never keeps a process alive that is otherwise done.
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class AlertDeliveryError extends Error {
  override readonly name = 'AlertDeliveryError';
}
