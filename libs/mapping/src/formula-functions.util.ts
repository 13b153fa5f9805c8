import { formatShanghai, formatShanghaiDate, parseShanghai } from '@libs/common';
import { FORMULA_HELPER_NAMES } from '@libs/scheme';
import { Decimal } from 'decimal.js';
import jsonata from 'jsonata';
import { previewValue } from './record-access.util';

/**
 * The JSONata functions this project adds (names and one-line docs in `FORMULA_HELPERS` of
 * `@libs/scheme`). Decimal helpers use decimal.js, never float arithmetic; they take decimal strings
 * ("2.0000") or numbers. Like JSONata built-ins, they return undefined when the value is undefined.
 */

export interface FormulaLimits {
  /** Milliseconds one evaluation may run (JSONata checks between steps). */
  timeoutMs: number;
  /** Maximum expression evaluation depth (guards runaway recursion). */
  maxDepth: number;
  /** Maximum length of any sequence built during evaluation. */
  maxSequence: number;
}

export const DEFAULT_FORMULA_LIMITS: FormulaLimits = { timeoutMs: 250, maxDepth: 200, maxSequence: 100_000 };

const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });
type Dec = InstanceType<typeof Dec>;
const DECIMAL_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;
const MAX_PLACES = 20;

class FormulaFunctionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormulaFunctionError';
  }
}

function toDec(v: unknown, fn: string): Dec {
  if (typeof v === 'number' && Number.isFinite(v)) return new Dec(v);
  if (typeof v === 'string') {
    const s = v.trim();
    if (s.length <= 64 && DECIMAL_TEXT.test(s)) return new Dec(s);
  }
  throw new FormulaFunctionError(`$${fn}: ${previewValue(v)} is not a decimal number`);
}

function places(v: unknown, fn: string, fallback?: number): number | undefined {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_PLACES) {
    throw new FormulaFunctionError(`$${fn}: places must be an integer 0–${MAX_PLACES}`);
  }
  return v;
}

function items(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [v];
}

function shanghaiMs(v: unknown, fn: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const ms = parseShanghai(v);
    if (ms !== undefined) return ms;
  }
  throw new FormulaFunctionError(`$${fn}: ${previewValue(v)} is not a Shanghai wall-clock time or epoch ms`);
}

type Impl = (...args: unknown[]) => unknown;

export const FORMULA_FUNCTIONS: Record<(typeof FORMULA_HELPER_NAMES)[number], Impl> = {
  decimal(x, p) {
    if (x === undefined) return undefined;
    const d = toDec(x, 'decimal');
    const n = places(p, 'decimal');
    return n === undefined ? d.toFixed() : d.toDecimalPlaces(n, Decimal.ROUND_HALF_UP).toFixed(n);
  },
  sum(arr) {
    if (arr === undefined) return undefined;
    let total = new Dec(0);
    for (const v of items(arr)) total = total.plus(toDec(v, 'sum'));
    return Number(total.toFixed());
  },
  dadd(a, b) {
    if (a === undefined || b === undefined) return undefined;
    return toDec(a, 'dadd').plus(toDec(b, 'dadd')).toFixed();
  },
  dsub(a, b) {
    if (a === undefined || b === undefined) return undefined;
    return toDec(a, 'dsub').minus(toDec(b, 'dsub')).toFixed();
  },
  dmul(a, b) {
    if (a === undefined || b === undefined) return undefined;
    return toDec(a, 'dmul').times(toDec(b, 'dmul')).toFixed();
  },
  ddiv(a, b, p) {
    if (a === undefined || b === undefined) return undefined;
    const divisor = toDec(b, 'ddiv');
    if (divisor.isZero()) throw new FormulaFunctionError('$ddiv: division by zero');
    const n = places(p, 'ddiv', 10) as number;
    return toDec(a, 'ddiv').dividedBy(divisor).toDecimalPlaces(n, Decimal.ROUND_HALF_UP).toFixed();
  },
  shanghaiDate(v) {
    if (v === undefined) return undefined;
    return formatShanghaiDate(shanghaiMs(v, 'shanghaiDate'));
  },
  shanghaiDateTime(v) {
    if (v === undefined) return undefined;
    return formatShanghai(shanghaiMs(v, 'shanghaiDateTime'));
  },
  shanghaiMillis(v) {
    if (v === undefined) return undefined;
    if (typeof v !== 'string')
      throw new FormulaFunctionError('$shanghaiMillis: expects Shanghai wall-clock text');
    return shanghaiMs(v, 'shanghaiMillis');
  },
  case(value, table, fallback) {
    if (table === null || typeof table !== 'object' || Array.isArray(table)) {
      throw new FormulaFunctionError('$case: the second argument must be an object like {"a": "x"}');
    }
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return fallback;
    const key = String(value);
    return Object.hasOwn(table, key) ? (table as Record<string, unknown>)[key] : fallback;
  },
};

/** Compiles a JSONata expression with the limits and this project's functions; `$eval` disabled. */
export function compileFormula(
  expression: string,
  limits: FormulaLimits = DEFAULT_FORMULA_LIMITS,
): jsonata.Expression {
  const expr = jsonata(expression, {
    timeout: limits.timeoutMs,
    stack: limits.maxDepth,
    sequence: limits.maxSequence,
  } as jsonata.JsonataOptions);
  for (const name of FORMULA_HELPER_NAMES) expr.registerFunction(name, FORMULA_FUNCTIONS[name]);
  expr.registerFunction('eval', () => {
    throw new FormulaFunctionError('$eval is disabled');
  });
  return expr;
}
