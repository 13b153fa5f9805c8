import { DelegateBackoff, IRetryBackoffContext, RetryPolicy, handleWhen, retry } from 'cockatiel';
import { AppLogger, Clock, silentLogger, systemClock } from '@libs/common';
import { observeWdtRequest } from '@libs/metrics';
import { FetchHttpTransport, HttpPostResponse, HttpTransport, HttpTransportError } from './http-transport';
import { redactSecrets } from './secret-redaction.util';
import {
  WdtError,
  WdtGateway,
  WdtMalformedResponseError,
  WdtTransientError,
  isWdtError,
} from './wdt-client.errors';
import {
  ResolvedWdtClientOptions,
  WdtBackoffOptions,
  WdtClientOptions,
  resolveWdtClientOptions,
} from './wdt-client.options';
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
  clock?: Clock;
  logger?: AppLogger;
  /** Jitter source in [0, 1); tests may pin it. */
  random?: () => number;
}

export interface WdtQueryCallOptions {
  /** `background` queues behind `normal` calls on the shared limiter (reconciliation sweeps). */
  priority?: WdtCallPriority;
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

/** Capped exponential backoff with equal jitter; a rate-limit error starts from a larger base. */
export function computeBackoffDelay(
  attempt: number,
  error: unknown,
  backoff: WdtBackoffOptions,
  random: () => number = Math.random,
): number {
  const rateLimited = isWdtError(error) && error.kind === 'rate_limited';
  const base = rateLimited ? backoff.rateLimitedInitialDelayMs : backoff.initialDelayMs;
  const ceiling = Math.min(backoff.maxDelayMs, base * 2 ** Math.max(0, attempt - 1));
  const jittered = ceiling / 2 + (random() * ceiling) / 2;
  const serverHint =
    isWdtError(error) && error.retryAfterMs ? Math.min(error.retryAfterMs, backoff.maxDelayMs) : 0;
  return Math.round(Math.max(jittered, serverHint));
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
  private readonly logger: AppLogger;
  private readonly random: () => number;
  private readonly retryPolicy: RetryPolicy;
  private readonly secrets: string[];

  constructor(options: WdtClientOptions, deps: WdtClientDeps = {}) {
    this.options = resolveWdtClientOptions(options);
    this.gateway = this.options.gateway;
    this.tables = resolveErrorCodeTables(this.options.errorCodes);
    this.transport = deps.transport ?? new FetchHttpTransport();
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? silentLogger;
    this.random = deps.random ?? Math.random;
    this.secrets = [this.options.native?.appsecret, this.options.qimen?.appSecret].filter(
      (s): s is string => !!s,
    );
    this.limiter =
      deps.limiter ??
      (deps.limiterRegistry ?? sharedWdtLimiterRegistry).get(
        wdtLimiterKey(this.gateway, this.options.sid, this.options.qimen?.appKey),
        {
          callsPerMinute: this.options.callsPerMinute,
          maxConcurrent: this.options.maxConcurrent,
          logger: this.logger,
        },
      );
    this.retryPolicy = retry(
      handleWhen((error) => isWdtError(error) && error.retryable),
      {
        maxAttempts: this.options.maxAttempts - 1,
        backoff: new DelegateBackoff<IRetryBackoffContext<unknown>>((context) =>
          computeBackoffDelay(
            context.attempt,
            'error' in context.result ? context.result.error : undefined,
            this.options.backoff,
            this.random,
          ),
        ),
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
        return this.limiter.schedule({ priority: WDT_PRIORITY[call.priority ?? 'normal'] }, (startedAt) =>
          observeWdtRequest(this.gateway, () => this.sendOnce(business, pageNo, attempts, call.signal)).catch(
            (error: unknown) => {
              // "Too frequent": the budget is smaller than configured; halve it (once per event).
              if (isWdtError(error) && error.kind === 'rate_limited') this.limiter.penalize(startedAt);
              throw error;
            },
          ),
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
   * Fetches every page of a window. Page 0 gives total_count; the rest follow in `order`. Records are
   * returned in page order and de-duplicated by stockout_id. Downstream must still be idempotent and the
   * next window must overlap: records can move between pages while paging.
   */
  async queryAll(
    query: Omit<StockoutReturnQuery, 'pageNo'>,
    call: WdtQueryAllOptions = {},
  ): Promise<WdtStockoutWindow> {
    const first = await this.queryPage({ ...query, pageNo: 0 }, call);
    if (call.maxTotalCount !== undefined && first.totalCount > call.maxTotalCount) {
      return {
        totalCount: first.totalCount,
        records: [],
        items: [],
        pages: 1,
        duplicatesDropped: 0,
        totalCountChanged: false,
        httpCalls: first.attempts,
        tooLarge: true,
      };
    }
    const pageSize = first.pageSize;
    const pageCount = Math.max(1, Math.ceil(first.totalCount / pageSize));
    const pages = new Map<number, WdtStockoutPage>([[0, first]]);
    let httpCalls = first.attempts;
    // A page whose length disagrees with page 0's total_count counts as a change (read again).
    const expectedLength = (pageNo: number) =>
      Math.min(pageSize, Math.max(0, first.totalCount - pageNo * pageSize));
    let totalCountChanged = first.entries.length !== expectedLength(0);
    const rest = Array.from({ length: pageCount - 1 }, (_, i) => i + 1);
    if ((call.order ?? 'last-first') === 'last-first') rest.reverse();
    for (const pageNo of rest) {
      const page = await this.queryPage(
        { ...query, pageNo, pageSize },
        { ...call, knownTotalCount: first.totalCount },
      );
      httpCalls += page.attempts;
      if (page.totalCount !== first.totalCount || page.entries.length !== expectedLength(pageNo))
        totalCountChanged = true;
      pages.set(pageNo, page);
    }
    if (totalCountChanged) {
      this.logger.warn(
        { gateway: this.gateway, startTime: query.startTime, endTime: query.endTime },
        'WDT total_count changed while paging; the next window must overlap this one',
      );
    }

    const byId = new Map<string, WdtWindowItem>();
    const ordered: WdtWindowItem[] = [];
    let duplicatesDropped = 0;
    for (let pageNo = 0; pageNo < pageCount; pageNo += 1) {
      (pages.get(pageNo)?.entries ?? []).forEach((record, position) => {
        const item: WdtWindowItem = { record, pageNo, position };
        const id = isRecord(record) ? record.stockout_id : undefined;
        const key = typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
        if (key === undefined) {
          ordered.push(item);
          return;
        }
        const seen = byId.get(key);
        if (!seen) {
          byId.set(key, item);
          ordered.push(item);
          return;
        }
        duplicatesDropped += 1;
        const seenRecord = seen.record as Record<string, unknown>;
        if (String((record as Record<string, unknown>).modified ?? '') > String(seenRecord.modified ?? '')) {
          ordered[ordered.indexOf(seen)] = item;
          byId.set(key, item);
        }
      });
    }
    return {
      totalCount: first.totalCount,
      records: ordered.map((i) => i.record).filter(isRecord),
      items: ordered,
      pages: pageCount,
      duplicatesDropped,
      totalCountChanged,
      httpCalls,
    };
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
