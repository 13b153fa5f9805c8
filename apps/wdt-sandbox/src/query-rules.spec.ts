import { parseStockoutQuery } from './query-rules';

const limits = { maxPageSize: 100, defaultPageSize: 40, maxWindowDays: 30, axisMode: 'documented' as const };
const base = { start_time: '2026-11-01 00:00:00', end_time: '2026-11-28 00:00:00' };

describe('parseStockoutQuery', () => {
  it('accepts a valid window with defaults', () => {
    expect(parseStockoutQuery(base, limits)).toMatchObject({ ok: true, pageNo: 0, pageSize: 40 });
  });

  it.each([
    [{ end_time: base.end_time }, /start_time/],
    [{ ...base, start_time: '2026/11/01' }, /格式/],
    [{ ...base, end_time: '2026-12-01 00:00:01' }, /30天/],
    [{ ...base, end_time: '2026-10-01 00:00:00' }, /早于/],
    [{ ...base, page_size: '101' }, /1-100/],
    [{ ...base, page_size: '0' }, /1-100/],
    [{ ...base, page_no: '-1' }, /page_no/],
    [{ ...base, status: 'shipped' }, /status/],
  ])('rejects %p', (params, message) => {
    const result = parseStockoutQuery(params as Record<string, string>, limits);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.message).toMatch(message);
  });

  it('allows exactly 30 days', () => {
    expect(parseStockoutQuery({ ...base, end_time: '2026-12-01 00:00:00' }, limits).ok).toBe(true);
  });
});
