import { formatShanghai, formatShanghaiDate, parseShanghai } from '@libs/common';
import type { FieldType } from './scheme.schema';

/**
 * Conversion of one non-empty source value to the JSON value a field `type` asks for. These rules
 * are part of the scheme format (documented in libs/scheme/README.md); the mapping engine and the scheme
 * validator (for `const` values) share them.
 *
 * - string: strings as is; finite numbers as their shortest decimal text (integers beyond 2^53 are
 *   refused: JSON parsing already lost digits); booleans as "true"/"false"; objects/arrays refused.
 * - ref: as string, then wrapped by the engine into `{"FNumber": v}`.
 * - decimal: a plain decimal string ("2.0000", "-0.5") or a finite number → JSON number, with no
 *   arithmetic: at most 15 significant digits, 15 integer digits and 10 decimal places, so the
 *   number is exactly the decimal written. Exponents, "NaN", "Infinity", "-", "abc" are refused.
 * - integer: "12", "12.0000" or a safe integer number.
 * - date / datetime: Shanghai wall-clock text checked with `parseShanghai`, written as
 *   `yyyy-MM-dd` / `yyyy-MM-dd HH:mm:ss` (no zone shift). WDT's "0000-00-00 00:00:00" means "no
 *   date" and counts as empty. Numbers are refused (format epoch ms with `$shanghaiDateTime`).
 * - boolean: true/false, "true"/"false", "1"/"0", 1/0.
 * Every text result is checked: not longer than `maxLength` (default 2000) and free of control
 * characters, lone UTF-16 surrogates and U+FFFD (the marks of broken encoding upstream).
 */

export type ConversionErrorCode =
  | 'bad_value'
  | 'bad_encoding'
  | 'value_too_long'
  | 'bad_decimal'
  | 'bad_integer'
  | 'bad_date'
  | 'bad_boolean';

/** Thrown by the converters; `problem` reads after the value: `"abc" <problem>`. */
export class ConversionError extends Error {
  override readonly name = 'ConversionError';
  constructor(
    readonly code: ConversionErrorCode,
    readonly problem: string,
  ) {
    super(problem);
  }
}

export interface ConvertOptions {
  maxLength?: number;
  positive?: boolean;
}

export type ConvertedValue = string | number | boolean;

export const DEFAULT_MAX_TEXT_LENGTH = 2000;
const MAX_NUMBER_TEXT = 64;
const MAX_DATE_TEXT = 40;
const SAFE_MAGNITUDE = 1e15;

// Control characters except TAB/LF/CR, DEL, U+FFFD, and unpaired surrogates. SUSPECT is the cheap
// first pass (any surrogate at all); BAD_TEXT then tells pairs (emoji) from unpaired ones.
/* eslint-disable no-control-regex -- matching control characters is the point */
const SUSPECT_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uD800-\uDFFF\uFFFD]/;
const BAD_TEXT =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFD]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/* eslint-enable no-control-regex */
const DECIMAL = /^[+-]?\d+(?:\.\d+)?$/;
const INTEGER = /^[+-]?\d+(?:\.0+)?$/;
const DATETIME_EXACT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const ZERO_DATE = /^0000-00-00(?:[ T]00:00(?::00)?)?$/;

/** True for the values a field treats as "no value": undefined, null and "". */
export function isEmptyValue(v: unknown): v is undefined | null | '' {
  return v === undefined || v === null || v === '';
}

/** Short type name for messages: string, number, boolean, object, array, null. */
export function jsonTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Refuses over-long text and text with broken encoding; returns it unchanged otherwise. */
export function checkText(s: string, maxLength: number = DEFAULT_MAX_TEXT_LENGTH): string {
  if (s.length > maxLength) {
    throw new ConversionError(
      'value_too_long',
      `is ${s.length} characters long (at most ${maxLength} allowed)`,
    );
  }
  if (SUSPECT_TEXT.test(s) && BAD_TEXT.test(s)) {
    throw new ConversionError(
      'bad_encoding',
      'contains a control character, an unpaired UTF-16 surrogate or U+FFFD (text broken by a wrong encoding upstream)',
    );
  }
  return s;
}

/** The text of a scalar value (see rules above), checked. */
export function toText(v: unknown, maxLength: number = DEFAULT_MAX_TEXT_LENGTH): string {
  switch (typeof v) {
    case 'string':
      return checkText(v, maxLength);
    case 'number':
      if (!Number.isFinite(v)) throw new ConversionError('bad_value', 'is not a finite number');
      if (Number.isInteger(v) && !Number.isSafeInteger(v)) {
        throw new ConversionError(
          'bad_value',
          'is an integer beyond 2^53 (digits were lost; send it as a string)',
        );
      }
      return checkText(String(v), maxLength);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      throw new ConversionError('bad_value', `is ${article(jsonTypeOf(v))}, expected text`);
  }
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

/** A decimal string or finite number → JSON number, exactly (see rules above). */
export function toDecimal(v: unknown, positive = false): number {
  let n: number;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ConversionError('bad_decimal', 'is not a finite number');
    if (Math.abs(v) >= SAFE_MAGNITUDE)
      throw new ConversionError('bad_decimal', 'is out of range (|x| < 10^15)');
    n = v;
  } else if (typeof v === 'string') {
    if (v.length > MAX_NUMBER_TEXT)
      throw new ConversionError('bad_decimal', 'is too long to be a decimal number');
    const s = v.trim();
    if (!DECIMAL.test(s)) {
      throw new ConversionError('bad_decimal', 'is not a plain decimal number like "2.0000"');
    }
    const unsigned = s[0] === '+' || s[0] === '-' ? s.slice(1) : s;
    const dot = unsigned.indexOf('.');
    const intDigits = (dot < 0 ? unsigned : unsigned.slice(0, dot)).replace(/^0+/, '');
    const fracDigits = dot < 0 ? '' : unsigned.slice(dot + 1).replace(/0+$/, '');
    if (intDigits.length > 15)
      throw new ConversionError('bad_decimal', 'is out of range (more than 15 integer digits)');
    if (fracDigits.length > 10) throw new ConversionError('bad_decimal', 'has more than 10 decimal places');
    if ((intDigits + fracDigits).replace(/^0+/, '').length > 15) {
      throw new ConversionError('bad_decimal', 'has more than 15 significant digits (no exact JSON number)');
    }
    n = Number(s);
  } else {
    throw new ConversionError('bad_decimal', `is ${article(jsonTypeOf(v))}, expected a decimal string`);
  }
  if (positive && !(n > 0)) throw new ConversionError('bad_decimal', 'must be greater than 0');
  return n === 0 ? 0 : n;
}

/** "12", "12.0000" or a safe integer → JSON integer. */
export function toInteger(v: unknown, positive = false): number {
  let n: number;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new ConversionError('bad_integer', 'is not a safe integer');
    n = v;
  } else if (typeof v === 'string') {
    if (v.length > MAX_NUMBER_TEXT) throw new ConversionError('bad_integer', 'is too long to be an integer');
    const s = v.trim();
    if (!INTEGER.test(s))
      throw new ConversionError('bad_integer', 'is not an integer like "12" or "12.0000"');
    n = Number(s.split('.')[0]);
    if (!Number.isSafeInteger(n))
      throw new ConversionError('bad_integer', 'is out of the safe integer range');
  } else {
    throw new ConversionError('bad_integer', `is ${article(jsonTypeOf(v))}, expected an integer string`);
  }
  if (positive && !(n > 0)) throw new ConversionError('bad_integer', 'must be greater than 0');
  return n === 0 ? 0 : n;
}

function shanghaiMillis(v: unknown, what: string): number | undefined {
  if (typeof v !== 'string') {
    throw new ConversionError('bad_date', `is ${article(jsonTypeOf(v))}, expected ${what} text`);
  }
  if (v.length > MAX_DATE_TEXT) throw new ConversionError('bad_date', 'is too long to be a date');
  if (ZERO_DATE.test(v)) return undefined;
  const ms = parseShanghai(v);
  if (ms === undefined) {
    throw new ConversionError('bad_date', `is not a Shanghai wall-clock ${what} like "2026-11-28 01:30:00"`);
  }
  return ms;
}

/** Shanghai wall-clock text → `yyyy-MM-dd HH:mm:ss`; undefined for WDT's zero date. */
export function toDateTime(v: unknown): string | undefined {
  if (typeof v === 'string' && DATETIME_EXACT.test(v) && !ZERO_DATE.test(v)) {
    // Already canonical: validate (calendar, ranges) and keep the text as is.
    if (parseShanghai(v) === undefined) {
      throw new ConversionError('bad_date', 'is not a valid Shanghai date/time');
    }
    return v;
  }
  const ms = shanghaiMillis(v, 'date/time');
  return ms === undefined ? undefined : formatShanghai(ms);
}

/** Shanghai wall-clock text → `yyyy-MM-dd` (the Shanghai calendar date); undefined for the zero date. */
export function toDate(v: unknown): string | undefined {
  const ms = shanghaiMillis(v, 'date');
  return ms === undefined ? undefined : formatShanghaiDate(ms);
}

export function toBoolean(v: unknown): boolean {
  if (v === true || v === 1 || v === 'true' || v === '1') return true;
  if (v === false || v === 0 || v === 'false' || v === '0') return false;
  throw new ConversionError('bad_boolean', 'is not a boolean (true/false, "true"/"false", "1"/"0")');
}

/**
 * Converts a non-empty value to `type`. Returns undefined only when the value means "empty" for the
 * type (WDT's zero date). For `ref` this returns the reference text; the engine wraps it.
 */
export function convertValue(
  type: FieldType,
  v: unknown,
  opts: ConvertOptions = {},
): ConvertedValue | undefined {
  switch (type) {
    case 'string':
    case 'ref':
      return toText(v, opts.maxLength);
    case 'decimal':
      return toDecimal(v, opts.positive);
    case 'integer':
      return toInteger(v, opts.positive);
    case 'datetime':
      return toDateTime(v);
    case 'date':
      return toDate(v);
    case 'boolean':
      return toBoolean(v);
  }
}
