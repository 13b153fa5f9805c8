import pino, { DestinationStream, Logger } from 'pino';
import { redactDeep } from './log-redaction';

/**
 * The process's root logger: JSON lines, ISO time, the service's name on every line, and every
 * logged object passed through {@link redactDeep} first — secrets and personal data are blanked by
 * key name at any depth, errors included (see `REDACTED_KEYS`).
 */
export function createLogger(service: string, level = 'info', destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name: service,
    level,
    base: { service },
    formatters: { log: (object) => redactDeep(object) },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
