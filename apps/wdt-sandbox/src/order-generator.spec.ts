import { parseShanghai } from '@libs/common';
import { normalizeStockout } from '@libs/wdt-client';
import { OrderGenerator, computeMd5Str } from './order-generator';
import { OrderStore } from './order-store';
import {
  SANDBOX_MATERIALS,
  SANDBOX_PROVIDERS,
  SANDBOX_UNKNOWN_CODES,
  SANDBOX_WAREHOUSES,
} from './reference-data';

/** Every response field of the seed's table (header, `detail_list.*` lines and their `position_list`). */
const HEADER_FIELDS =
  'batch_no block_reason calc_post_cost calc_weight checkouter_id consign_status consign_time consigner_id custom_type customer_id ebill_status error_info examiner_id flag_id freeze_reason goods_count goods_total_amount goods_total_cost goods_type_count has_invoice invoice_print_status is_allocated last_load_purchase_no lock_id logistics_id logistics_no logistics_print_status logistics_template_id md5_str modified note_count operator_id operator_name order_no order_type order_type_name outer_no pack_score package_cost package_fee package_id packager_id pick_error_count pick_score picker_id picklist_no picklist_print_status picklist_seq pos_allocate_mode post_cost post_fee post_weight pr_api_outer_no pre_charge_time printer_id provider_name provider_no raw_goods_count reason_id receiver_address receiver_area receiver_city receiver_country receiver_district receiver_mobile receiver_name receiver_province receiver_ring receiver_telno receiver_zip remark reserve return_no sendbill_print_status sendbill_template_id sorter_id src_order_id src_order_no src_order_type status stock_check_time stockout_id stockout_no stockout_reason subtype to_deliver_time unknown_goods_amount warehouse_id warehouse_no warehouse_type watcher_id weight wms_status'.split(
    ' ',
  );
const LINE_FIELDS =
  'base_unit_id batch_id batch_no batch_remark brand_name brand_no cost_price created expire_date goods_count goods_id goods_name goods_no goods_type goods_unit is_examined is_package is_zero_cost modified num num2 position_id position_list price rec_id remark scan_type sell_price spec_code spec_id spec_name spec_no src_order_detail_id src_order_type stockout_id total_amount unit_id unit_ratio weight'.split(
    ' ',
  );
const POSITION_FIELDS = ['position_id', 'position_no', 'position_goods_count'];

const FROM = parseShanghai('2026-11-01 00:00:00') as number;
const TO = parseShanghai('2026-11-28 00:00:00') as number;
const generate = (seed: number, count: number, extra = {}) =>
  new OrderGenerator(seed).generate({ count, seed, fromMs: FROM, toMs: TO, ...extra }, new OrderStore());

describe('OrderGenerator', () => {
  const orders = generate(7, 200);

  it('is deterministic for a seed', () => {
    expect(generate(7, 200)).toEqual(orders);
    expect(generate(8, 200)).not.toEqual(orders);
  });

  it('carries every field of the seed response table, lines under details_list with position_list', () => {
    for (const order of orders) {
      expect(Object.keys(order)).toEqual(expect.arrayContaining([...HEADER_FIELDS, 'details_list']));
      const lines = order.details_list ?? [];
      expect(lines.length).toBeGreaterThanOrEqual(1);
      expect(lines.length).toBeLessThanOrEqual(5);
      for (const line of lines) {
        expect(Object.keys(line)).toEqual(expect.arrayContaining(LINE_FIELDS));
        for (const position of line.position_list as Record<string, unknown>[]) {
          expect(Object.keys(position).sort()).toEqual([...POSITION_FIELDS].sort());
        }
      }
    }
  });

  it('produces strings, 4-decimal amounts, Shanghai wall-clock times and consistent aggregates', () => {
    for (const order of orders) {
      for (const [key, value] of Object.entries(order)) {
        if (key !== 'details_list') expect(typeof value).toBe('string');
      }
      expect(order.goods_count).toMatch(/^\d+\.\d{4}$/);
      expect(parseShanghai(order.modified)).toBeDefined();
      const lines = order.details_list ?? [];
      const sum = lines.reduce((acc, line) => acc + Math.round(Number(line.goods_count) * 10_000), 0);
      expect(Math.round(Number(order.goods_count) * 10_000)).toBe(sum);
      expect(order.goods_type_count).toBe(String(lines.length));
      for (const line of lines) {
        const positions = line.position_list as Record<string, string>[];
        const placed = positions.reduce(
          (acc, p) => acc + Math.round(Number(p.position_goods_count) * 10_000),
          0,
        );
        expect(placed).toBe(Math.round(Number(line.goods_count) * 10_000));
      }
      expect(order.md5_str).toBe(computeMd5Str(order));
      expect(() => normalizeStockout(order)).not.toThrow();
    }
  });

  it('mixes all statuses; shipped orders have a consign time in range, others a zero time', () => {
    const statuses = new Set(orders.map((o) => o.status));
    expect([...statuses].sort()).toEqual(['110', '5', '50', '55', '95']);
    for (const order of orders) {
      if (Number(order.status) >= 95) {
        const consign = parseShanghai(String(order.consign_time)) as number;
        expect(consign).toBeGreaterThanOrEqual(FROM);
        expect(consign).toBeLessThanOrEqual(TO);
        expect(String(order.modified) >= String(order.consign_time)).toBe(true);
      } else {
        expect(order.consign_time).toBe('0000-00-00 00:00:00');
        const modified = parseShanghai(order.modified) as number;
        expect(modified).toBeGreaterThanOrEqual(FROM);
        expect(modified).toBeLessThanOrEqual(TO);
      }
    }
  });

  it('draws codes from the fixed reference sets, with Chinese names and addresses', () => {
    const warehouses = new Set(SANDBOX_WAREHOUSES.map((w) => w.warehouse_no));
    const providers = new Set(SANDBOX_PROVIDERS.map((p) => p.provider_no));
    const materials = new Set(SANDBOX_MATERIALS.map((m) => m.spec_no));
    for (const order of orders) {
      expect(warehouses.has(String(order.warehouse_no))).toBe(true);
      expect(providers.has(String(order.provider_no))).toBe(true);
      expect(String(order.receiver_address)).toMatch(/[\u4e00-\u9fff]/);
      expect(String(order.operator_name)).toMatch(/[\u4e00-\u9fff]/);
      for (const line of order.details_list ?? []) expect(materials.has(String(line.spec_no))).toBe(true);
    }
    expect(SANDBOX_MATERIALS.length).toBeGreaterThanOrEqual(30);
    expect(materials.has('BWB-500-W') && materials.has('FH-L')).toBe(true);
  });

  it('emits deliberately unknown codes only when asked', () => {
    const unknown = generate(3, 60, { unknownCodeRate: 1 });
    for (const order of unknown) {
      const codes = [
        order.warehouse_no,
        order.provider_no,
        ...(order.details_list ?? []).map((l) => l.spec_no),
      ];
      expect(codes.some((code) => Object.values(SANDBOX_UNKNOWN_CODES).includes(code as never))).toBe(true);
    }
  });
});
