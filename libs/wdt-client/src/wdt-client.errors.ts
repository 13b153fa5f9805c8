/**
 * Error hierarchy of the WDT client. Every request failure is a `WdtError` with a `kind` that says
 * what the caller should do:
 *  - `auth`           bad sign / appkey / sid / clock: permanent, alert someone;
 *  - `rate_limited`   too many calls: back off and retry;
 *  - `invalid_params` the request itself is wrong (window too long, bad page size …): permanent;
 *  - `transient`      network error, timeout, 5xx, HTML error page, malformed JSON: retry.
 * Messages never contain secrets: the client scrubs anything it puts in them (see `redactSecrets`).
 */
export type WdtErrorKind = 'auth' | 'rate_limited' | 'invalid_params' | 'transient';

export const WDT_ERROR_KINDS: readonly WdtErrorKind[] = [
  'auth',
  'rate_limited',
  'invalid_params',
  'transient',
];

export type WdtGateway = 'native' | 'qimen';

export interface WdtErrorDetails {
  gateway?: WdtGateway;
  /** The gateway's error code as received (stringified), e.g. native `1012`, TOP `25`. */
  code?: string;
  /** TOP `sub_code`, when there is one. */
  subCode?: string;
  httpStatus?: number;
  /** Short machine-readable reason, e.g. `invalid_signature`, `timeout`, `html_page`, `missing_stockout_list`. */
  reason?: string;
  pageNo?: number;
  /** How many HTTP attempts were made before this error was given to the caller. */
  attempts?: number;
  /** Server-suggested wait before the next call (parsed from a "ban will last N seconds" message). */
  retryAfterMs?: number;
}

export abstract class WdtError extends Error {
  abstract readonly kind: WdtErrorKind;
  readonly gateway?: WdtGateway;
  readonly code?: string;
  readonly subCode?: string;
  readonly httpStatus?: number;
  readonly reason?: string;
  readonly pageNo?: number;
  readonly retryAfterMs?: number;
  attempts?: number;

  constructor(message: string, details: WdtErrorDetails = {}) {
    super(message);
    this.name = new.target.name;
    this.gateway = details.gateway;
    this.code = details.code;
    this.subCode = details.subCode;
    this.httpStatus = details.httpStatus;
    this.reason = details.reason;
    this.pageNo = details.pageNo;
    this.attempts = details.attempts;
    this.retryAfterMs = details.retryAfterMs;
  }

  /** Whether the client's retry policy retries this error. */
  get retryable(): boolean {
    return this.kind === 'transient' || this.kind === 'rate_limited';
  }

  /** Permanent errors need a person (fix credentials, clock or request); retrying will not help. */
  get permanent(): boolean {
    return !this.retryable;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.kind,
      message: this.message,
      gateway: this.gateway,
      code: this.code,
      subCode: this.subCode,
      httpStatus: this.httpStatus,
      reason: this.reason,
      pageNo: this.pageNo,
      attempts: this.attempts,
    };
  }
}

/** Bad signature, unknown appkey/sid, timestamp outside the allowed skew. Never retried. */
export class WdtAuthError extends WdtError {
  readonly kind = 'auth' as const;
}

/** "Calls too frequent" (native 1012-style, TOP code 7, HTTP 429). Retried after backoff. */
export class WdtRateLimitedError extends WdtError {
  readonly kind = 'rate_limited' as const;
}

/** The request is wrong (window > 30 days, bad page size, missing param …). Never retried. */
export class WdtInvalidParamsError extends WdtError {
  readonly kind = 'invalid_params' as const;
}

/** Network error, timeout, HTTP 5xx, gateway hiccup. Retried. */
export class WdtTransientError extends WdtError {
  readonly kind: WdtErrorKind = 'transient';
}

/**
 * The response could not be understood: not JSON, an HTML error page, `stockout_list` missing or not
 * an array, counts of the wrong type. Treated as transient (gateways do serve broken pages under load).
 */
export class WdtMalformedResponseError extends WdtTransientError {}

/** A single stockout record that does not have the shape `normalizeStockout` needs. */
export class WdtRecordError extends Error {
  constructor(
    message: string,
    /** Path of the offending field, e.g. `order_no` or `details_list[1].spec_no`. */
    readonly field: string,
    readonly stockoutId?: string,
    readonly orderNo?: string,
  ) {
    super(message);
    this.name = 'WdtRecordError';
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      field: this.field,
      stockoutId: this.stockoutId,
      orderNo: this.orderNo,
    };
  }
}

/** Client options that cannot work (missing appkey for the native gateway …). Names the option, never its value. */
export class WdtConfigError extends Error {
  constructor(
    message: string,
    readonly option: string,
  ) {
    super(message);
    this.name = 'WdtConfigError';
  }
}

export function isWdtError(error: unknown): error is WdtError {
  return error instanceof WdtError;
}

const ERROR_CLASSES: Record<WdtErrorKind, new (message: string, details?: WdtErrorDetails) => WdtError> = {
  auth: WdtAuthError,
  rate_limited: WdtRateLimitedError,
  invalid_params: WdtInvalidParamsError,
  transient: WdtTransientError,
};

/** Builds the error class matching `kind`. */
export function createWdtError(kind: WdtErrorKind, message: string, details: WdtErrorDetails = {}): WdtError {
  return new ERROR_CLASSES[kind](message, details);
}
