/**
 * The logging surface libraries depend on. pino's Logger satisfies it, so services pass their pino
 * instance; tests pass `silentLogger`. Callers must never put secrets or personal data in `obj`.
 */
export interface LogFn {
  (obj: Record<string, unknown>, msg?: string): void;
  (msg: string): void;
}

export interface AppLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const noop = (() => undefined) as LogFn;
export const silentLogger: AppLogger = { debug: noop, info: noop, warn: noop, error: noop };
