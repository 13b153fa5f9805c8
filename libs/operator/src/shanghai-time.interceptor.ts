import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { map, Observable } from 'rxjs';
import { formatShanghaiIso } from '@libs/common';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
/** Stored documents shown as received (an audit event, a dead letter's bytes): never rewritten. */
const VERBATIM = new Set(['event', 'data', 'json']);

/**
 * Every time in a response as Shanghai ISO 8601 (`2026-12-04T19:20:00.000+08:00`): Date values
 * and ISO UTC strings, at any depth, except inside stored documents. Streams and other non-plain
 * values pass untouched.
 */
export function toShanghaiTimes(value: unknown): unknown {
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? value : formatShanghaiIso(value.getTime());
  if (typeof value === 'string') return ISO_UTC.test(value) ? formatShanghaiIso(Date.parse(value)) : value;
  if (Array.isArray(value)) return value.map(toShanghaiTimes);
  if (value === null || typeof value !== 'object') return value;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, VERBATIM.has(k) ? v : toShanghaiTimes(v)]),
  );
}

/** The operator API's one place for output times (requests: see `operator-api.schema.ts`). */
@Injectable()
export class ShanghaiTimeInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map(toShanghaiTimes));
  }
}
