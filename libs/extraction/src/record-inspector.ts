import { createHash } from 'node:crypto';
import { normalizeStockout, WdtRecordError } from '@libs/wdt-client';

/** One entry of a window's pages and where it was found. */
export interface LocatedRecord {
  /** Exactly as received (a bad page may hold `null` or another non-object). */
  record: unknown;
  pageNo: number;
  /** Index in its page's list. */
  position: number;
  /** The warehouse filter of the query that returned it, when the scheme filters by warehouse. */
  warehouseNo?: string;
}

export type Inspection =
  | { ok: true; orderNo: string; record: Record<string, unknown>; stockoutId?: string }
  | {
      ok: false;
      /** What is wrong, naming ids and fields, never personal data. */
      problem: string;
      /**
       * The best identifier the record has — its order number, else `stockout:<stockout_id>`, else
       * `hash:<sha256 prefix>` — never a position that another window reuses.
       */
      sourceKey: string;
      stockoutId?: string;
    };

export type InspectedRecord = LocatedRecord & Inspection;

/** The size a raw event may have on the raw topic and where that limit comes from. */
export interface RecordSizeLimit {
  /** Largest serialised raw event the producer accepts. */
  maxEventBytes: number;
  /** Where the limit comes from, for messages (e.g. "KAFKA_MAX_MESSAGE_BYTES=1048576 less 1024 bytes of headroom"). */
  source: string;
}

/** Room left in a raw event for everything around the record (ids, window, fingerprint …). */
export const RAW_EVENT_ENVELOPE_BYTES = 2048;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const idOf = (value: unknown): string | undefined =>
  (typeof value === 'string' && value.trim() !== '') || typeof value === 'number'
    ? String(value).trim()
    : undefined;

const sha16 = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

/**
 * Decides whether one WDT record can go downstream: it must be an object with an order number, pass
 * the stockout schema (the fields the integration relies on, typed) and fit a raw event. Anything else
 * is malformed and gets the best identifier it has. One class, one question: "is this record usable?"
 */
export class RecordInspector {
  constructor(private readonly sizeLimit?: RecordSizeLimit) {}

  inspect(item: LocatedRecord, window: { start: string; end: string }): InspectedRecord {
    return { ...item, ...this.verdict(item, window) };
  }

  private verdict(item: LocatedRecord, window: { start: string; end: string }): Inspection {
    const { record } = item;
    if (!isObject(record)) {
      const what = record === null ? 'null' : Array.isArray(record) ? 'an array' : `a ${typeof record}`;
      return {
        ok: false,
        problem: `WDT record is ${what}, not an object`,
        sourceKey: RecordInspector.sourceKeyOf(record, item, window),
      };
    }
    const stockoutId = idOf(record.stockout_id);
    const orderNo = idOf(record.order_no);
    const sourceKey = RecordInspector.sourceKeyOf(record, item, window);
    const label = `WDT record (stockout_id ${stockoutId ?? '?'}, order_no ${orderNo ?? '?'})`;
    if (orderNo === undefined || typeof record.order_no !== 'string') {
      return {
        ok: false,
        problem: `WDT record (stockout_id ${stockoutId ?? '?'}) has no order_no`,
        sourceKey,
        stockoutId,
      };
    }
    try {
      normalizeStockout(record);
    } catch (error) {
      if (!(error instanceof WdtRecordError)) throw error;
      return { ok: false, problem: error.message, sourceKey, stockoutId };
    }
    if (this.sizeLimit) {
      const bytes = Buffer.byteLength(JSON.stringify(record));
      const budget = this.sizeLimit.maxEventBytes - RAW_EVENT_ENVELOPE_BYTES;
      if (bytes > budget)
        return {
          ok: false,
          problem:
            `${label} is ${bytes} bytes as JSON; with its event envelope (up to ${RAW_EVENT_ENVELOPE_BYTES} bytes) ` +
            `that is over the ${this.sizeLimit.maxEventBytes}-byte limit of a raw event (${this.sizeLimit.source})`,
          sourceKey,
          stockoutId,
        };
    }
    return { ok: true, orderNo, record, stockoutId };
  }

  /**
   * Order number, else `stockout:<id>`, else `hash:` of the record JSON. Something that is not an object
   * has no content of its own (every `null` is alike), so its hash also covers the window and place.
   */
  static sourceKeyOf(
    record: unknown,
    where: Omit<LocatedRecord, 'record'>,
    window: { start: string; end: string },
  ): string {
    if (isObject(record)) {
      const orderNo = typeof record.order_no === 'string' ? idOf(record.order_no) : undefined;
      if (orderNo) return orderNo;
      const stockoutId = idOf(record.stockout_id);
      if (stockoutId) return `stockout:${stockoutId}`;
      return `hash:${sha16(JSON.stringify(record))}`;
    }
    const place = `${window.start}~${window.end}|${where.warehouseNo ?? ''}|${where.pageNo}:${where.position}`;
    return `hash:${sha16(`${JSON.stringify(record) ?? 'undefined'}@${place}`)}`;
  }
}
