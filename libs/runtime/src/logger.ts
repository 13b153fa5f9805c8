import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';

/**
 * Paths pino blanks before a line is written: credentials anywhere in a log object, and the
 * personal data of WDT orders (receiver name, phones, address) should a record ever be logged.
 */
export const REDACT_PATHS = [
  '*.password',
  '*.appsecret',
  '*.appSecret',
  '*.secret',
  '*.sign',
  '*.sessionId',
  '*.cookie',
  '*.authorization',
  'password',
  'appsecret',
  'appSecret',
  'secret',
  'sessionId',
  'DATABASE_URL',
  'KINGDEE_PASSWORD',
  'KINGDEE_APP_SECRET',
  'WDT_APPSECRET',
  'WDT_QIMEN_APP_SECRET',
  'KAFKA_SASL_PASSWORD',
  '*.receiver_name',
  '*.receiver_mobile',
  '*.receiver_telno',
  '*.receiver_address',
  '*.receiver_area',
  '*.receiver_zip',
  'record.receiver_name',
  'record.receiver_mobile',
  'record.receiver_telno',
  'record.receiver_address',
  'record.receiver_area',
  'record.receiver_zip',
];

export function createLogger(service: string, level = 'info'): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}

/** Routes Nest's own log lines through pino, so every line is structured JSON. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
