import { createHash } from 'node:crypto';
import { Faker, base, en, zh_CN } from '@faker-js/faker';
import { formatShanghai } from '@libs/common';
import {
  SANDBOX_MATERIALS,
  SANDBOX_PROVIDERS,
  SANDBOX_UNKNOWN_CODES,
  SANDBOX_WAREHOUSES,
  SandboxMaterial,
  SandboxProvider,
  findMaterial,
} from './reference-data';

/** A stockout order as WDT sends it: every value a string (or the nested lists). */
export type WdtOrderRecord = Record<string, unknown> & {
  stockout_id: string;
  order_no: string;
  status: string;
  modified: string;
  details_list?: Record<string, unknown>[];
};

export const ZERO_TIME = '0000-00-00 00:00:00';
const DAY_MS = 86_400_000;

export interface GenerateOptions {
  count: number;
  seed: number;
  /** Epoch ms; consign/modified times fall in [fromMs, toMs]. */
  fromMs: number;
  toMs: number;
  /** 0..1: share of orders carrying one deliberately unknown warehouse/provider/material code. */
  unknownCodeRate?: number;
  /** Relative weights per status (statuses not named are not generated); default 5:10%, 50:10%, 55:10%, 95:30%, 110:40%. */
  statusWeights?: Partial<Record<'5' | '50' | '55' | '95' | '110', number>>;
}

/**
 * Shape fixed by the caller instead of drawn at random (lazily generated sets: the store must know an
 * order's status, warehouse and times without generating it). Only used when given, so seeded eager
 * generation draws exactly as before.
 */
export interface FixedShape {
  status: number;
  /** Index into SANDBOX_WAREHOUSES (never replaced by the unknown warehouse code). */
  warehouseIndex: number;
  /** consign_time of a shipped order, modified of an unshipped one (epoch ms, whole seconds). */
  axisMs: number;
  /** modified − consign_time of a shipped order. */
  modifiedLagMs: number;
  /** Digits of the sequence in order_no / src_order_no (unique up to 10^digits ids). */
  seqDigits: number;
}

export interface IdSource {
  nextStockoutId(): number;
  nextRecId(): number;
}

const STOCKOUT_REASONS = ['质量问题退货', '来货破损', '规格不符', '超量到货退回', '临期退回', '供应商换货'];
const REMARKS = [
  '',
  '',
  '请供应商尽快补发',
  '外箱破损，已拍照留证',
  '批次不符，整批退回',
  '已与供应商电话确认🙏',
  '退回后冲抵应付款',
  '加急处理⚡',
];
const LINE_REMARKS = ['', '', '', '包装破损', '色差', '数量多发', '临期'];
const LOGISTICS = [
  { id: '11', prefix: 'SF' },
  { id: '12', prefix: 'YT' },
  { id: '13', prefix: 'ZTO' },
  { id: '14', prefix: 'JD' },
];

/** Amounts are kept in 1/10000 yuan integers and formatted with 4 decimals: no float drift. */
export const toUnits = (decimal: string): number => Math.round(Number(decimal) * 10_000);
export const fmt4 = (units: number): string => {
  const sign = units < 0 ? '-' : '';
  const abs = Math.abs(Math.round(units));
  return `${sign}${Math.trunc(abs / 10_000)}.${String(abs % 10_000).padStart(4, '0')}`;
};

/**
 * md5 over the record's content minus `md5_str` and the `modified` stamps (header and lines): it changes
 * iff the content changes, so a bare "touch" keeps it.
 */
export function computeMd5Str(order: Record<string, unknown>): string {
  const { md5_str: _md5, modified: _modified, ...content } = order;
  for (const key of ['details_list', 'detail_list']) {
    const lines = content[key];
    if (Array.isArray(lines)) {
      content[key] = lines.map((line: unknown) => {
        if (typeof line !== 'object' || line === null) return line;
        const { modified: _lineModified, ...rest } = line as Record<string, unknown>;
        return rest;
      });
    }
  }
  return createHash('md5').update(stableStringify(content), 'utf8').digest('hex');
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

const DEFAULT_STATUS_WEIGHTS = { '5': 10, '50': 10, '55': 10, '95': 30, '110': 40 };

/**
 * Seeded, deterministic generator of purchase-return stockouts carrying every field of the seed's
 * response table. Same seed + options + ids → same orders.
 */
export class OrderGenerator {
  private readonly faker: Faker;

  constructor(seed: number | number[]) {
    this.faker = new Faker({ locale: [zh_CN, en, base] });
    this.faker.seed(seed);
  }

  /** Re-seeds the PRNG (one generator reused for many independently seeded orders). */
  reseed(seed: number | number[]): this {
    this.faker.seed(seed);
    return this;
  }

  generate(options: GenerateOptions, ids: IdSource): WdtOrderRecord[] {
    return Array.from({ length: options.count }, () => this.one(options, ids));
  }

  /** One complete order. */
  one(options: Omit<GenerateOptions, 'count' | 'seed'>, ids: IdSource, fixed?: FixedShape): WdtOrderRecord {
    const f = this.faker;
    const stockoutId = ids.nextStockoutId();
    const status = fixed?.status ?? this.pickStatus(options.statusWeights);
    const shipped = status >= 95;
    const unknown =
      (options.unknownCodeRate ?? 0) > 0 &&
      f.number.float({ min: 0, max: 1 }) < (options.unknownCodeRate ?? 0);
    const unknownField = unknown
      ? f.helpers.arrayElement(
          fixed
            ? (['provider_no', 'spec_no'] as const)
            : (['warehouse_no', 'provider_no', 'spec_no'] as const),
        )
      : undefined;

    const warehouse = fixed
      ? SANDBOX_WAREHOUSES[fixed.warehouseIndex % SANDBOX_WAREHOUSES.length]
      : f.helpers.arrayElement(SANDBOX_WAREHOUSES);
    const provider = f.helpers.arrayElement(SANDBOX_PROVIDERS);
    const span = Math.max(0, options.toMs - options.fromMs);
    const axisMs =
      fixed?.axisMs ?? options.fromMs + f.number.int({ min: 0, max: Math.floor(span / 1000) }) * 1000;
    const createdMs = axisMs - f.number.int({ min: 600, max: 2 * 86_400 }) * 1000;
    const checkMs = createdMs + f.number.int({ min: 60, max: 3_600 }) * 1000;
    const consignMs = shipped ? axisMs : undefined;
    const lagMs = fixed ? fixed.modifiedLagMs : shipped ? f.number.int({ min: 5, max: 600 }) * 1000 : 0;
    const modifiedMs = shipped ? axisMs + lagMs : axisMs;
    const created = formatShanghai(createdMs);
    const digits = fixed?.seqDigits ?? 5;
    const seq = String(stockoutId % 10 ** digits).padStart(digits, '0');
    const dateTag = formatShanghai(createdMs).slice(0, 10).replace(/-/g, '');
    const returnNo = `CGTH${dateTag}${seq}`;
    const orderNo = `CT${dateTag}${seq}`;
    const operatorId = String(f.number.int({ min: 101, max: 130 }));
    const operatorName = f.person.fullName();

    const lineCount = f.number.int({ min: 1, max: 5 });
    const materials = f.helpers.arrayElements(SANDBOX_MATERIALS, lineCount);
    const lines = materials.map((material, index) =>
      this.line(material, {
        stockoutId: String(stockoutId),
        recId: ids.nextRecId(),
        warehouseId: warehouse.warehouse_id,
        created,
        modified: formatShanghai(modifiedMs),
        specNoOverride: unknownField === 'spec_no' && index === 0 ? SANDBOX_UNKNOWN_CODES.spec_no : undefined,
      }),
    );

    const logistics = f.helpers.arrayElement(LOGISTICS);
    const order: WdtOrderRecord = {
      stockout_id: String(stockoutId),
      order_no: orderNo,
      src_order_no: returnNo,
      warehouse_no:
        unknownField === 'warehouse_no' ? SANDBOX_UNKNOWN_CODES.warehouse_no : warehouse.warehouse_no,
      status: String(status),
      consign_time: consignMs === undefined ? ZERO_TIME : formatShanghai(consignMs),
      order_type: '3',
      order_type_name: '采购退货出库',
      subtype: '0',
      goods_count: '0.0000',
      goods_total_amount: '0.0000',
      goods_total_cost: '0.0000',
      post_fee: fmt4(shipped ? f.number.int({ min: 0, max: 30 }) * 10_000 : 0),
      logistics_no: shipped ? `${logistics.prefix}${f.string.numeric(12)}` : '',
      package_fee: '0.0000',
      ...this.receiver(provider),
      weight: '0.0000',
      remark: f.helpers.arrayElement(REMARKS),
      stockout_reason: f.helpers.arrayElement(STOCKOUT_REASONS),
      outer_no: f.datatype.boolean(0.3) ? `WB${f.string.numeric(10)}` : '',
      operator_name: operatorName,
      return_no: returnNo,
      provider_no: unknownField === 'provider_no' ? SANDBOX_UNKNOWN_CODES.provider_no : provider.provider_no,
      provider_name: unknownField === 'provider_no' ? '未知供应商' : provider.provider_name,
      modified: formatShanghai(modifiedMs),
      pr_api_outer_no: '',
      last_load_purchase_no: `CG${dateTag}${String(f.number.int({ min: 1, max: 9999 })).padStart(4, '0')}`,
      picklist_print_status: shipped ? '1' : '0',
      logistics_print_status: shipped ? '1' : '0',
      sendbill_print_status: shipped ? '1' : '0',
      stockout_no: orderNo,
      src_order_type: '3',
      src_order_id: String(20_000 + (stockoutId % 100_000)),
      wms_status: '0',
      error_info: '',
      warehouse_type: '1',
      warehouse_id: warehouse.warehouse_id,
      customer_id: '0',
      freeze_reason: '0',
      is_allocated: status >= 55 ? '1' : '0',
      consign_status: shipped ? '1' : '0',
      ebill_status: '0',
      operator_id: operatorId,
      goods_type_count: '0',
      md5_str: '',
      raw_goods_count: '0.0000',
      custom_type: '0',
      receiver_ring: '0',
      to_deliver_time: '',
      pre_charge_time: ZERO_TIME,
      logistics_id: shipped ? logistics.id : '0',
      unknown_goods_amount: '0.0000',
      calc_post_cost: '0.0000',
      post_cost: '0.0000',
      calc_weight: '0.0000',
      post_weight: '0.0000',
      package_id: '0',
      package_cost: '0.0000',
      has_invoice: '0',
      printer_id: shipped ? operatorId : '0',
      pick_error_count: '0',
      picker_id: shipped ? operatorId : '0',
      sorter_id: '0',
      examiner_id: shipped ? operatorId : '0',
      consigner_id: shipped ? operatorId : '0',
      packager_id: '0',
      pack_score: '0',
      pick_score: '0',
      checkouter_id: '0',
      watcher_id: '0',
      picklist_no: shipped ? `JH${dateTag}${seq}` : '',
      picklist_seq: shipped ? String(f.number.int({ min: 1, max: 50 })) : '0',
      invoice_print_status: '0',
      flag_id: '0',
      logistics_template_id: '0',
      sendbill_template_id: '0',
      pos_allocate_mode: '0',
      note_count: '0',
      reason_id: String(f.number.int({ min: 1, max: 6 })),
      lock_id: '0',
      reserve: '',
      block_reason: '0',
      batch_no: '',
      stock_check_time: status >= 55 ? formatShanghai(checkMs) : ZERO_TIME,
      details_list: lines,
    };
    return finalizeOrder(order);
  }

  private pickStatus(weights: GenerateOptions['statusWeights']): number {
    // Given weights are the whole distribution (statuses not named get none), not a patch of the default.
    const merged: Record<string, number> =
      weights && Object.keys(weights).length > 0 ? { ...weights } : DEFAULT_STATUS_WEIGHTS;
    return Number(
      this.faker.helpers.weightedArrayElement(
        Object.entries(merged)
          .filter(([, weight]) => weight > 0)
          .map(([value, weight]) => ({ value, weight })),
      ),
    );
  }

  private receiver(provider: SandboxProvider): Record<string, string> {
    return {
      receiver_name: provider.contact,
      receiver_country: '中国',
      receiver_province: provider.province,
      receiver_city: provider.city,
      receiver_district: provider.district,
      receiver_address: provider.address,
      receiver_mobile: provider.mobile,
      receiver_telno: provider.telno,
      receiver_zip: provider.zip,
      receiver_area: `${provider.province} ${provider.city} ${provider.district}`,
    };
  }

  /** One goods line for `material`, with 1–2 storage positions. */
  line(
    material: SandboxMaterial,
    ctx: {
      stockoutId: string;
      recId: number;
      warehouseId: string;
      created: string;
      modified: string;
      specNoOverride?: string;
    },
  ): Record<string, unknown> {
    const f = this.faker;
    const qtyUnits = material.fractional
      ? f.number.int({ min: 1, max: 40 }) * 5_000
      : f.number.int({ min: 1, max: 50 }) * 10_000;
    const cost = toUnits(material.cost_price);
    const positions = this.positions(qtyUnits, ctx.warehouseId);
    const batch = f.datatype.boolean(0.4) ? `PC${f.string.numeric(8)}` : '';
    return {
      rec_id: String(ctx.recId),
      stockout_id: ctx.stockoutId,
      spec_no: ctx.specNoOverride ?? material.spec_no,
      goods_count: fmt4(qtyUnits),
      sell_price: material.sell_price,
      brand_no: material.brand_no,
      brand_name: material.brand_name,
      goods_name: material.goods_name,
      goods_no: material.goods_no,
      spec_name: material.spec_name,
      spec_code: material.spec_code,
      cost_price: material.cost_price,
      total_amount: fmt4((qtyUnits * cost) / 10_000),
      weight: fmt4((qtyUnits * toUnits(material.weight)) / 10_000),
      goods_type: '1',
      goods_unit: material.goods_unit,
      batch_no: batch,
      batch_remark: '',
      expire_date: batch ? '2027-12-31' : '0000-00-00',
      remark: f.helpers.arrayElement(LINE_REMARKS),
      goods_id: material.goods_id,
      spec_id: material.spec_id,
      position_id: positions[0].position_id,
      src_order_type: '3',
      src_order_detail_id: String(ctx.recId + 700_000),
      base_unit_id: '1',
      unit_id: '0',
      unit_ratio: '1.0000',
      num2: '0.0000',
      num: fmt4(qtyUnits),
      price: material.cost_price,
      batch_id: batch ? String(f.number.int({ min: 1000, max: 9999 })) : '0',
      is_examined: '0',
      is_package: '0',
      is_zero_cost: '0',
      scan_type: '0',
      modified: ctx.modified,
      created: ctx.created,
      position_list: positions,
    };
  }

  private positions(qtyUnits: number, warehouseId: string): Record<string, string>[] {
    const f = this.faker;
    const split = qtyUnits >= 20_000 && f.datatype.boolean(0.3);
    const first = split ? Math.floor(qtyUnits / 20_000) * 10_000 : qtyUnits;
    const make = (units: number) => {
      const zone = f.helpers.arrayElement(['A', 'B', 'C']);
      const row = f.number.int({ min: 1, max: 20 });
      const col = f.number.int({ min: 1, max: 10 });
      return {
        position_id: String(Number(warehouseId) * 1000 + row * 10 + col),
        position_no: `${zone}-${String(row).padStart(2, '0')}-${String(col).padStart(2, '0')}`,
        position_goods_count: fmt4(units),
      };
    };
    return split ? [make(first), make(qtyUnits - first)] : [make(qtyUnits)];
  }
}

/**
 * Recomputes the header aggregates (counts, amounts, weight) from the lines and `md5_str`. Fields listed
 * in `keep` are left as they are (an explicit value given through the admin API wins).
 */
export function finalizeOrder(order: WdtOrderRecord, keep: ReadonlySet<string> = new Set()): WdtOrderRecord {
  const lines = (
    order.details_list ??
    (order.detail_list as Record<string, unknown>[] | undefined) ??
    []
  ).filter((line): line is Record<string, unknown> => typeof line === 'object' && line !== null);
  let qty = 0;
  let amount = 0;
  let cost = 0;
  let weight = 0;
  for (const line of lines) {
    const lineQty = toUnits(String(line.goods_count ?? '0'));
    const sellUnits = toUnits(String(line.sell_price ?? '0'));
    qty += lineQty;
    amount += (lineQty * sellUnits) / 10_000;
    cost += (lineQty * toUnits(String(line.cost_price ?? '0'))) / 10_000;
    weight += toUnits(String(line.weight ?? '0'));
  }
  const set = (key: string, value: string) => {
    if (!keep.has(key)) order[key] = value;
  };
  set('goods_count', fmt4(qty));
  set('raw_goods_count', fmt4(qty));
  set('goods_total_amount', fmt4(amount));
  set('goods_total_cost', fmt4(cost));
  set('weight', fmt4(weight));
  set('calc_weight', fmt4(weight));
  set('goods_type_count', String(lines.length));
  set('md5_str', computeMd5Str(order));
  return order;
}

/** A generator line built for a given spec_no (known material data when it exists). */
export function materialFor(specNo: string | undefined, fallbackIndex: number): SandboxMaterial {
  return (
    (specNo ? findMaterial(specNo) : undefined) ??
    SANDBOX_MATERIALS[Math.abs(fallbackIndex) % SANDBOX_MATERIALS.length]
  );
}

/** Default seeding range: the 7 days up to `nowMs`. */
export function defaultSeedRange(nowMs: number): { fromMs: number; toMs: number } {
  return { fromMs: nowMs - 7 * DAY_MS, toMs: nowMs };
}
