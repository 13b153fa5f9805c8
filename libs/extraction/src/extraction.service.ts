import {
  AppLogger,
  Clock,
  clusterByTime,
  formatShanghai,
  parseShanghai,
  REREAD_CLUSTER_SPAN_MS,
  silentLogger,
} from '@libs/common';
import { RawStockoutEvent } from '@libs/contracts';
import { deterministicUuid } from '@libs/kafka';
import {
  countError,
  countLateRecords,
  countRecords,
  isDebugEnabled,
  observeBatchSize,
  orderLogger,
  recordExtractorCursor,
} from '@libs/metrics';
import { durationMs, pageSizeOf, Scheme } from '@libs/scheme';
import { ExtractionStore, MalformedRecord, RawEventSink, StockoutSource } from './extraction.ports';
import { fingerprintRecord } from './fingerprint.util';
import { InspectedRecord, RecordInspector } from './record-inspector';
import { RereadHealer } from './reread-healer';
import { describeSourceError } from './source-error.util';
import { PlannedWindow, planWindows } from './window-planner';

export type Axis = 'consign_time' | 'modified';
export type Trigger = 'poll' | 'sweep' | 'backfill' | 'resync' | 'repush';

export interface WindowStats {
  window: PlannedWindow;
  fetched: number;
  emitted: number;
  /** Order numbers emitted. */
  emittedKeys?: string[];
  unchanged: number;
  parked: number;
  httpCalls: number;
  pages: number;
}

export interface RunStats {
  windows: WindowStats[];
  fetched: number;
  emitted: number;
  /**
   * Order numbers emitted: every one for a targeted read (`only`: resync, re-push), else the first
   * `EMITTED_KEYS_SAMPLE` (for logs). A backfill of a million orders must not hold a million keys.
   */
  emittedKeys?: string[];
  unchanged: number;
  parked: number;
  httpCalls: number;
}

/** Emitted order numbers a run keeps when it is not a targeted read (a sample for logs). */
const EMITTED_KEYS_SAMPLE = 20;

export interface ExtractionContext {
  sid: string;
  method: string;
  /** The scheme's WDT connection (`source.connection`), named in every raw event. */
  connection?: string;
}

const DEFAULT_INITIAL_LOOKBACK_MS = 7 * 86_400_000;
/** Bounds the extractor's memory (about 5 KB per record held): see docs/benchmarks.md. */
export const DEFAULT_MAX_RECORDS_PER_WINDOW = 2000;
/** A window whose total_count moved while paging is read again, up to this many times. */
const MAX_WINDOW_REREADS = 3;
/** Re-reads of a window holding malformed records before they are parked (EXTRACTOR_RECORD_REREADS). */
export const DEFAULT_RECORD_REREADS = 1;

/** The time axis a scheme's query filters on (WDT: status absent or ≥ 95 → consign time). */
export function axisFor(scheme: Scheme): Axis {
  const configured = scheme.source.cursor.axis;
  if (configured !== 'auto') return configured;
  const status = scheme.source.filters.status;
  return status === undefined || Number(status) >= 95 ? 'consign_time' : 'modified';
}

/**
 * Incremental extraction of one scheme: plan windows from the durable cursor, read each window page by
 * page, emit each page's new or changed records to the raw topic as the page arrives, and only after
 * Kafka acknowledged every event of the window write fingerprints and cursor in one transaction. A
 * crash in between re-reads the window on restart: duplicates on the raw topic are possible, losses
 * are not. The frequent poll reads from cursor − overlap; the lookback re-read (`lookback()`, on its
 * own cadence, background priority) covers cursor − lookback and counts what it finds late.
 */
export class ExtractionService {
  constructor(
    private readonly scheme: Scheme,
    private readonly source: StockoutSource,
    private readonly store: ExtractionStore,
    private readonly sink: RawEventSink,
    private readonly clock: Clock,
    private readonly context: ExtractionContext,
    private readonly logger: AppLogger = silentLogger,
    /** Records one window may hold in memory; a bigger window is halved until it fits. */
    private readonly maxRecordsPerWindow = DEFAULT_MAX_RECORDS_PER_WINDOW,
    /** Times a window with malformed records is read again before they are parked (at least 1). */
    private readonly recordRereads = DEFAULT_RECORD_REREADS,
  ) {
    this.inspector = new RecordInspector(sink.sizeLimit);
  }

  private readonly inspector: RecordInspector;
  private readonly healer = new RereadHealer();

  get schemeId(): string {
    return this.scheme.id;
  }

  /** One incremental poll. Returns undefined when the scheme is paused. */
  async poll(): Promise<RunStats | undefined> {
    const cursor = await this.store.getCursor(this.scheme.id);
    const axis = axisFor(this.scheme);
    const current = cursor?.axis === axis ? cursor.cursorValue : undefined;
    this.recordCursor(current);
    if (cursor?.paused) return undefined;
    const windows = planWindows({
      cursor: current,
      initial: this.initialCursor(),
      lookbackMs: durationMs(this.scheme.source.cursor.overlap),
      safetyLagMs: durationMs(this.scheme.source.cursor.safetyLag),
      maxWindowMs: durationMs(this.scheme.source.cursor.maxWindow),
      nowMs: this.clock.now(),
    });
    try {
      const stats = await this.readWindows(windows, 'poll', { advanceCursor: true });
      this.recordCursor(windows.at(-1)?.end);
      await this.store.recordRun(this.scheme.id, { ok: true });
      return stats;
    } catch (err) {
      countError('extractor', err);
      await this.store
        .recordRun(
          this.scheme.id,
          { ok: false, error: describeSourceError(err) },
          current === undefined ? { axis, cursorValue: this.initialCursor() } : undefined,
        )
        .catch(() => undefined);
      throw err;
    }
  }

  /**
   * The lookback re-read: [cursor − lookback, cursor − overlap] (the frequent poll covers the rest) at
   * background priority, without moving the cursor. What it emits — new or changed against the stored
   * fingerprints, so not emitted by a poll — was written late; it is counted in
   * `extractor_late_records_total{scheme}`. Undefined when paused, before the first poll, or when the
   * lookback is no deeper than the overlap.
   */
  async lookback(): Promise<RunStats | undefined> {
    const cursor = await this.store.getCursor(this.scheme.id);
    const axis = axisFor(this.scheme);
    if (!cursor || cursor.paused || cursor.axis !== axis) return undefined;
    const cursorMs = parseShanghai(cursor.cursorValue);
    const { lookback, overlap, maxWindow } = this.scheme.source.cursor;
    const depthMs = durationMs(lookback);
    const overlapMs = durationMs(overlap);
    if (cursorMs === undefined || depthMs <= overlapMs) return undefined;
    const windows = planWindows({
      cursor: undefined,
      initial: formatShanghai(cursorMs - depthMs),
      lookbackMs: 0,
      safetyLagMs: 0,
      maxWindowMs: durationMs(maxWindow),
      nowMs: cursorMs - overlapMs,
    });
    const stats = await this.readWindows(windows, 'poll', { advanceCursor: false, background: true });
    if (stats.emitted > 0) {
      countLateRecords(this.scheme.id, stats.emitted);
      this.logger.info(
        { scheme: this.scheme.id, late: stats.emitted, orders: stats.emittedKeys?.slice(0, 20) },
        'lookback re-read found records the frequent poll had missed (written late)',
      );
    } else countLateRecords(this.scheme.id, 0);
    return stats;
  }

  /**
   * Reconciliation sweep: re-reads the trailing period at background priority and emits only what
   * changed — catches late edits to orders whose window the cursor has long passed.
   */
  async sweep(): Promise<RunStats | undefined> {
    const reconciliation = this.scheme.source.reconciliation;
    const cursor = await this.store.getCursor(this.scheme.id);
    if (!reconciliation || cursor?.paused) return undefined;
    const now = this.clock.now();
    const windows = planWindows({
      cursor: undefined,
      initial: formatShanghai(now - durationMs(reconciliation.period)),
      lookbackMs: 0,
      safetyLagMs: durationMs(this.scheme.source.cursor.safetyLag),
      maxWindowMs: durationMs(this.scheme.source.cursor.maxWindow),
      nowMs: now,
    });
    return this.readWindows(windows, 'sweep', { advanceCursor: false, background: true });
  }

  /** Re-reads [from, to] (Shanghai wall-clock) without moving the cursor. */
  async backfill(
    from: string,
    to: string,
    options: {
      force?: boolean;
      trigger?: Trigger;
      /** Emit only these orders (resync, re-push). */
      only?: string | ReadonlySet<string>;
      onWindow?: (s: WindowStats, done: number, total: number) => void;
      /** Stops between windows (what was read and emitted so far stays committed). */
      signal?: AbortSignal;
    } = {},
  ): Promise<RunStats> {
    const toMs = parseShanghai(to);
    if (toMs === undefined || parseShanghai(from) === undefined)
      throw new Error(`backfill: --from/--to must be "yyyy-MM-dd HH:mm:ss" (got "${from}", "${to}")`);
    const windows = planWindows({
      cursor: undefined,
      initial: from,
      lookbackMs: 0,
      safetyLagMs: 0,
      maxWindowMs: durationMs(this.scheme.source.cursor.maxWindow),
      nowMs: toMs + 1000,
    });
    return this.readWindows(windows, options.trigger ?? 'backfill', {
      advanceCursor: false,
      background: true,
      force: options.force,
      only: options.only,
      onWindow: options.onWindow,
      signal: options.signal,
    });
  }

  /**
   * Carries out pending resync requests (operator API, CLI, re-push of failed orders): re-fetches
   * each order from WDT with a narrow window around the time it was last seen and re-emits it even
   * if unchanged, so transformer and loader run again (the loader's idempotency keeps one bill).
   */
  async processResyncRequests(limit = 100): Promise<number> {
    // A paused scheme's requests wait with it.
    if ((await this.store.getCursor(this.scheme.id))?.paused) return 0;
    const requests = await this.store.takeResyncRequests(this.scheme.id, limit);
    const anchored: Array<{ id: string; orderNo: string; trigger: 'resync' | 'repush'; anchorMs: number }> =
      [];
    for (const request of requests) {
      const anchorMs = await this.anchorOf(request.orderNo);
      if (anchorMs === undefined)
        await this.store.completeResync(
          request.id,
          'not_found',
          `order ${request.orderNo} was never extracted by scheme ${this.scheme.id}; run a backfill over its time range`,
        );
      else anchored.push({ ...request, trigger: request.trigger ?? 'resync', anchorMs });
    }
    // Orders known at nearby times are read again in one window (one page for many orders).
    for (const trigger of ['resync', 'repush'] as const) {
      const mine = anchored.filter((r) => r.trigger === trigger);
      for (const group of clusterByTime(mine, (r) => r.anchorMs, REREAD_CLUSTER_SPAN_MS)) {
        try {
          const found = await this.reread(
            new Set(group.map((r) => r.orderNo)),
            group[0].anchorMs,
            group.at(-1)!.anchorMs,
            trigger,
          );
          for (const r of group)
            await this.store.completeResync(
              r.id,
              found.keys.has(r.orderNo) ? 'done' : 'not_found',
              found.keys.has(r.orderNo)
                ? `re-emitted ${r.orderNo} from window ${found.window}`
                : `order ${r.orderNo} is no longer returned by WDT in ${found.window}`,
            );
        } catch (err) {
          for (const r of group) await this.store.completeResync(r.id, 'failed', (err as Error).message);
        }
      }
    }
    return requests.length;
  }

  /** When the order was last seen on the scheme's axis (its resync window is around it). */
  private async anchorOf(orderNo: string): Promise<number | undefined> {
    const known = await this.store.knownOrder(this.scheme.id, orderNo);
    const anchor = axisFor(this.scheme) === 'consign_time' ? known?.consignTime : known?.modified;
    return anchor ? parseShanghai(anchor) : undefined;
  }

  /** Reads [first − 1 min, last + 1 min] (on the modified axis: up to now) and re-emits `orderNos`. */
  private async reread(
    orderNos: ReadonlySet<string>,
    firstMs: number,
    lastMs: number,
    trigger: 'resync' | 'repush',
  ): Promise<{ keys: Set<string>; window: string }> {
    // The order may have moved on the modified axis since: look from its last known time to now.
    const end = axisFor(this.scheme) === 'modified' ? this.clock.now() : lastMs + 60_000;
    const from = formatShanghai(firstMs - 60_000);
    const to = formatShanghai(end);
    const stats = await this.backfill(from, to, { force: true, trigger, only: orderNos });
    return { keys: new Set(stats.emittedKeys), window: `${from} – ${to}` };
  }

  /** Where the cursor stands, for `extractor_cursor_age_seconds` (kept as is when undefined). */
  private recordCursor(cursorValue: string | undefined): void {
    const cursorMs = cursorValue === undefined ? undefined : parseShanghai(cursorValue);
    if (cursorMs !== undefined) recordExtractorCursor(this.scheme.id, cursorMs, this.clock.now());
  }

  /** A window of more than a second can be halved (WDT's times have one-second resolution). */
  private canSplit(window: PlannedWindow): boolean {
    return parseShanghai(window.end)! - parseShanghai(window.start)! >= 1000;
  }

  /** [a, m] and [m + 1 s, b]: closed, contiguous, no second skipped. */
  private halves(window: PlannedWindow): PlannedWindow[] {
    const a = parseShanghai(window.start)!;
    const b = parseShanghai(window.end)!;
    const m = a + Math.floor((b - a) / 2000) * 1000;
    return [
      { start: window.start, end: formatShanghai(m) },
      { start: formatShanghai(m + 1000), end: window.end },
    ];
  }

  private initialCursor(): string {
    return (
      this.scheme.source.cursor.initial ?? formatShanghai(this.clock.now() - DEFAULT_INITIAL_LOOKBACK_MS)
    );
  }

  private async readWindows(
    windows: PlannedWindow[],
    trigger: Trigger,
    options: {
      advanceCursor: boolean;
      background?: boolean;
      force?: boolean;
      only?: string | ReadonlySet<string>;
      onWindow?: (s: WindowStats, done: number, total: number) => void;
      signal?: AbortSignal;
    },
  ): Promise<RunStats> {
    const total: RunStats = {
      windows: [],
      fetched: 0,
      emitted: 0,
      unchanged: 0,
      parked: 0,
      httpCalls: 0,
      emittedKeys: [],
    };
    const queue = [...windows];
    let done = 0;
    while (queue.length > 0) {
      options.signal?.throwIfAborted();
      const window = queue.shift()!;
      const stats = await this.readWindow(window, trigger, options);
      total.httpCalls += stats.httpCalls;
      if (stats.split) {
        // Too many records to hold at once: read the two halves in order instead (memory stays bounded).
        queue.unshift(...stats.split);
        continue;
      }
      // The window's own keys are not kept in the run's stats (bounded memory over many windows).
      const { emittedKeys: keys = [], ...summary } = stats;
      total.windows.push(summary);
      total.fetched += stats.fetched;
      total.emitted += stats.emitted;
      const room = options.only !== undefined ? keys.length : EMITTED_KEYS_SAMPLE - total.emittedKeys!.length;
      for (const key of keys.slice(0, Math.max(0, room))) total.emittedKeys!.push(key);
      total.unchanged += stats.unchanged;
      total.parked += stats.parked;
      done += 1;
      options.onWindow?.(stats, done, done + queue.length);
    }
    return total;
  }

  /**
   * One complete read of a window, streamed: every warehouse of the scheme, every page (re-read while its
   * total_count moves). Each page's new or changed records are published as the page arrives (the
   * extractor holds one page, not the window); a record already emitted earlier in this window (a
   * re-page, a re-read) is not emitted again. Returns what was read, lightly (places and ids, for the
   * malformed-record healing; malformed records whole, for parking), or `split` when the window holds too
   * many records.
   */
  private async streamOnce(
    window: PlannedWindow,
    trigger: Trigger,
    options: { background?: boolean; force?: boolean },
    state: WindowState,
  ): Promise<{ inspected: InspectedRecord[]; split?: PlannedWindow[] }> {
    const filters = this.scheme.source.filters;
    const warehouses = filters.warehouse_no ?? [undefined];
    const inspected: InspectedRecord[] = [];
    for (const warehouseNo of warehouses) {
      for (let attempt = 1; ; attempt++) {
        // The last complete pass of this warehouse is the picture of it (as a whole-window read was).
        let pass: InspectedRecord[] = [];
        let changedWhilePaging = false;
        for await (const page of this.source.queryPages(
          {
            startTime: window.start,
            endTime: window.end,
            status: filters.status,
            warehouseNo,
            pageSize: pageSizeOf(this.scheme, this.source.gateway),
          },
          {
            order: this.scheme.source.pageOrder === 'first_to_last' ? 'first-last' : 'last-first',
            priority: options.background ? 'background' : 'normal',
            maxTotalCount: this.canSplit(window) ? this.maxRecordsPerWindow : undefined,
            scheme: this.scheme.id,
          },
        )) {
          state.httpCalls += page.httpCalls;
          state.pages += 1;
          if (page.tooLarge) return { inspected: [], split: this.halves(window) };
          if (page.restarted) pass = [];
          const records = page.items
            .map((item) =>
              this.inspector.inspect(warehouseNo === undefined ? item : { ...item, warehouseNo }, window),
            )
            .filter(state.relevant);
          for (const r of records) pass.push(r.ok ? { ...r, record: HELD_ELSEWHERE } : r);
          await this.emitPage(records, window, trigger, options, state);
          if (page.totalCountChanged) changedWhilePaging = true;
        }
        if (!changedWhilePaging || attempt >= MAX_WINDOW_REREADS) {
          if (changedWhilePaging)
            this.logger.warn(
              { scheme: this.scheme.id, window },
              'window kept changing while paging; the next poll overlaps it',
            );
          inspected.push(...pass);
          break;
        }
      }
    }
    return { inspected };
  }

  /** Publishes one page's new or changed records (not those already emitted in this window) and waits for Kafka. */
  private async emitPage(
    records: InspectedRecord[],
    window: PlannedWindow,
    trigger: Trigger,
    options: { force?: boolean },
    state: WindowState,
  ): Promise<void> {
    const fresh = new Map<
      string,
      { orderNo: string; record: Record<string, unknown>; fingerprint: string }
    >();
    const locations = new Map<string, { pageNo: number; position: number }>();
    for (const r of records) {
      if (!r.ok) continue;
      state.seen.add(r.orderNo);
      const fingerprint = fingerprintRecord(r.record);
      const before = state.emitted.get(r.orderNo) ?? fresh.get(r.orderNo);
      if (before?.fingerprint === fingerprint) continue;
      // A copy older than the one already taken (a record that moved while paging): keep the newer.
      const modified = typeof r.record.modified === 'string' ? r.record.modified : '';
      const beforeModified = before
        ? 'record' in before
          ? String(before.record.modified ?? '')
          : (before.modified ?? '')
        : '';
      if (before && modified < beforeModified) continue;
      fresh.set(r.orderNo, { orderNo: r.orderNo, record: r.record, fingerprint });
      locations.set(r.orderNo, { pageNo: r.pageNo, position: r.position });
    }
    if (fresh.size === 0) return;
    const known = options.force
      ? new Map<string, string>()
      : await this.store.getFingerprints(this.scheme.id, [...fresh.keys()]);
    const changed = [...fresh.values()].filter((v) => known.get(v.orderNo) !== v.fingerprint);
    if (changed.length === 0) return;
    const axis = axisFor(this.scheme);
    const events: RawStockoutEvent[] = changed.map((v) => ({
      eventType: 'wdt.stockout-return.raw',
      schemaVersion: 1,
      // Same record version → same event id, so re-emits after a crash are recognisable downstream.
      eventId: deterministicUuid('raw', this.scheme.id, v.orderNo, v.fingerprint),
      schemeId: this.scheme.id,
      source: {
        system: 'wdt',
        sid: this.context.sid,
        gateway: this.source.gateway,
        method: this.context.method,
        ...(this.context.connection ? { connection: this.context.connection } : {}),
      },
      orderNo: v.orderNo,
      extractedAt: state.extractedAt,
      sourceWindow: { axis, start: window.start, end: window.end },
      fingerprint: v.fingerprint,
      trigger,
      record: v.record,
    }));
    await this.sink.publish(events, (e) => locations.get(e.orderNo));
    for (const v of changed) {
      state.emitted.set(v.orderNo, {
        fingerprint: v.fingerprint,
        modified: typeof v.record.modified === 'string' ? v.record.modified : null,
        consignTime: typeof v.record.consign_time === 'string' ? v.record.consign_time : null,
      });
      state.emittedKeys.push(v.orderNo);
    }
    if (isDebugEnabled(this.logger))
      for (const e of events)
        orderLogger(this.logger, e.orderNo).debug(
          { scheme: this.scheme.id, trigger, eventId: e.eventId, window },
          'order emitted',
        );
  }

  private async readWindow(
    window: PlannedWindow,
    trigger: Trigger,
    options: {
      advanceCursor: boolean;
      background?: boolean;
      force?: boolean;
      only?: string | ReadonlySet<string>;
    },
  ): Promise<WindowStats & { split?: PlannedWindow[] }> {
    const axis = axisFor(this.scheme);
    const only = typeof options.only === 'string' ? new Set([options.only]) : options.only;
    const state: WindowState = {
      emitted: new Map(),
      emittedKeys: [],
      seen: new Set(),
      httpCalls: 0,
      pages: 0,
      extractedAt: new Date(this.clock.now()).toISOString(),
      relevant: (r: InspectedRecord) => {
        if (only === undefined) return true;
        const orderNo = r.ok ? r.orderNo : (r.record as { order_no?: unknown } | null)?.order_no;
        return typeof orderNo === 'string' && only.has(orderNo);
      },
    };
    const empty = { window, fetched: 0, emitted: 0, unchanged: 0, parked: 0 };
    let read = await this.streamOnce(window, trigger, options, state);
    // Split: what was published stays published (fingerprints and cursor untouched): the halves re-read it.
    if (read.split) return { ...empty, httpCalls: state.httpCalls, pages: state.pages, split: read.split };
    let inspected = read.inspected;

    // Corruption in transit is usually transient: read the window again before parking anything.
    let rereads = 0;
    // At least one: a record is parked (under its order number) only when a re-read confirms it.
    while (rereads < Math.max(1, this.recordRereads) && inspected.some((r) => !r.ok)) {
      rereads += 1;
      this.logger.warn(
        { scheme: this.scheme.id, window, malformed: inspected.filter((r) => !r.ok).length, reread: rereads },
        'malformed WDT records; reading the window again before parking them',
      );
      read = await this.streamOnce(window, trigger, options, state);
      if (read.split) return { ...empty, httpCalls: state.httpCalls, pages: state.pages, split: read.split };
      inspected = this.healer.heal(read.inspected, inspected);
    }

    const malformed: MalformedRecord[] = [];
    for (const r of inspected) {
      if (r.ok) continue;
      const where = `window ${window.start} – ${window.end}, page ${r.pageNo}, position ${r.position}${
        r.warehouseNo === undefined ? '' : `, warehouse ${r.warehouseNo}`
      }`;
      const confirmed = rereads > 0 ? `; still so after ${rereads} re-read${rereads > 1 ? 's' : ''}` : '';
      malformed.push({
        record: r.record,
        error: new Error(`${r.problem} (${where}${confirmed})`),
        schemeId: this.scheme.id,
        window,
        pageNo: r.pageNo,
        position: r.position,
        sourceKey: r.sourceKey,
      });
    }
    if (malformed.length > 0) await this.sink.parkMalformed(malformed);
    // Every event of the window is acknowledged: now fingerprints and cursor, in one transaction.
    await this.store.commitWindow(
      this.scheme.id,
      [...state.emitted].map(([orderNo, v]) => ({ orderNo, ...v })),
      options.advanceCursor ? { axis, value: window.end } : undefined,
      trigger === 'sweep' ? window.end : undefined,
    );
    const stats: WindowStats = {
      window,
      fetched: state.seen.size + malformed.length,
      emitted: state.emittedKeys.length,
      emittedKeys: state.emittedKeys,
      unchanged: [...state.seen].filter((k) => !state.emitted.has(k)).length,
      parked: malformed.length,
      httpCalls: state.httpCalls,
      pages: state.pages,
    };
    observeBatchSize('extractor', stats.fetched);
    countRecords('extractor', 'in', stats.fetched);
    countRecords('extractor', 'emitted', stats.emitted);
    countRecords('extractor', 'unchanged', stats.unchanged);
    countRecords('extractor', 'parked', stats.parked);
    if (stats.emitted > 0 || stats.parked > 0) {
      const { emittedKeys: _keys, ...summary } = stats;
      void _keys;
      this.logger.info({ scheme: this.scheme.id, trigger, ...summary }, 'window extracted');
    }
    return stats;
  }
}

/** What one window's read has done so far (across pages, re-pages and re-reads). */
interface WindowState {
  /** Emitted in this window (the newest version per order): the fingerprints written when it ends. */
  emitted: Map<string, { fingerprint: string; modified: string | null; consignTime: string | null }>;
  /** Every event published, in order. */
  emittedKeys: string[];
  /** Valid orders seen. */
  seen: Set<string>;
  httpCalls: number;
  pages: number;
  extractedAt: string;
  relevant: (r: InspectedRecord) => boolean;
}

/** A good record's body is not kept past its page (it is published or unchanged); its place and id are. */
const HELD_ELSEWHERE: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;
