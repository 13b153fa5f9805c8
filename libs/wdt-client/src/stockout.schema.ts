import { z } from 'zod';
import { parseShanghai } from '@libs/common';
import { WdtRecordError } from './wdt-client.errors';

/**
 * A validated, typed view of one purchase-return stockout record. The raw record (exactly as WDT sent
 * it) stays available as `raw`; this view only checks and types the fields the integration relies on.
 * Decimals stay strings ("2.0000") — convert them with decimal.js, never with float arithmetic.
 */

const text = z.union([z.string(), z.number()]).transform((v) => String(v).trim());
const requiredText = text.refine((v) => v !== '', 'must not be empty');
const optionalText = z
  .union([z.string(), z.number(), z.null()])
  .optional()
  .transform((v) => (v === null || v === undefined || String(v).trim() === '' ? null : String(v).trim()));
const decimalText = z
  .union([z.string(), z.number()])
  .transform((v) => String(v).trim())
  .refine((v) => /^-?\d+(\.\d+)?$/.test(v), 'must be a decimal number such as "2.0000"');
const optionalDecimal = z
  .union([z.string(), z.number(), z.null()])
  .optional()
  .transform((v) => (v === null || v === undefined || String(v).trim() === '' ? null : String(v).trim()))
  .refine((v) => v === null || /^-?\d+(\.\d+)?$/.test(v), 'must be a decimal number such as "2.0000"');
const status = z
  .union([z.number().int(), z.string().regex(/^\s*\d+\s*$/, 'must be an integer status code')])
  .transform((v) => Number(v));
const wallClock = z
  .string()
  .refine((v) => parseShanghai(v) !== undefined, 'must be a "yyyy-MM-dd HH:mm:ss" time');
/** WDT sends "0000-00-00 00:00:00" or "" for "no time yet" (e.g. consign_time of an unshipped order). */
const optionalWallClock = z
  .union([z.string(), z.null()])
  .optional()
  .transform((v) =>
    v === null || v === undefined || v.trim() === '' || v.startsWith('0000-00-00') ? null : v,
  )
  .refine((v) => v === null || parseShanghai(v) !== undefined, 'must be a "yyyy-MM-dd HH:mm:ss" time');

const positionSchema = z.object({
  position_id: optionalText,
  position_no: optionalText,
  position_goods_count: optionalDecimal,
});

const lineSchema = z.object({
  rec_id: optionalText,
  spec_no: requiredText,
  goods_count: decimalText,
  goods_no: optionalText,
  goods_name: optionalText,
  spec_name: optionalText,
  spec_code: optionalText,
  goods_unit: optionalText,
  price: optionalDecimal,
  sell_price: optionalDecimal,
  cost_price: optionalDecimal,
  total_amount: optionalDecimal,
  batch_no: optionalText,
  remark: optionalText,
  position_list: z
    .union([z.array(positionSchema), z.null()])
    .optional()
    .transform((v) => v ?? []),
});

const stockoutSchema = z.object({
  stockout_id: requiredText,
  order_no: requiredText,
  src_order_no: optionalText,
  stockout_no: optionalText,
  status,
  consign_time: optionalWallClock,
  modified: wallClock,
  md5_str: optionalText,
  warehouse_no: requiredText,
  provider_no: optionalText,
  provider_name: optionalText,
  details: z.array(lineSchema),
});

export type WdtStockoutPosition = z.output<typeof positionSchema>;
export type WdtStockoutLine = z.output<typeof lineSchema> & { raw: Record<string, unknown> };
export type WdtStockout = Omit<z.output<typeof stockoutSchema>, 'details'> & {
  /** Goods lines, from `details_list` (real API) or `detail_list` (the seed's name). */
  details: WdtStockoutLine[];
  /** Which key the lines came from. */
  detailsKey: 'details_list' | 'detail_list';
  /** The record exactly as received. */
  raw: Record<string, unknown>;
};

/** WDT stockout statuses. */
export const WDT_STOCKOUT_STATUS = {
  CANCELLED: 5,
  PENDING_REVIEW: 50,
  REVIEWED: 55,
  SHIPPED: 95,
  COMPLETED: 110,
} as const;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const idOf = (value: unknown): string | undefined =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const part of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

function formatPath(path: readonly PropertyKey[], detailsKey: string): string {
  let out = '';
  for (const part of path) {
    const name = part === 'details' ? detailsKey : String(part);
    out += typeof part === 'number' ? `[${part}]` : out === '' ? name : `.${name}`;
  }
  return out || '(record)';
}

/**
 * Validates one raw stockout record and returns the typed view. Throws `WdtRecordError` naming the
 * offending field (e.g. `order_no`, `details_list[1].goods_count`). Messages carry ids, never personal data.
 */
export function normalizeStockout(raw: unknown): WdtStockout {
  if (!isObject(raw)) {
    throw new WdtRecordError(
      `WDT stockout record is ${raw === null ? 'null' : typeof raw}, expected an object`,
      '(record)',
    );
  }
  const stockoutId = idOf(raw.stockout_id);
  const orderNo = idOf(raw.order_no);
  const label = `WDT stockout record (stockout_id=${stockoutId ?? '?'}, order_no=${orderNo ?? '?'})`;

  const detailsKey = raw.details_list !== undefined ? 'details_list' : 'detail_list';
  const lines = raw[detailsKey];
  if (lines === undefined || lines === null) {
    throw new WdtRecordError(
      `${label}: field details_list (or detail_list) is missing`,
      'details_list',
      stockoutId,
      orderNo,
    );
  }
  if (!Array.isArray(lines)) {
    throw new WdtRecordError(
      `${label}: field ${detailsKey} is ${typeof lines}, expected an array`,
      detailsKey,
      stockoutId,
      orderNo,
    );
  }

  const result = stockoutSchema.safeParse({ ...raw, details: lines });
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = formatPath(issue.path, detailsKey);
    const value = valueAt({ ...raw, details: lines }, issue.path);
    const problem =
      value === undefined
        ? 'is missing'
        : value === null
          ? 'is null'
          : issue.code === 'invalid_union' || issue.code === 'invalid_type'
            ? `has the wrong type (${Array.isArray(value) ? 'array' : typeof value})`
            : issue.message;
    throw new WdtRecordError(`${label}: field ${field} ${problem}`, field, stockoutId, orderNo);
  }
  const { details, ...header } = result.data;
  return {
    ...header,
    details: details.map((line, index) => ({ ...line, raw: lines[index] as Record<string, unknown> })),
    detailsKey,
    raw,
  };
}
