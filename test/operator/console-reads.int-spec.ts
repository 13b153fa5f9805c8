import { Workbook } from 'exceljs';
import { formatShanghai, formatShanghaiDate } from '@libs/common';
import { StackRunner } from '@tools/devstack';
import { ConsoleAuditOrderDetailView, FailureGroupsView, OverviewView } from '@libs/operator';
import { eventually } from '../support/test-env';
import { FULL_STACK, testStack } from '../support/stack-fixtures';

// The API's JSON, read loosely in assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const SCHEME = 'wdt-stockout-return-to-kingdee-pur-mrb';
const TOKEN = 'console-reads-operator-token-0123';
const PERSON = { receiver_name: '张三丰', receiver_mobile: '13812345678' };

/**
 * The console's read models on the whole stack as processes: orders go through WDT sandbox →
 * extractor → transformer → loader → Kingdee sandbox → audit writer, and the operator answers
 * the overview, the failure groups, the searchable and exportable list and the order page from
 * what they wrote.
 */
describe('console read models', () => {
  let stack: StackRunner;
  const started = Date.now();

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${stack.url('operator')}${path}`, {
      headers: { authorization: `Bearer ${TOKEN}`, ...headers },
    });
    return res;
  };
  const json = async (path: string, headers: Record<string, string> = {}): Promise<Json> => {
    const res = await get(path, headers);
    expect([path, res.status]).toEqual([path, 200]);
    return res.json();
  };
  const statusOf = async (orderNo: string): Promise<string | undefined> => {
    const res = await get(`/api/audit/orders/${orderNo}`);
    if (res.status !== 200) return undefined;
    return ((await res.json()) as Json).orders[0]?.status;
  };
  const order = (order_no: string, provider_no: string, qty = '1.0000') => ({
    order_no,
    status: 110,
    consign_time: formatShanghai(Date.now() - 120_000),
    warehouse_no: 'SH01',
    provider_no,
    ...PERSON,
    details_list: [{ spec_no: 'FH-S', goods_count: qty }],
  });

  beforeAll(async () => {
    stack = testStack({
      services: FULL_STACK,
      operatorToken: TOKEN,
      env: { LOG_LEVEL: 'warn', CONSUMER_LAG_INTERVAL_MS: '1000' },
    });
    await stack.prepare();
    await stack.startSandboxes();
    await stack.wdtAdmin('POST', '/orders', {
      orders: [
        order('CR-OK-1', 'GYS001'),
        order('CR-OK-2', 'GYS001'),
        order('CR-CHG', 'GYS001', '2.0000'),
        // GYS999 is no supplier of the Kingdee sandbox's base data.
        order('CR-SUP-1', 'GYS999'),
        order('CR-SUP-2', 'GYS999'),
        order('CR-SUP-3', 'GYS999'),
      ],
    });
    await stack.startServices();
    for (const no of ['CR-OK-1', 'CR-OK-2', 'CR-CHG'])
      await eventually(`${no} loaded`, async () => (await statusOf(no)) === 'loaded', 120_000);
    for (const no of ['CR-SUP-1', 'CR-SUP-2', 'CR-SUP-3'])
      await eventually(`${no} waiting`, async () => (await statusOf(no)) === 'waiting_base_data', 120_000);
    // Changed in WDT after its bill was loaded.
    await stack.wdtAdmin('PATCH', '/orders/CR-CHG', {
      details_list: [{ spec_no: 'FH-S', goods_count: '5.0000' }],
    });
    await eventually(
      'CR-CHG changed after load',
      async () => (await statusOf('CR-CHG')) === 'changed_after_load',
      120_000,
    );
  }, 420_000);

  afterAll(async () => {
    await stack?.stop();
    await stack?.cleanup();
  });

  it('overview: scheme state, loads per minute, latency and backlog per stage', async () => {
    const from = encodeURIComponent(formatShanghai(started - 60_000));
    const to = encodeURIComponent(formatShanghai(Date.now() + 60_000));
    const body = OverviewView.parse(await json(`/api/overview?from=${from}&to=${to}&bucket=1m`));
    expect(body.schemes).toEqual([
      expect.objectContaining({ id: SCHEME, status: 'running', lastError: null }),
    ]);
    expect(body.schemes[0].counts).toMatchObject({ loaded: 2, changed_after_load: 1, waiting_base_data: 3 });
    const sum = (k: 'loaded' | 'failed' | 'skipped' | 'deadLettered') =>
      body.series.reduce((n, b) => n + b[k], 0);
    expect([sum('loaded'), sum('failed'), sum('skipped'), sum('deadLettered')]).toEqual([3, 0, 0, 0]);
    // Every minute of the range is a bucket, the empty ones too.
    expect(body.series.length).toBeGreaterThanOrEqual(Math.floor((Date.now() + 60_000 - started) / 60_000));
    expect(body.latency.reduce((n, b) => n + b.count, 0)).toBe(3);
    for (const b of body.latency) expect(b.p50Ms).toBeGreaterThan(0);
    expect(body.backlog.map((b) => b.stage)).toEqual(['extract', 'transform', 'load', 'audit']);
    expect(body.backlog[0]).toMatchObject({ unit: 'seconds' });
    expect(body.backlog[0].lag).toEqual(expect.any(Number));
    await eventually('every consumer group reported its lag', async () => {
      const o = OverviewView.parse(await json(`/api/overview`));
      return o.backlog.every((b) => typeof b.lag === 'number');
    });
    expect(body.failureGroups[0]).toMatchObject({ value: 'GYS999', count: 3 });
  });

  it('failure groups: the unknown supplier, labelled in Chinese or English, with its orders', async () => {
    const zh = FailureGroupsView.parse(await json('/api/failure-groups'));
    const group = zh.items.find((g) => g.value === 'GYS999');
    expect(group).toMatchObject({
      schemeId: SCHEME,
      status: 'waiting_base_data',
      label: '供应商 GYS999 在金蝶中不存在',
      count: 3,
    });
    expect([...group!.orderNos].sort()).toEqual(['CR-SUP-1', 'CR-SUP-2', 'CR-SUP-3']);
    const en = FailureGroupsView.parse(
      await json('/api/failure-groups', { 'accept-language': 'en-US,en;q=0.9' }),
    );
    expect(en.items.find((g) => g.value === 'GYS999')?.label).toBe(
      'supplier GYS999 does not exist in Kingdee',
    );
    const changed = FailureGroupsView.parse(await json('/api/failure-groups?status=changed_after_load'));
    expect(changed.items.map((g) => g.orderNos)).toEqual([['CR-CHG']]);
  });

  it('orders: partial, case-insensitive search with a total; wildcards match themselves', async () => {
    const page = await json('/api/audit/orders?q=r-sup&limit=2');
    expect(page.total).toBe(3);
    expect(page.items).toHaveLength(2);
    expect(page.nextOffset).toBe(2);
    expect((await json('/api/audit/orders?q=CR-SUP&offset=2&limit=2')).items).toHaveLength(1);
    expect((await json('/api/audit/orders?q=CR%25')).total).toBe(0);
    expect((await json('/api/audit/orders?q=CR_OK')).total).toBe(0);
    expect((await json('/api/audit/orders?q=ok&status=loaded')).total).toBe(2);
  });

  it('exports the filtered list as CSV (UTF-8 with BOM) and XLSX', async () => {
    const today = formatShanghaiDate(Date.now());
    const csv = await get('/api/audit/orders/export?format=csv&q=sup');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="orders-${today}.csv"`);
    const bytes = Buffer.from(await csv.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = bytes.subarray(3).toString('utf8').trim().split(/\r?\n/);
    expect(lines[0]).toMatch(/^scheme,orderNo,status,/);
    expect(
      lines
        .slice(1)
        .map((l) => l.split(',')[1])
        .sort(),
    ).toEqual(['CR-SUP-1', 'CR-SUP-2', 'CR-SUP-3']);
    expect(lines[1]).toMatch(/waiting_base_data/);

    const xlsx = await get('/api/audit/orders/export?format=xlsx&status=loaded');
    expect(xlsx.headers.get('content-disposition')).toBe(`attachment; filename="orders-${today}.xlsx"`);
    const wb = new Workbook();
    await wb.xlsx.load(await xlsx.arrayBuffer());
    const sheet = wb.getWorksheet('orders')!;
    const rows: string[][] = [];
    sheet.eachRow((row) => rows.push((row.values as unknown[]).slice(1).map((v) => String(v ?? ''))));
    expect(rows[0].slice(0, 3)).toEqual(['scheme', 'orderNo', 'status']);
    expect(
      rows
        .slice(1)
        .map((r) => r[1])
        .sort(),
    ).toEqual(['CR-OK-1', 'CR-OK-2']);
    expect(rows[1][4]).toMatch(/^CR-OK-/); // the bill number
  });

  it('order page: versions with record and document (masked), the last reply, and what changed after load', async () => {
    const body = ConsoleAuditOrderDetailView.parse(await json('/api/audit/orders/CR-CHG'));
    const row = body.orders[0];
    expect(row.status).toBe('changed_after_load');
    expect(row.versions).toHaveLength(2);
    const [newest, loaded] = row.versions as Json[];
    expect(newest.sourceVersion > loaded.sourceVersion).toBe(true);
    expect(newest.sourceVersion).toBe(row.latest.sourceVersion);
    expect(loaded.record).toMatchObject({
      order_no: 'CR-CHG',
      receiver_name: '张**',
      receiver_mobile: '138****5678',
    });
    expect(loaded.document).toMatchObject({
      FBillNo: 'CR-CHG',
      FPURMRBENTRY: [expect.objectContaining({ FRMREALQTY: 2 })],
    });
    expect(JSON.stringify(body)).not.toContain('13812345678');
    expect(row.lastReply).toMatchObject({ operation: expect.any(String), reply: expect.anything() });
    expect(row.change).toEqual({
      loadedVersion: loaded.sourceVersion,
      newVersion: newest.sourceVersion,
      fields: [{ path: 'FPURMRBENTRY[0].FRMREALQTY', loaded: 2, current: 5 }],
    });
    // An order loaded once: one version, no change.
    const ok = ConsoleAuditOrderDetailView.parse(await json('/api/audit/orders/CR-OK-1')).orders[0];
    expect(ok.versions).toHaveLength(1);
    expect(ok.change).toBeUndefined();
    expect(ok.lastReply).toMatchObject({ outcome: expect.any(String) });
  });
});
