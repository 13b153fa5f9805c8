import {
  WdtAuthError,
  WdtError,
  WdtGateway,
  WdtMalformedResponseError,
  WdtRateLimitedError,
  WdtTransientError,
  createWdtError,
} from './wdt-client.errors';
import {
  ResolvedErrorCodeTables,
  classifyTopError,
  classifyWdtCode,
  parseRetryAfterMs,
  resolveErrorCodeTables,
} from './wdt-error-codes';

/** The one shape all three envelopes are normalised to. Records are returned exactly as received. */
export interface WdtStockoutPageBody {
  /** `total_count` when the page carried one (always on page 0; later pages: unconfirmed). */
  totalCount: number | undefined;
  /** The records that are JSON objects, exactly as received. */
  records: Record<string, unknown>[];
  /**
   * Every entry of `stockout_list` in page order, exactly as received — including any that is not an
   * object (`null`, a string …). A bad entry is the record's problem, not the page's: the caller parks it
   * with its position and carries on with the rest.
   */
  entries: unknown[];
}

export interface EnvelopeContext {
  gateway: WdtGateway;
  pageNo?: number;
  tables?: ResolvedErrorCodeTables;
  /** Applied to every text taken from the response before it goes into an error message. */
  scrub?: (text: string) => string;
}

export interface RawHttpResponse {
  status: number;
  body: string;
  contentType?: string | null;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads a code that may be a number or a numeric string; returns the trimmed string form. */
function readCode(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  return undefined;
}

/** Reads `total_count` given as number or numeric string. */
function readCount(value: unknown): number | 'invalid' | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : 'invalid';
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return Number(value);
  return 'invalid';
}

const readText = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;

function snippet(body: string, scrub: (text: string) => string): string {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(body)?.[1];
  const text = title ?? body.replace(/\s+/g, ' ').trim();
  const cut = text.length > 120 ? `${text.slice(0, 120)}…` : text;
  return JSON.stringify(scrub(cut));
}

/**
 * Turns one HTTP response of `wdt.stockout.order.query.return` into `{totalCount, records}` or throws a
 * typed `WdtError`. Understands native `{code, message, total_count, stockout_list}`, Qimen
 * `{response:{errorcode, message, total_count, stockout_list}}` and TOP `{error_response:{code, msg, …}}`.
 */
export function parseStockoutResponse(
  response: RawHttpResponse,
  context: EnvelopeContext,
): WdtStockoutPageBody {
  const scrub = context.scrub ?? ((text: string) => text);
  const tables = context.tables ?? resolveErrorCodeTables();
  const base = { gateway: context.gateway, pageNo: context.pageNo, httpStatus: response.status };
  const where = `WDT ${context.gateway} gateway${context.pageNo === undefined ? '' : ` (page_no ${context.pageNo})`}`;

  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body);
  } catch {
    parsed = undefined;
  }

  if (!isObject(parsed)) {
    if (response.status === 429) {
      throw new WdtRateLimitedError(`${where}: HTTP 429 Too Many Requests`, { ...base, reason: 'http_429' });
    }
    if (response.status === 401 || response.status === 403) {
      throw new WdtAuthError(`${where}: HTTP ${response.status} ${snippet(response.body, scrub)}`, {
        ...base,
        reason: `http_${response.status}`,
      });
    }
    if (response.status >= 500) {
      throw new WdtTransientError(`${where}: HTTP ${response.status} ${snippet(response.body, scrub)}`, {
        ...base,
        reason: 'http_5xx',
      });
    }
    const looksHtml = /^\s*</.test(response.body) || /html/i.test(response.contentType ?? '');
    const reason = response.body.trim() === '' ? 'empty_body' : looksHtml ? 'html_page' : 'invalid_json';
    const what =
      reason === 'empty_body'
        ? 'an empty body'
        : reason === 'html_page'
          ? `an HTML page instead of JSON: ${snippet(response.body, scrub)}`
          : `a body that is not a JSON object: ${snippet(response.body, scrub)}`;
    throw new WdtMalformedResponseError(`${where}: HTTP ${response.status}, got ${what}`, {
      ...base,
      reason,
    });
  }

  if (isObject(parsed.error_response)) {
    throw topError(parsed.error_response, where, base, tables, scrub);
  }
  if (response.status >= 500) {
    throw new WdtTransientError(`${where}: HTTP ${response.status}`, { ...base, reason: 'http_5xx' });
  }

  let payload: Json;
  let code: string | undefined;
  let codeField: string;
  let table = tables.native;
  if (context.gateway === 'qimen' || isObject(parsed.response)) {
    if (!isObject(parsed.response)) {
      throw new WdtMalformedResponseError(`${where}: JSON has neither "response" nor "error_response"`, {
        ...base,
        reason: 'missing_response',
      });
    }
    payload = parsed.response;
    codeField = 'response.errorcode';
    code = readCode(payload.errorcode);
    if (code === undefined && payload.flag !== undefined) {
      code = payload.flag === 'success' ? '0' : (readCode(payload.code) ?? 'failure');
      codeField = 'response.flag';
    }
    table = tables.qimen;
  } else {
    payload = parsed;
    codeField = 'code';
    code = readCode(payload.code);
  }

  if (code === undefined) {
    throw new WdtMalformedResponseError(`${where}: response has no "${codeField}"`, {
      ...base,
      reason: 'missing_code',
    });
  }
  if (code !== '0') {
    const message = readText(payload.message) ?? readText(payload.msg) ?? '';
    const kind = classifyWdtCode(code, message, table, tables.unknownCodeKind);
    return throwWdt(kind, `${where}: error code ${code}: ${scrub(message) || '(no message)'}`, {
      ...base,
      code,
      reason: `code_${code}`,
      retryAfterMs: parseRetryAfterMs(message),
    });
  }

  const totalCount = readCount(payload.total_count);
  if (totalCount === 'invalid') {
    throw new WdtMalformedResponseError(
      `${where}: "total_count" is not a non-negative integer (got ${typeof payload.total_count})`,
      { ...base, reason: 'invalid_total_count' },
    );
  }
  const list = payload.stockout_list;
  if (list === undefined || list === null) {
    if (totalCount === 0) return { totalCount, records: [], entries: [] };
    throw new WdtMalformedResponseError(`${where}: response has no "stockout_list"`, {
      ...base,
      reason: 'missing_stockout_list',
    });
  }
  if (!Array.isArray(list)) {
    throw new WdtMalformedResponseError(`${where}: "stockout_list" is ${typeof list}, expected an array`, {
      ...base,
      reason: 'invalid_stockout_list',
    });
  }
  return { totalCount, records: list.filter(isObject), entries: list as unknown[] };
}

function topError(
  body: Json,
  where: string,
  base: { gateway: WdtGateway; pageNo?: number; httpStatus: number },
  tables: ResolvedErrorCodeTables,
  scrub: (text: string) => string,
): WdtError {
  const code = readCode(body.code) ?? 'unknown';
  const subCode = readText(body.sub_code);
  const msg = readText(body.msg);
  const subMsg = readText(body.sub_msg);
  const kind = classifyTopError(code, subCode, [msg, subMsg].filter(Boolean).join(' '), tables);
  const text = [msg, subCode && `(${subCode})`, subMsg].filter(Boolean).join(' ');
  return createWdtError(kind, `${where}: TOP error ${code}: ${scrub(text) || '(no message)'}`, {
    ...base,
    code,
    subCode,
    reason: `top_${code}`,
    retryAfterMs: parseRetryAfterMs(msg, subMsg),
  });
}

function throwWdt(
  kind: Parameters<typeof createWdtError>[0],
  message: string,
  details: Parameters<typeof createWdtError>[2],
): never {
  throw createWdtError(kind, message, details);
}
