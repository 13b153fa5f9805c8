import { RetryPolicy, handleWhen, retry } from 'cockatiel';
import { AppLogger, Clock, silentLogger, systemClock } from '@libs/common';
import { observeWdtRequest } from '@libs/metrics';
import { FetchHttpTransport, HttpPostResponse, HttpTransport, HttpTransportError } from './http-transport';
import { redactSecrets } from './secret-redaction.util';
import { wdtRetryBackoff } from './wdt-backoff';
import { WdtCallGate, wdtBudgetKeyOf } from './wdt-call-gate';
import {
  WdtConfigError,
  WdtError,
  WdtGateway,
  WdtMalformedResponseError,
  WdtTransientError,
  isWdtError,
} from './wdt-client.errors';
import { ResolvedWdtClientOptions, WdtClientOptions, resolveWdtClientOptions } from './wdt-client.options';
import { ResolvedErrorCodeTables, resolveErrorCodeTables } from './wdt-error-codes';
import { parseStockoutResponse } from './wdt-envelope.util';
import {
  WDT_PRIORITY,
  WdtCallPriority,
  WdtLimiterRegistry,
  WdtRateLimiter,
  sharedWdtLimiterRegistry,
  wdtLimiterKey,
} from './wdt-rate-limiter';
import {
  SignedForm,
  StockoutReturnQuery,
  buildNativeForm,
  buildQimenForm,
  toBusinessParams,
} from './wdt-request.util';

export interface WdtClientDeps {
  /** HTTP layer; defaults to `FetchHttpTransport`. */
  transport?: HttpTransport;
  /** Inject a limiter to share it explicitly; otherwise one comes from `limiterRegistry`. */
  limiter?: WdtRateLimiter;
  /** Defaults to the process-wide `sharedWdtLimiterRegistry`. */
  limiterRegistry?: WdtLimiterRegistry;
  /**
   * The app key's budget shared with other processes (`PostgresWdtCallGate`), consulted after the
   * in-process limiter. Given to the limiter the client takes from the registry (the first client of a
   * registry key decides; an injected `limiter` brings its own gate, so the two cannot be combined).
   */
  gate?: WdtCallGate;
  /** The connection's name: labels the call metrics (`wdt_api_request_duration_seconds{connection}`). */
  connection?: string;
  /** The gate's budget key (default `native:<appkey>` / `qimen:<qimen.appKey>`, as `@libs/connections`). */
  budgetKey?: string;
  clock?: Clock;
  logger?: AppLogger;
}

export interface WdtQueryCallOptions {
  /** `background` queues behind `normal` calls on the shared limiter (reconciliation sweeps). */
  priority?: WdtCallPriority;
  /** The scheme the call is for: the shared gate's fair share is per scheme. */
  scheme?: string;
  /** Cancels the call and any pending retry. */
  signal?: AbortSignal;
  /**
   * total_count from page 0, used when a later page omits it (whether later pages repeat it is
   * unconfirmed). Without it such a page is a malformed-response error.
   */
  knownTotalCount?: number;
}

export interface WdtStockoutPage {
  totalCount: number;
  /** Each record that is a JSON object, exactly as received. */
  records: Record<string, unknown>[];
  /** Every entry of the page's list in order, exactly as received (also `null` or other non-objects). */
  entries: unknown[];
  pageNo: number;
  pageSize: number;
  /** HTTP attempts this page took (1 = no retry). */
  attempts: number;
}

export interface WdtQueryAllOptions extends Omit<WdtQueryCallOptions, 'knownTotalCount'> {
  /**
   * `last-first` (default, WDT's advice for stockout queries): page 0 first for total_count, then the
   * last page back to page 1, so records moving while we page are not skipped. `first-last`: 0, 1, 2 …
   */
  order?: 'last-first' | 'first-last';
  /**
   * Stop after page 0 when total_count is above this (the result has `tooLarge` set and no records):
   * callers bound the records they hold by splitting such a window.
   */
  maxTotalCount?: number;
}

/** One entry of a window's pages, where it was found. */
export interface WdtWindowItem {
  /** Exactly as received: normally an object, but a bad page can hold `null` or anything else. */
  record: unknown;
  pageNo: number;
  /** Index in its page's `stockout_list`. */
  position: number;
}

export interface WdtStockoutWindow {
  /** total_count reported by page 0. */
  totalCount: number;
  /** Records in page order, de-duplicated by stockout_id (the copy with the latest `modified` is kept). */
  records: Record<string, unknown>[];
  /** Every entry (objects and not) in page order with its page and position, de-duplicated like `records`. */
  items: WdtWindowItem[];
  pages: number;
  duplicatesDropped: number;
  /**
   * A later page reported a different total_count, or a page held more or fewer entries than page 0's
   * total_count implies: the window changed while paging (or a page disagrees with itself); re-read it.
   */
  totalCountChanged: boolean;
  /** HTTP calls made, retries included. */
  httpCalls: number;
  /** total_count exceeded `maxTotalCount`: nothing past page 0 was read. */
  tooLarge?: boolean;
}

/** One page of a window as `queryPages` yields it (the extractor's `SourcePage` is this type). */
export interface WdtSourcePage {
  items: WdtWindowItem[];
  pageNo: number;
  /** The size in use (after a server cap: the size the server used). */
  pageSize: number;
  /** total_count of page 0 of this pass. */
  totalCount: number;
  /** HTTP calls spent for this page (retries included). */
  httpCalls: number;
  /** First page after a re-page: items already yielded may come again. */
  restarted?: boolean;
  /** Set on the last page when total_count moved (or a page's length disagreed with it) while paging. */
  totalCountChanged?: boolean;
  /** total_count > maxTotalCount: nothing more is yielded. */
  tooLarge?: boolean;
  last: boolean;
}

/**
 * Typed client for `wdt.stockout.order.query.return` (WDT 企业版 purchase-return stockouts) over the
 * native open API or the Qimen router, chosen by `options.gateway`. Each HTTP attempt goes through the
 * shared rate limiter and is re-signed with a fresh timestamp; transient and rate-limit failures are
 * retried with capped jittered backoff, permanent ones (auth, invalid params) never.
 */
export class WdtStockoutReturnClient {
  readonly gateway: WdtGateway;
  private readonly options: ResolvedWdtClientOptions;
  private readonly tables: ResolvedErrorCodeTables;
  private readonly transport: HttpTransport;
  private readonly limiter: WdtRateLimiter;
  private readonly clock: Clock;
  private readonly connection?: string;
  private readonly logger: AppLogger;
  private readonly retryPolicy: RetryPolicy;
  private readonly secrets: string[];

  constructor(options: WdtClientOptions, deps: WdtClientDeps = {}) {
    this.options = resolveWdtClientOptions(options);
    this.gateway = this.options.gateway;
    this.tables = resolveErrorCodeTables(this.options.errorCodes);
    this.transport = deps.transport ?? new FetchHttpTransport();
    this.clock = deps.clock ?? systemClock;
    this.connection = deps.connection;
    this.logger = deps.logger ?? silentLogger;
    this.secrets = [this.options.native?.appsecret, this.options.qimen?.appSecret].filter(
      (s): s is string => !!s,
    );
    if (deps.limiter && deps.gate)
      throw new WdtConfigError('give the gate to the injected limiter, not to the client', 'gate');
    this.limiter =
      deps.limiter ??
      (deps.limiterRegistry ?? sharedWdtLimiterRegistry).get(
        wdtLimiterKey(this.gateway, this.options.sid, this.options.qimen?.appKey),
        {
          callsPerMinute: this.options.callsPerMinute,
          maxConcurrent: this.options.maxConcurrent,
          windowMs: this.options.rateLimitWindowMs,
          logger: this.logger,
          ...(deps.gate
            ? {
                gate: deps.gate,
                budgetKey:
                  deps.budgetKey ??
                  wdtBudgetKeyOf({
                    gateway: this.gateway,
                    appkey: this.options.native?.appkey,
                    qimen: this.options.qimen,
                  }),
              }
            : {}),
        },
      );
    this.retryPolicy = retry(
      handleWhen((error) => isWdtError(error) && error.retryable),
      {
        maxAttempts: this.options.maxAttempts - 1,
        backoff: wdtRetryBackoff(this.options.backoff),
      },
    );
    this.retryPolicy.onRetry((event) => {
      const error = 'error' in event ? event.error : undefined;
      this.logger.warn(
        {
          gateway: this.gateway,
          kind: isWdtError(error) ? error.kind : 'unknown',
          code: isWdtError(error) ? error.code : undefined,
          reason: isWdtError(error) ? error.reason : undefined,
          pageNo: isWdtError(error) ? error.pageNo : undefined,
          attempt: event.attempt,
          delayMs: event.delay,
        },
        'WDT call failed, retrying after backoff',
      );
    });
  }

  /** Default page size in use. */
  get pageSize(): number {
    return this.options.pageSize;
  }

  /** Fetches one page. Throws a `WdtError` (after retries for transient / rate-limited failures). */
  async queryPage(query: StockoutReturnQuery, call: WdtQueryCallOptions = {}): Promise<WdtStockoutPage> {
    const business = toBusinessParams(query, this.gateway, this.options);
    const pageNo = Number(business.page_no);
    const pageSize = Number(business.page_size);
    let attempts = 0;
    try {
      const body = await this.retryPolicy.execute(async () => {
        attempts += 1;
        const lane = {
          priority: WDT_PRIORITY[call.priority ?? 'normal'],
          scheme: call.scheme,
          signal: call.signal,
        };
        return this.limiter.schedule(lane, (startedAt) =>
          observeWdtRequest(
            this.gateway,
            () => this.sendOnce(business, pageNo, attempts, call.signal),
            this.connection,
          ).catch((error: unknown) => {
            // "Too frequent": the budget is smaller than configured; halve it (once per event).
            if (isWdtError(error) && error.kind === 'rate_limited') this.limiter.penalize(startedAt);
            throw error;
          }),
        );
      }, call.signal);
      const totalCount = body.totalCount ?? call.knownTotalCount;
      if (totalCount === undefined) {
        throw new WdtMalformedResponseError(
          `WDT ${this.gateway} gateway (page_no ${pageNo}): response has no "total_count"`,
          { gateway: this.gateway, pageNo, reason: 'missing_total_count' },
        );
      }
      return { totalCount, records: body.records, entries: body.entries, pageNo, pageSize, attempts };
    } catch (error) {
      if (isWdtError(error)) {
        error.attempts = attempts;
        this.logger.error(
          {
            gateway: this.gateway,
            kind: error.kind,
            code: error.code,
            reason: error.reason,
            pageNo,
            attempts,
          },
          `WDT query failed: ${error.message}`,
        );
      }
      throw error;
    }
  }

  /**
   * Streams the pages of a window as they arrive: page 0 first (it gives total_count), the rest in
   * `order`. Nothing is de-duplicated here (a record may appear on two pages when the window moves while
   * paging; the caller keeps the newest). A page shorter than the page size that is not the last page
   * means the server capped page_size: on page 0 the rest of the window is paged at the size the server
   * used (page 0 is the same page at that size); on a later page the window is paged again from page 0
   * at that size, the first page of the new pass `restarted` (items already yielded may come again).
   * Either way a warning is logged once per client and size.
   */
  async *queryPages(
    query: Omit<StockoutReturnQuery, 'pageNo'>,
    call: WdtQueryAllOptions = {},
  ): AsyncGenerator<WdtSourcePage> {
    let pageSize = query.pageSize ?? this.options.pageSize;
    let restarted = false;
    for (let pass = 1; ; pass += 1) {
      const first = await this.queryPage({ ...query, pageSize, pageNo: 0 }, call);
      if (call.maxTotalCount !== undefined && first.totalCount > call.maxTotalCount) {
        yield {
          items: [],
          pageNo: 0,
          pageSize,
          totalCount: first.totalCount,
          httpCalls: first.attempts,
          restarted: restarted || undefined,
          tooLarge: true,
          last: true,
        };
        return;
      }
      const pageCountAt = (size: number) => Math.max(1, Math.ceil(first.totalCount / size));
      const capped = (page: WdtStockoutPage, size: number) =>
        page.pageNo < pageCountAt(size) - 1 &&
        page.entries.length > 0 &&
        page.entries.length < size &&
        page.totalCount === first.totalCount;
      if (capped(first, pageSize)) {
        this.warnCapped(pageSize, first.entries.length, query);
        pageSize = first.entries.length;
      }
      const pageCount = pageCountAt(pageSize);
      const expectedLength = (pageNo: number) =>
        Math.min(pageSize, Math.max(0, first.totalCount - pageNo * pageSize));
      let totalCountChanged = first.entries.length !== expectedLength(0);
      const rest = Array.from({ length: pageCount - 1 }, (_, i) => i + 1);
      if ((call.order ?? 'last-first') === 'last-first') rest.reverse();
      const toPage = (page: WdtStockoutPage, last: boolean, size: number): WdtSourcePage => ({
        items: page.entries.map((record, position) => ({ record, pageNo: page.pageNo, position })),
        pageNo: page.pageNo,
        pageSize: size,
        totalCount: first.totalCount,
        httpCalls: page.attempts,
        ...(restarted && page.pageNo === 0 ? { restarted: true } : {}),
        ...(last && totalCountChanged ? { totalCountChanged: true } : {}),
        last,
      });
      if (rest.length === 0) {
        if (totalCountChanged) this.warnChanged(query);
        yield toPage(first, true, pageSize);
        return;
      }
      yield toPage(first, false, pageSize);
      let repage: number | undefined;
      for (const [index, pageNo] of rest.entries()) {
        const page = await this.queryPage(
          { ...query, pageNo, pageSize },
          { ...call, knownTotalCount: first.totalCount },
        );
        if (pass === 1 && capped(page, pageSize)) {
          // The server now uses a smaller page size: offsets moved, page the window again at it.
          this.warnCapped(pageSize, page.entries.length, query);
          repage = page.entries.length;
          break;
        }
        if (page.totalCount !== first.totalCount || page.entries.length !== expectedLength(pageNo))
          totalCountChanged = true;
        const last = index === rest.length - 1;
        if (last && totalCountChanged) this.warnChanged(query);
        yield toPage(page, last, pageSize);
      }
      if (repage === undefined) return;
      pageSize = repage;
      restarted = true;
    }
  }

  /**
   * Fetches every page of a window (see `queryPages`). Records are returned in page order and
   * de-duplicated by stockout_id. Downstream must still be idempotent and the next window must overlap:
   * records can move between pages while paging.
   */
  async queryAll(
    query: Omit<StockoutReturnQuery, 'pageNo'>,
    call: WdtQueryAllOptions = {},
  ): Promise<WdtStockoutWindow> {
    let pages = new Map<number, WdtSourcePage>();
    let httpCalls = 0;
    let final: WdtSourcePage | undefined;
    for await (const page of this.queryPages(query, call)) {
      httpCalls += page.httpCalls;
      if (page.restarted) pages = new Map();
      pages.set(page.pageNo, page);
      final = page;
    }
    const last = final!;
    if (last.tooLarge) {
      return {
        totalCount: last.totalCount,
        records: [],
        items: [],
        pages: 1,
        duplicatesDropped: 0,
        totalCountChanged: false,
        httpCalls,
        tooLarge: true,
      };
    }
    const pageCount = Math.max(1, Math.ceil(last.totalCount / last.pageSize));
    const byId = new Map<string, WdtWindowItem>();
    const ordered: WdtWindowItem[] = [];
    let duplicatesDropped = 0;
    for (let pageNo = 0; pageNo < pageCount; pageNo += 1) {
      for (const item of pages.get(pageNo)?.items ?? []) {
        const { record } = item;
        const id = isRecord(record) ? record.stockout_id : undefined;
        const key = typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
        if (key === undefined) {
          ordered.push(item);
          continue;
        }
        const seen = byId.get(key);
        if (!seen) {
          byId.set(key, item);
          ordered.push(item);
          continue;
        }
        duplicatesDropped += 1;
        const seenRecord = seen.record as Record<string, unknown>;
        if (String((record as Record<string, unknown>).modified ?? '') > String(seenRecord.modified ?? '')) {
          ordered[ordered.indexOf(seen)] = item;
          byId.set(key, item);
        }
      }
    }
    return {
      totalCount: last.totalCount,
      records: ordered.map((i) => i.record).filter(isRecord),
      items: ordered,
      pages: pageCount,
      duplicatesDropped,
      totalCountChanged: !!last.totalCountChanged,
      httpCalls,
    };
  }

  private readonly cappedWarned = new Set<string>();

  private warnCapped(asked: number, used: number, query: Omit<StockoutReturnQuery, 'pageNo'>): void {
    const key = `${asked}>${used}`;
    if (this.cappedWarned.has(key)) return;
    this.cappedWarned.add(key);
    this.logger.warn(
      { gateway: this.gateway, pageSize: asked, serverPageSize: used, startTime: query.startTime },
      `WDT returned ${used} records for page_size ${asked} on a page that is not the last: the server caps the page size; paging at ${used} (set source.pageSize to ${used} to avoid this)`,
    );
  }

  private warnChanged(query: Omit<StockoutReturnQuery, 'pageNo'>): void {
    this.logger.warn(
      { gateway: this.gateway, startTime: query.startTime, endTime: query.endTime },
      'WDT total_count changed while paging; the next window must overlap this one',
    );
  }

  private scrub = (text: string): string => redactSecrets(text, this.secrets);

  private buildForm(business: Record<string, string>): SignedForm {
    const now = this.clock.now();
    if (this.options.native) {
      return buildNativeForm(business, { sid: this.options.sid, ...this.options.native }, now);
    }
    if (this.options.qimen) {
      return buildQimenForm(business, { sid: this.options.sid, ...this.options.qimen }, now);
    }
    throw new Error('unreachable: resolved options carry one gateway');
  }

  /** One HTTP attempt: sign with a fresh timestamp (after waiting in the limiter), post, parse. */
  private async sendOnce(
    business: Record<string, string>,
    pageNo: number,
    attempt: number,
    signal: AbortSignal | undefined,
  ) {
    const form = this.buildForm(business);
    const started = Date.now();
    let response: HttpPostResponse;
    try {
      response = await this.transport.post({
        url: this.options.endpoint,
        body: form.body,
        headers: {
          'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
          accept: 'application/json',
        },
        timeoutMs: this.options.timeoutMs,
        signal,
      });
    } catch (error) {
      throw this.transportFailure(error, pageNo);
    }
    this.logger.debug(
      { gateway: this.gateway, pageNo, attempt, httpStatus: response.status, ms: Date.now() - started },
      'WDT call',
    );
    return parseStockoutResponse(response, {
      gateway: this.gateway,
      pageNo,
      tables: this.tables,
      scrub: this.scrub,
    });
  }

  private transportFailure(error: unknown, pageNo: number): WdtError {
    const where = `WDT ${this.gateway} gateway (page_no ${pageNo})`;
    if (error instanceof HttpTransportError) {
      return new WdtTransientError(`${where}: ${this.scrub(error.message)}`, {
        gateway: this.gateway,
        pageNo,
        reason: error.failure,
      });
    }
    const text = error instanceof Error ? error.message : String(error);
    return new WdtTransientError(`${where}: transport failed: ${this.scrub(text)}`, {
      gateway: this.gateway,
      pageNo,
      reason: 'transport_error',
    });
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function createWdtStockoutReturnClient(
  options: WdtClientOptions,
  deps: WdtClientDeps = {},
): WdtStockoutReturnClient {
  return new WdtStockoutReturnClient(options, deps);
}
