import {
  AuditEvent,
  AuditEventSchema,
  ContractViolationError,
  HEADER,
  RawStockoutEvent,
  RawStockoutEventSchema,
  validateEvent,
} from '@libs/contracts';

/** Which stream the tail follows: raw WDT stockout events or audit outcomes. */
export type TailKind = 'raw' | 'audit';

/** A Kafka message as the tail sees it (decoupled from the client library). */
export interface TailMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string | undefined>;
}

export interface FormatOptions {
  /** Append the raw event's WDT record (receiver_* fields masked) to the line. */
  showRecord?: boolean;
}

/** One output line: `out` for a valid event, `err` for a message that violates the contract. */
export type TailLine = { stream: 'out'; line: string } | { stream: 'err'; line: string };

const EXPECTED: Record<TailKind, { eventType: string; schemaVersion: string }> = {
  raw: { eventType: 'wdt.stockout-return.raw', schemaVersion: '1' },
  audit: { eventType: 'sync.audit', schemaVersion: '1' },
};

const MASK = '***';

/**
 * A deep copy with the value of every `receiver_*` key masked, at any depth: WDT records carry the
 * receiver's name, phones, address, area and zip (personal data). Empty values stay empty, so a
 * reader still sees which fields were filled.
 */
export function maskReceiverFields<T>(value: T): T {
  return mask(value) as T;
}

function mask(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(mask);
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        k.startsWith('receiver_') ? maskedValue(v) : mask(v),
      ]),
    );
  }
  return value;
}

function maskedValue(v: unknown): unknown {
  if (v === null || v === undefined || v === '') return v;
  return MASK;
}

/** Free text on one line: quoted and escaped when it has spaces, quotes or line breaks. */
function text(value: string): string {
  return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
}

function where(m: TailMessage): string {
  return `p${m.partition}@${m.offset}`;
}

export function formatRawEvent(e: RawStockoutEvent, m: TailMessage, options: FormatOptions = {}): string {
  const parts = [
    'raw',
    where(m),
    e.extractedAt,
    `order=${text(e.orderNo)}`,
    `trigger=${e.trigger}`,
    `scheme=${text(e.schemeId)}`,
    `eventId=${e.eventId}`,
  ];
  if (options.showRecord) parts.push(`record=${JSON.stringify(maskReceiverFields(e.record))}`);
  return parts.join('  ');
}

export function formatAuditEvent(e: AuditEvent, m: TailMessage): string {
  const parts = [
    'audit',
    where(m),
    e.occurredAt,
    `order=${text(e.sourceKey)}`,
    `${e.stage}/${e.status}`,
    `kingdee=${e.kingdeeNumber ? text(e.kingdeeNumber) : '-'}`,
  ];
  if (e.billKey) parts.push(`bill=${text(e.billKey)}`);
  if (e.attempts !== undefined) parts.push(`attempts=${e.attempts}`);
  if (e.reason) parts.push(`reason=${text(e.reason)}`);
  if (e.errorMessage)
    parts.push(`error=${text(e.errorField ? `${e.errorField}: ${e.errorMessage}` : e.errorMessage)}`);
  if (e.deadLetterId) parts.push(`deadLetter=${e.deadLetterId}`);
  return parts.join('  ');
}

function invalid(kind: TailKind, m: TailMessage, why: string): TailLine {
  return {
    stream: 'err',
    line: `INVALID ${kind} ${m.topic} ${where(m)} key=${m.key === null ? '-' : text(m.key)}: ${why}`,
  };
}

/**
 * Checks the headers, decodes and validates the value against the contract, and formats one line.
 * Never throws: a message that violates the contract becomes an `err` line naming what is wrong,
 * without echoing the message's content (it may hold personal data).
 */
export function describeMessage(kind: TailKind, m: TailMessage, options: FormatOptions = {}): TailLine {
  const expected = EXPECTED[kind];
  const eventType = m.headers[HEADER.eventType];
  const version = m.headers[HEADER.schemaVersion];
  if (eventType !== undefined && eventType !== expected.eventType)
    return invalid(kind, m, `header ${HEADER.eventType} is "${eventType}", expected "${expected.eventType}"`);
  if (version !== undefined && version !== expected.schemaVersion)
    return invalid(
      kind,
      m,
      `header ${HEADER.schemaVersion} is "${version}"; this consumer reads version ${expected.schemaVersion}`,
    );
  if (m.value === null || m.value.length === 0) return invalid(kind, m, 'empty value');
  let json: unknown;
  try {
    json = JSON.parse(m.value.toString('utf8'));
  } catch {
    // Not the parser's message: it quotes the offending text.
    return invalid(kind, m, 'value is not JSON');
  }
  try {
    if (kind === 'raw') {
      const event = validateEvent(RawStockoutEventSchema, json, 'raw stockout event');
      return { stream: 'out', line: formatRawEvent(event, m, options) };
    }
    const event = validateEvent(AuditEventSchema, json, 'audit event');
    return { stream: 'out', line: formatAuditEvent(event, m) };
  } catch (err) {
    if (!(err instanceof ContractViolationError)) throw err;
    const onlyUnknownFields = err.issues.every((i) => /unrecognized key/i.test(i));
    const hint = onlyUnknownFields
      ? ' (unknown fields: a newer producer added fields; rebuild with the current @libs/contracts)'
      : '';
    return invalid(kind, m, `${err.issues.slice(0, 5).join('; ')}${hint}`);
  }
}
