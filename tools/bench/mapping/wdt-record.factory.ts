import { formatShanghai } from '@libs/common';
import { fakerZH_CN as faker } from '@faker-js/faker';

/**
 * Realistic WDT purchase-return stockout records (every field of the seed's response table, goods
 * lines with position_list, decimals as strings, Chinese text) for benchmarks and load tests.
 * Deterministic for a given seed.
 */

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const money = (min: number, max: number) => faker.number.float({ min, max, fractionDigits: 2 }).toFixed(4);

export interface WdtRecordOptions {
  /** Goods lines per record (default 3). */
  lines?: number;
  /** Status (default: shipped 95 or completed 110). */
  status?: string;
}

export class WdtRecordFactory {
  private seq = 0;

  constructor(seed = 20261128) {
    faker.seed(seed);
  }

  /** One record; `index` makes order numbers unique within a run. */
  record(options: WdtRecordOptions = {}): Record<string, unknown> {
    const n = ++this.seq;
    const lineCount = options.lines ?? 3;
    const stockoutId = String(700000 + n);
    const consignMs = Date.UTC(2026, 10, 1) + faker.number.int({ min: 0, max: 27 * 86_400_000 });
    const consign = formatShanghai(consignMs);
    const modified = formatShanghai(consignMs + faker.number.int({ min: 1000, max: 600_000 }));
    const province = faker.location.state();
    const city = faker.location.city();
    const district = `${faker.location.street().slice(0, 2)}区`;
    const lines = Array.from({ length: lineCount }, (_, i) => this.line(stockoutId, n * 10 + i, consign));
    const total = lines.reduce((s, l) => s + Number(l.goods_count), 0).toFixed(4);
    return {
      stockout_id: stockoutId,
      order_no: `CT${consign.slice(0, 10).replace(/-/g, '')}${pad(n, 6)}`,
      src_order_no: `CG${pad(n, 10)}`,
      warehouse_no: faker.helpers.arrayElement(['SH01', 'HZ-02', 'BJ-03', 'GZ-01']),
      status: options.status ?? faker.helpers.arrayElement(['95', '110']),
      consign_time: consign,
      order_type: '3',
      order_type_name: '采购退货',
      subtype: '0',
      goods_count: total,
      goods_total_amount: money(100, 5000),
      goods_total_cost: money(80, 4000),
      post_fee: money(0, 30),
      logistics_no: `SF${faker.string.numeric(13)}`,
      package_fee: '0.0000',
      receiver_name: faker.company.name(),
      receiver_country: '0',
      receiver_province: province,
      receiver_city: city,
      receiver_district: district,
      receiver_address: faker.location.streetAddress(),
      receiver_mobile: faker.phone.number(),
      receiver_telno: '',
      receiver_zip: faker.location.zipCode(),
      weight: money(0.1, 30),
      remark: faker.helpers.arrayElement(['质检不合格退回', '包装破损', '供应商要求召回', '']),
      stockout_reason: '采购退货',
      outer_no: `PR-OUT-${pad(n, 8)}`,
      operator_name: faker.person.fullName(),
      receiver_area: `${province} ${city} ${district}`,
      return_no: `CGTH${pad(n, 12)}`,
      provider_no: `GYS${pad(faker.number.int({ min: 1, max: 300 }), 3)}`,
      provider_name: faker.company.name(),
      modified,
      pr_api_outer_no: '',
      last_load_purchase_no: `CG${pad(n, 10)}`,
      picklist_print_status: '0',
      logistics_print_status: '1',
      sendbill_print_status: '0',
      stockout_no: `CK${pad(n, 13)}`,
      src_order_type: '3',
      src_order_id: String(5000 + n),
      wms_status: '0',
      error_info: '',
      warehouse_type: '1',
      warehouse_id: String(faker.number.int({ min: 1, max: 40 })),
      customer_id: '0',
      freeze_reason: '0',
      is_allocated: '1',
      consign_status: '1',
      ebill_status: '0',
      operator_id: String(faker.number.int({ min: 1, max: 200 })),
      goods_type_count: String(lineCount),
      md5_str: faker.string.hexadecimal({ length: 32, casing: 'lower', prefix: '' }),
      raw_goods_count: total,
      custom_type: '0',
      receiver_ring: '',
      to_deliver_time: '',
      pre_charge_time: '0000-00-00 00:00:00',
      logistics_id: String(faker.number.int({ min: 1, max: 20 })),
      unknown_goods_amount: '0.0000',
      calc_post_cost: money(0, 30),
      post_cost: money(0, 30),
      calc_weight: money(0.1, 30),
      post_weight: money(0.1, 30),
      package_id: '0',
      package_cost: '0.0000',
      has_invoice: '0',
      printer_id: '0',
      pick_error_count: '0',
      picker_id: '0',
      sorter_id: '0',
      examiner_id: '0',
      consigner_id: '0',
      packager_id: '0',
      pack_score: '0',
      pick_score: '0',
      checkouter_id: '0',
      watcher_id: '0',
      picklist_no: `JH${pad(n, 13)}`,
      picklist_seq: String((n % 20) + 1),
      invoice_print_status: '0',
      flag_id: '0',
      logistics_template_id: '3',
      sendbill_template_id: '2',
      pos_allocate_mode: '0',
      note_count: '0',
      reason_id: '14',
      lock_id: '0',
      reserve: '',
      block_reason: '0',
      batch_no: `PC${pad(n, 8)}`,
      stock_check_time: consign,
      details_list: lines,
    };
  }

  private line(stockoutId: string, recId: number, created: string): Record<string, unknown> {
    const count = faker.helpers.arrayElement(['1.0000', '2.0000', '0.5000', '12.0000', '3.2500']);
    const price = money(1, 300);
    const specNo = `${faker.string.alpha({ length: 3, casing: 'upper' })}-${faker.string.numeric(3)}-${faker.helpers.arrayElement(['W', 'B', 'L', 'XL'])}`;
    const positionId = String(faker.number.int({ min: 100, max: 999 }));
    return {
      rec_id: String(recId),
      stockout_id: stockoutId,
      spec_no: specNo,
      goods_count: count,
      sell_price: price,
      brand_no: 'JH',
      brand_name: '佳禾',
      goods_name: faker.commerce.productName(),
      goods_no: specNo.slice(0, 3),
      spec_name: faker.helpers.arrayElement(['白色/500ml', '大号', '米白', '黑色/L']),
      spec_code: specNo.slice(4),
      cost_price: money(1, 200),
      total_amount: (Number(count) * Number(price)).toFixed(4),
      weight: money(0.05, 5),
      goods_type: '1',
      goods_unit: faker.helpers.arrayElement(['个', '件', '米', '盒']),
      batch_no: `B${created.slice(0, 10).replace(/-/g, '')}`,
      batch_remark: '',
      expire_date: '2028-10-31 00:00:00',
      remark: '',
      goods_id: String(3000 + (recId % 997)),
      spec_id: String(8000 + (recId % 997)),
      position_id: positionId,
      src_order_type: '3',
      src_order_detail_id: String(9000 + recId),
      base_unit_id: '1',
      unit_id: '1',
      unit_ratio: '1.0000',
      num2: count,
      num: count,
      price,
      batch_id: '0',
      is_examined: '1',
      is_package: '0',
      is_zero_cost: '0',
      scan_type: '1',
      modified: created,
      created,
      position_list: [
        { position_id: positionId, position_no: `A-${positionId}`, position_goods_count: count },
      ],
    };
  }
}
