import { AppLogger, silentLogger } from '@libs/common';
import { setConnectionUp } from '@libs/metrics';
import { ConnectionKind } from './connection-test.util';

/** Where the recorder writes: one service instance's status rows by key. */
export interface StatusRows {
  put(key: string, value: object): Promise<void>;
}

/** service_status key of a connection's health: `connection:wdt:shop-a`. */
export function connectionStatusKey(kind: ConnectionKind, name: string): string {
  return `connection:${kind}:${name}`;
}

/** What a service reports per connection (service_status value). Times are ISO strings. */
export interface ConnectionStatusValue {
  ok: boolean;
  lastError: string | null;
  /** The latest outcome seen (written at most every `refreshMs` while nothing changes). */
  checkedAt: string;
  /** Since when `ok` has had its value. */
  since: string;
}

interface Entry {
  /** Failing sources (a scheme, `login`, `circuit`) and their error. */
  failing: Map<string, string>;
  value?: ConnectionStatusValue;
  writtenAt: number;
}

/**
 * A connection's health as one service instance sees it, from its own calls: a connection is ok when
 * no source (a scheme polling it, the login check, the circuit) currently fails on it; `lastError` is
 * the newest failure. Written to service_status on every change and refreshed every `refreshMs`.
 */
export class ConnectionStatusRecorder {
  private readonly entries = new Map<string, Entry>();
  private writes: Promise<void> = Promise.resolve();
  private readonly logger: AppLogger;

  constructor(
    /** This instance's service_status rows (a ServiceStatusStore in the services). */
    private readonly status: StatusRows,
    options: { logger?: AppLogger; refreshMs?: number; now?: () => number } = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.refreshMs = options.refreshMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  private readonly refreshMs: number;
  private readonly now: () => number;

  /** One outcome on `name` from `source`: `error` null = it worked. */
  report(kind: ConnectionKind, name: string, source: string, error: string | null): void {
    const key = connectionStatusKey(kind, name);
    const entry = this.entries.get(key) ?? { failing: new Map<string, string>(), writtenAt: 0 };
    this.entries.set(key, entry);
    if (error === null) entry.failing.delete(source);
    else {
      entry.failing.delete(source);
      entry.failing.set(source, error);
    }
    const now = this.now();
    const at = new Date(now).toISOString();
    const ok = entry.failing.size === 0;
    const lastError = ok ? (entry.value?.lastError ?? null) : [...entry.failing.values()].at(-1)!;
    const previous = entry.value;
    const changed = !previous || previous.ok !== ok || (!ok && previous.lastError !== lastError);
    entry.value = {
      ok,
      lastError,
      checkedAt: at,
      since: previous && previous.ok === ok ? previous.since : at,
    };
    setConnectionUp(kind, name, ok);
    if (!changed && now - entry.writtenAt < this.refreshMs) return;
    entry.writtenAt = now;
    this.write(key, entry.value);
  }

  /** Pending writes done. */
  flush(): Promise<void> {
    return this.writes;
  }

  private write(key: string, value: ConnectionStatusValue): void {
    this.writes = this.writes.then(() =>
      this.status
        .put(key, value)
        .catch((err: Error) => this.logger.warn({ err: err.message }, 'could not record connection status')),
    );
  }
}
