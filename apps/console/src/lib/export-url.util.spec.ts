import { buildExportUrl, orderFilterQuery } from './export-url.util';

describe('export URL', () => {
  it('carries the filters of the list, empty ones left out', () => {
    expect(buildExportUrl('csv', {})).toBe('/api/audit/orders/export?format=csv');
    const url = buildExportUrl('xlsx', {
      q: ' ct-12 ',
      status: 'failed',
      schemeId: '',
      from: '2026-11-28T00:00:00+08:00',
    });
    const parsed = new URL(url, 'http://x');
    expect(parsed.pathname).toBe('/api/audit/orders/export');
    expect(Object.fromEntries(parsed.searchParams)).toEqual({
      format: 'xlsx',
      q: 'ct-12',
      status: 'failed',
      from: '2026-11-28T00:00:00+08:00',
    });
    expect(orderFilterQuery({ to: '  ' })).toEqual({});
  });
});
