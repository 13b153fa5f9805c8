import Decimal from 'decimal.js';
import type { CompareKind } from './reconcile.types';

/**
 * Value equality between a mapped model value (what the transformer sends) and what
 * ExecuteBillQuery returns for the same field. Empty on both sides (absent, null, '', blanks, an
 * empty reference, and 0 / false where Kingdee fills a default) is equal.
 */

const DAY = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]|$)/;

/** A base-data value as its number: `{FNumber: 'X'}` (any casing of the key) or the text itself. */
function refText(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const hit = Object.entries(v).find(([k]) => k.toUpperCase() === 'FNUMBER');
    return hit ? hit[1] : v;
  }
  return v;
}

function isBlank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

function decimalOf(v: unknown): Decimal | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? new Decimal(v) : undefined;
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(t)) return undefined;
  return new Decimal(t);
}

function dayOf(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = DAY.exec(v.trim());
  if (!m) return undefined;
  return `${m[1]}-${m[2].padStart(2, '0')}-${m[3].padStart(2, '0')}`;
}

function booleanOf(v: unknown): boolean | undefined {
  if (v === true || v === 1 || v === '1' || (typeof v === 'string' && v.toLowerCase() === 'true'))
    return true;
  if (v === false || v === 0 || v === '0' || (typeof v === 'string' && v.toLowerCase() === 'false'))
    return false;
  return undefined;
}

/** The comparable form of a value: a canonical string, or null for "no value". */
export function normaliseValue(kind: CompareKind, raw: unknown): string | null {
  const v = kind === 'ref' ? refText(raw) : raw;
  if (isBlank(v)) return null;
  switch (kind) {
    case 'decimal': {
      const d = decimalOf(v);
      if (d === undefined) return displayValue(v);
      return d.isZero() ? null : d.toFixed();
    }
    case 'day':
      return dayOf(v) ?? displayValue(v);
    case 'boolean': {
      const b = booleanOf(v);
      if (b === undefined) return displayValue(v);
      return b ? 'true' : null;
    }
    default:
      return displayValue(v).trim();
  }
}

/** Whether a mapped value and Kingdee's value are the same for a field compared as `kind`. */
export function sameValue(kind: CompareKind, expected: unknown, actual: unknown): boolean {
  return normaliseValue(kind, expected) === normaliseValue(kind, actual);
}

/** A value as report text: base data by number, scalars as text, other shapes as JSON. */
export function displayValue(raw: unknown): string {
  const v = refText(raw);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === undefined || v === null) return '';
  return JSON.stringify(v);
}

/** Report text of one side of a difference (null: no value). */
export function reportValue(raw: unknown): string | null {
  const v = refText(raw);
  return isBlank(v) ? null : displayValue(v);
}
