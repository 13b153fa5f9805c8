import { RawStockoutEvent } from '@libs/contracts';
import type { WdtSourcePage } from '@libs/wdt-client';
import { RecordSizeLimit } from './record-inspector';

/** The query the extractor sends to WDT. */
export interface SourceQuery {
  startTime: string;
  endTime: string;
  status?: string;
  warehouseNo?: string;
  /** One order by its number (WDT stockout_no). */
  stockoutNo?: string;
  pageSize?: number;
}

export interface SourceQueryOptions {
  order: 'last-first' | 'first-last';
  priority?: 'normal' | 'background';
  maxTotalCount?: number;
  /** The scheme the calls are for: its fair share of the WDT app key's calls (shared limits). */
  scheme?: string;
}

/**
 * One page of a window as it arrives. Declared once, by the WDT client that makes the pages
 * (`queryPages`): it cannot name this lib's types (the dependency runs from here to it).
 */
export type SourcePage = WdtSourcePage;

/** The query the extractor needs from WDT (the WDT client implements it). */
export interface StockoutSource {
  readonly gateway: 'native' | 'qimen';
  /** The window page by page, as each arrives (the extractor holds one page at a time). */
  queryPages(query: SourceQuery, options: SourceQueryOptions): AsyncIterable<SourcePage>;
  /** The whole window at once, de-duplicated (reconciliation, single-order fetches). */
  queryAll(
    query: SourceQuery,
    options: SourceQueryOptions,
  ): Promise<{
    records: Record<string, unknown>[];
    /** Every entry (also `null` or other non-objects) in page order, with page and position. */
    items: Array<{ record: unknown; pageNo: number; position: number }>;
    totalCount: number;
    totalCountChanged: boolean;
    httpCalls: number;
    pages: number;
    tooLarge?: boolean;
  }>;
}

export interface StoredFingerprint {
  orderNo: string;
  fingerprint: string;
}

export interface CursorState {
  axis: string;
  cursorValue: string;
  paused: boolean;
  sweepValue: string | null;
}

/** An order the extractor published: what its fingerprint row records. */
export interface EmittedOrder {
  orderNo: string;
  fingerprint: string;
  modified: string | null;
  consignTime: string | null;
}

/** Durable extractor state (Postgres in production). */
export interface ExtractionStore {
  getCursor(schemeId: string): Promise<CursorState | undefined>;
  getFingerprints(schemeId: string, orderNos: string[]): Promise<Map<string, string>>;
  /**
   * One transaction: the fingerprints of what was emitted and (optionally) the new cursor. Called
   * only after Kafka acknowledged every emitted record.
   */
  commitWindow(
    schemeId: string,
    emitted: EmittedOrder[],
    cursor?: { axis: string; value: string },
    sweepValue?: string,
  ): Promise<void>;
  /**
   * The outcome of a poll for operators (`lastError`). `start`: the cursor row to create when the
   * scheme has none yet (a first poll that fails must still show why).
   */
  recordRun(
    schemeId: string,
    outcome: { ok: boolean; error?: string },
    start?: { axis: string; cursorValue: string },
  ): Promise<void>;
  /** Where and when an order was last seen (from its stored fingerprint), to aim a resync window. */
  knownOrder(
    schemeId: string,
    orderNo: string,
  ): Promise<{ consignTime: string | null; modified: string | null } | undefined>;
  /** Pending resync requests of a scheme, claimed for this caller (others skip them). */
  takeResyncRequests(
    schemeId: string,
    limit: number,
  ): Promise<Array<{ id: string; orderNo: string; trigger?: 'resync' | 'repush' }>>;
  completeResync(id: string, state: 'done' | 'not_found' | 'failed', result: string): Promise<void>;
}

/** Where a raw event's record sat in its window's pages. */
export interface RecordLocation {
  pageNo: number;
  position: number;
}

/** A WDT record that cannot go downstream, with where it was found and its best identifier. */
export interface MalformedRecord {
  record: unknown;
  /** Names the problem, the window (start – end), page and position. */
  error: Error;
  schemeId: string;
  window: { start: string; end: string };
  pageNo: number;
  position: number;
  /** Order number, else `stockout:<id>`, else `hash:<sha256 prefix>` (see RecordInspector). */
  sourceKey: string;
}

/** Where raw events go (the raw topic) and where unusable source records are parked. */
export interface RawEventSink {
  /** The size limit of a raw event, when the sink has one (records over it are parked, not sent). */
  readonly sizeLimit?: RecordSizeLimit;
  /** `locate` names where an event's record was found, for the message of one parked as too large. */
  publish(
    events: RawStockoutEvent[],
    locate?: (event: RawStockoutEvent) => RecordLocation | undefined,
  ): Promise<void>;
  parkMalformed(items: MalformedRecord[]): Promise<void>;
}
