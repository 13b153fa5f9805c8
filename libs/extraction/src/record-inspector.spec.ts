import { RecordInspector } from './record-inspector';

const window = { start: '2026-11-20 07:00:00', end: '2026-11-20 08:00:00' };
const good = (over: Record<string, unknown> = {}) => ({
  stockout_id: '501',
  order_no: 'CT-1',
  status: '110',
  consign_time: '2026-11-20 07:30:00',
  modified: '2026-11-20 07:31:00',
  warehouse_no: 'SH01',
  details_list: [{ spec_no: 'BWB-500-W', goods_count: '2.0000' }],
  ...over,
});
const at = (record: unknown, position = 3) => ({ record, pageNo: 1, position });

describe('RecordInspector', () => {
  const inspector = new RecordInspector({
    maxEventBytes: 4096,
    source: 'KAFKA_MAX_MESSAGE_BYTES=5120 less 1024',
  });

  it('passes a complete record with its order number', () => {
    expect(inspector.inspect(at(good()), window)).toMatchObject({
      ok: true,
      orderNo: 'CT-1',
      stockoutId: '501',
    });
  });

  it('keys a record without order_no by its stockout id, never by its position', () => {
    const { order_no: _gone, ...rest } = good();
    expect(inspector.inspect(at(rest), window)).toMatchObject({
      ok: false,
      problem: 'WDT record (stockout_id 501) has no order_no',
      sourceKey: 'stockout:501',
    });
    expect(inspector.inspect(at({ ...rest, order_no: 42 }), window)).toMatchObject({
      sourceKey: 'stockout:501',
    });
  });

  it('names the wrong-typed field and keeps the order number as the key', () => {
    const wrongType = good({ details_list: [{ spec_no: 'X', goods_count: { value: '2' } }] });
    expect(inspector.inspect(at(wrongType), window)).toMatchObject({
      ok: false,
      sourceKey: 'CT-1',
      problem: expect.stringContaining('details_list[0].goods_count has the wrong type (object)'),
    });
    expect(inspector.inspect(at(good({ details_list: { 0: {} } })), window)).toMatchObject({
      ok: false,
      problem: expect.stringContaining('details_list is object, expected an array'),
    });
  });

  it('keys a record with no id at all by a hash of its content', () => {
    const a = inspector.inspect(at({ remark: 'a' }), window);
    const b = inspector.inspect(at({ remark: 'a' }, 9), { start: window.end, end: '2026-11-20 09:00:00' });
    expect(a).toMatchObject({ ok: false, sourceKey: expect.stringMatching(/^hash:[0-9a-f]{16}$/) });
    expect(!a.ok && !b.ok && a.sourceKey === b.sourceKey).toBe(true);
  });

  it('parks a null under a hash that differs between windows and places (nulls are all alike)', () => {
    const one = inspector.inspect(at(null), window);
    const otherWindow = inspector.inspect(at(null), { start: window.end, end: '2026-11-20 09:00:00' });
    const otherPlace = inspector.inspect(at(null, 4), window);
    expect(one).toMatchObject({ ok: false, problem: 'WDT record is null, not an object' });
    const keys = [one, otherWindow, otherPlace].map((r) => (r.ok ? '' : r.sourceKey));
    expect(new Set(keys).size).toBe(3);
    expect(keys.every((k) => /^hash:[0-9a-f]{16}$/.test(k))).toBe(true);
    expect(inspector.inspect(at('x'), window)).toMatchObject({
      problem: 'WDT record is a string, not an object',
    });
  });

  it('names the real limit and the record size for an oversize record', () => {
    const big = inspector.inspect(at(good({ remark: 'x'.repeat(3000) })), window);
    expect(big).toMatchObject({ ok: false, sourceKey: 'CT-1' });
    expect(!big.ok && big.problem).toMatch(
      /is 3\d{3} bytes as JSON.*over the 4096-byte limit.*KAFKA_MAX_MESSAGE_BYTES=5120/,
    );
    expect(new RecordInspector().inspect(at(good({ remark: 'x'.repeat(3000) })), window).ok).toBe(true);
  });
});
