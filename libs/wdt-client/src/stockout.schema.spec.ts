import { WdtRecordError } from './wdt-client.errors';
import { normalizeStockout } from './stockout.schema';

const golden = {
  stockout_id: '50012',
  order_no: 'CT2026112800012',
  warehouse_no: 'SH01',
  status: '110',
  consign_time: '2026-11-28 01:30:00',
  provider_no: 'GYS001',
  modified: '2026-11-28 01:31:07',
  md5_str: 'a1b2',
  details_list: [
    {
      rec_id: '100120',
      spec_no: 'BWB-500-W',
      goods_count: '2.0000',
      position_list: [{ position_id: '1011', position_no: 'A-01-01', position_goods_count: '2.0000' }],
    },
    { rec_id: '100121', spec_no: 'FH-L', goods_count: '0.5000' },
  ],
};

function recordError(raw: unknown): WdtRecordError {
  try {
    normalizeStockout(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(WdtRecordError);
    return error as WdtRecordError;
  }
  throw new Error('expected a WdtRecordError');
}

describe('normalizeStockout', () => {
  it('types the golden record and keeps decimals as strings', () => {
    const view = normalizeStockout(golden);
    expect(view).toMatchObject({
      stockout_id: '50012',
      order_no: 'CT2026112800012',
      status: 110,
      consign_time: '2026-11-28 01:30:00',
      modified: '2026-11-28 01:31:07',
      md5_str: 'a1b2',
      warehouse_no: 'SH01',
      provider_no: 'GYS001',
      detailsKey: 'details_list',
    });
    expect(view.details.map((l) => [l.spec_no, l.goods_count])).toEqual([
      ['BWB-500-W', '2.0000'],
      ['FH-L', '0.5000'],
    ]);
    expect(view.details[0].position_list).toEqual([
      { position_id: '1011', position_no: 'A-01-01', position_goods_count: '2.0000' },
    ]);
    expect(view.details[1].position_list).toEqual([]);
    expect(view.raw).toBe(golden);
    expect(view.details[0].raw).toBe(golden.details_list[0]);
  });

  it('accepts detail_list (the seed table name) and numbers for ids and counts', () => {
    const { details_list, ...rest } = golden;
    const view = normalizeStockout({
      ...rest,
      stockout_id: 50012,
      status: 95,
      detail_list: details_list.map((l) => ({ ...l, goods_count: 3 })),
    });
    expect(view.detailsKey).toBe('detail_list');
    expect(view.stockout_id).toBe('50012');
    expect(view.status).toBe(95);
    expect(view.details[0].goods_count).toBe('3');
  });

  it('maps "no time yet" consign_time to null', () => {
    expect(
      normalizeStockout({ ...golden, status: '55', consign_time: '0000-00-00 00:00:00' }).consign_time,
    ).toBeNull();
    expect(normalizeStockout({ ...golden, consign_time: '' }).consign_time).toBeNull();
  });

  it.each([
    ['missing order_no', { ...golden, order_no: undefined }, 'order_no', /order_no is missing/],
    ['empty order_no', { ...golden, order_no: '' }, 'order_no', /order_no must not be empty/],
    ['lines not an array', { ...golden, details_list: { a: 1 } }, 'details_list', /expected an array/],
    ['no lines at all', { ...golden, details_list: undefined }, 'details_list', /missing/],
    [
      'a line without spec_no',
      { ...golden, details_list: [golden.details_list[0], { goods_count: '1.0000' }] },
      'details_list[1].spec_no',
      /is missing/,
    ],
    [
      'a non-decimal goods_count',
      { ...golden, details_list: [{ spec_no: 'X', goods_count: 'two' }] },
      'details_list[0].goods_count',
      /decimal/,
    ],
    ['a bad modified time', { ...golden, modified: '28/11/2026' }, 'modified', /yyyy-MM-dd/],
    ['a status of the wrong type', { ...golden, status: { v: 1 } }, 'status', /wrong type/],
  ])('names the field for %s', (_label, raw, field, message) => {
    const error = recordError(raw);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(field);
  });

  it('rejects a non-object record', () => {
    expect(recordError(null).field).toBe('(record)');
    expect(recordError([1]).field).toBe('(record)');
  });
});
