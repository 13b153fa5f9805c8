import { AppLogger, LogFn, silentLogger } from '@libs/common';

type Bindable = AppLogger & {
  child?: (bindings: Record<string, unknown>) => AppLogger;
  isLevelEnabled?: (level: string) => boolean;
};

/**
 * A logger for lines about one order: every line carries `orderNo` and `correlationId` (the order
 * number, as in the `correlation-id` Kafka header and the audit trail), so one search follows an order
 * through extractor, transformer and loader. A pino logger gets a child; any other `AppLogger` is
 * wrapped. Log identifiers and reasons only — never the record (receiver data is personal).
 */
export function orderLogger(logger: AppLogger, orderNo: string | null | undefined): AppLogger {
  if (typeof orderNo !== 'string' || orderNo === '') return logger;
  const bindings = { orderNo, correlationId: orderNo };
  const bindable = logger as Bindable;
  if (typeof bindable.child === 'function') return bindable.child(bindings);
  const wrap =
    (fn: LogFn): LogFn =>
    (objOrMsg: Record<string, unknown> | string, msg?: string) =>
      typeof objOrMsg === 'string' ? fn({ ...bindings }, objOrMsg) : fn({ ...bindings, ...objOrMsg }, msg);
  return {
    debug: wrap(logger.debug.bind(logger)),
    info: wrap(logger.info.bind(logger)),
    warn: wrap(logger.warn.bind(logger)),
    error: wrap(logger.error.bind(logger)),
  };
}

/** False when the logger says debug is off (pino) or is the silent one; lets hot paths skip per-record debug lines. */
export function isDebugEnabled(logger: AppLogger): boolean {
  if (logger === silentLogger) return false;
  const bindable = logger as Bindable;
  return typeof bindable.isLevelEnabled === 'function' ? bindable.isLevelEnabled('debug') : true;
}
