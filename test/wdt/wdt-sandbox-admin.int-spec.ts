import { WdtLimiterRegistry, normalizeStockout } from '@libs/wdt-client';
import { SANDBOX_UNKNOWN_CODES, WdtOrderRecord } from '../../apps/wdt-sandbox/src';
import { WdtSandbox, startWdtSandbox } from '../../apps/wdt-sandbox/src/wdt-sandbox.server';
import { admin, makeClient, nativeClientOptions } from './wdt-test-helpers';

const WINDOW = { startTime: '2026-11-01 00:00:00', endTime: '2026-11-30 00:00:00' };

describe('WDT sandbox admin API (real HTTP)', () => {
  let sandbox: WdtSandbox;
  let registry: WdtLimiterRegistry;

  beforeAll(async () => {
    sandbox = await startWdtSandbox({ port: 0, seedCount: 5, seed: 9, knobs: { callsPerMinute: 0 } });
    registry = new WdtLimiterRegistry();
  });

  afterAll(async () => {
    await registry.stopAll();
    await sandbox.close();
  });

  it('starts with seeded orders and reports health and config without secrets', async () => {
    const health = await admin(sandbox, 'GET', '/health');
    expect(health.body).toMatchObject({ ok: true, orders: 5 });
    const config = await admin(sandbox, 'GET', '/config');
    expect(config.body).toMatchObject({ sid: sandbox.account.sid, appkey: sandbox.account.appkey });
    expect(JSON.stringify(config.body)).not.toContain(sandbox.account.appsecret);
    expect(JSON.stringify(config.body)).not.toContain(sandbox.account.qimenSecret);
  });

  it('resets, seeds deterministically and lists with paging', async () => {
    await admin(sandbox, 'POST', '/reset');
    const request = { count: 25, seed: 77, from: '2026-11-05 00:00:00', to: '2026-11-25 00:00:00' };
    const first = await admin(sandbox, 'POST', '/orders/seed', request);
    expect(first.body).toMatchObject({
      inserted: 25,
      firstStockoutId: '50001',
      lastStockoutId: '50025',
      total: 25,
    });
    const listed = await admin<{ total: number; orders: WdtOrderRecord[] }>(
      sandbox,
      'GET',
      '/orders?page_no=1&page_size=10',
    );
    expect(listed.body.total).toBe(25);
    expect(listed.body.orders.map((o) => o.stockout_id)).toEqual(
      Array.from({ length: 10 }, (_, i) => String(50011 + i)),
    );
    const snapshot = (await admin<{ orders: WdtOrderRecord[] }>(sandbox, 'GET', '/orders?page_size=100')).body
      .orders;

    await admin(sandbox, 'POST', '/reset');
    await admin(sandbox, 'POST', '/orders/seed', request);
    const again = (await admin<{ orders: WdtOrderRecord[] }>(sandbox, 'GET', '/orders?page_size=100')).body
      .orders;
    expect(again).toEqual(snapshot);
  });

  it('upserts a partial order, completing every field, and gets it by stockout_id or order_no', async () => {
    const created = await admin<{ upserted: { stockout_id: string; created: boolean }[] }>(
      sandbox,
      'POST',
      '/orders',
      {
        orders: [
          {
            order_no: 'CT2026112800012',
            warehouse_no: 'SH01',
            provider_no: 'GYS001',
            status: 110,
            consign_time: '2026-11-28 01:30:00',
            modified: '2026-11-28 01:31:07',
            details_list: [
              { spec_no: 'BWB-500-W', goods_count: '2.0000' },
              { spec_no: 'FH-L', goods_count: '0.5000' },
            ],
          },
        ],
      },
    );
    expect(created.status).toBe(200);
    const [{ stockout_id: id, created: isNew }] = created.body.upserted;
    expect(isNew).toBe(true);
    const byId = await admin<WdtOrderRecord>(sandbox, 'GET', `/orders/${id}`);
    const byNo = await admin<WdtOrderRecord>(sandbox, 'GET', '/orders/CT2026112800012');
    expect(byNo.body).toEqual(byId.body);
    const order = byId.body;
    expect(order).toMatchObject({
      order_no: 'CT2026112800012',
      stockout_no: 'CT2026112800012',
      status: '110',
      consign_time: '2026-11-28 01:30:00',
      modified: '2026-11-28 01:31:07',
      goods_count: '2.5000',
      goods_type_count: '2',
    });
    expect(order.receiver_name).toEqual(expect.any(String));
    const view = normalizeStockout(order);
    expect(
      view.details.map((l) => [l.spec_no, l.goods_count, l.position_list[0].position_goods_count]),
    ).toEqual([
      ['BWB-500-W', '2.0000', '2.0000'],
      ['FH-L', '0.5000', '0.5000'],
    ]);
  });

  it('modifies an order: bumps modified, recomputes md5_str only when content changes, moves it between axes', async () => {
    const created = await admin<{ upserted: { stockout_id: string }[] }>(sandbox, 'POST', '/orders', {
      orders: [{ status: 55, modified: '2026-11-20 09:00:00', warehouse_no: 'GZ03' }],
    });
    const id = created.body.upserted[0].stockout_id;
    const before = (await admin<WdtOrderRecord>(sandbox, 'GET', `/orders/${id}`)).body;
    expect(before.consign_time).toBe('0000-00-00 00:00:00');

    const touched = (
      await admin<WdtOrderRecord>(sandbox, 'PATCH', `/orders/${id}`, { modified: '2026-11-20 10:00:00' })
    ).body;
    expect(touched.modified).toBe('2026-11-20 10:00:00');
    expect(touched.md5_str).toBe(before.md5_str);

    const client = makeClient(nativeClientOptions(sandbox), registry);
    const shippedBefore = await client.queryAll({ ...WINDOW, warehouseNo: 'GZ03' });
    expect(shippedBefore.records.map((r) => r.stockout_id)).not.toContain(id);

    const shipped = (
      await admin<WdtOrderRecord>(sandbox, 'PATCH', `/orders/${id}`, {
        status: 95,
        modified: '2026-11-21 08:00:00',
        details_list: [{ spec_no: 'KZ-N95', goods_count: '3.0000' }],
      })
    ).body;
    expect(shipped).toMatchObject({
      status: '95',
      consign_time: '2026-11-21 08:00:00',
      goods_count: '3.0000',
    });
    expect(shipped.md5_str).not.toBe(before.md5_str);

    const shippedAfter = await client.queryAll({ ...WINDOW, warehouseNo: 'GZ03' });
    const seen = shippedAfter.records.find((r) => r.stockout_id === id);
    expect(seen).toEqual(shipped);

    const bumped = (
      await admin<WdtOrderRecord>(sandbox, 'PATCH', `/orders/${id}`, { set: { remark: '改价' } })
    ).body;
    expect(bumped.modified > shipped.modified).toBe(true);
    expect(bumped.remark).toBe('改价');
  });

  it('stores raw (even malformed) orders as given, for normalisation tests', async () => {
    const raw = {
      stockout_id: '99001',
      order_no: '',
      status: '110',
      consign_time: '2026-11-10 00:00:00',
      modified: '2026-11-10 00:00:00',
      warehouse_no: 'SH01',
      details_list: 'oops',
    };
    expect((await admin(sandbox, 'POST', '/orders', { orders: [raw], raw: true })).status).toBe(200);
    const page = await makeClient(nativeClientOptions(sandbox), registry).queryPage({
      ...WINDOW,
      stockoutNo: '',
      srcOrderNo: undefined,
      warehouseNo: 'SH01',
      pageSize: 100,
    });
    const record = page.records.find((r) => r.stockout_id === '99001');
    expect(record).toEqual(raw);
    expect(() => normalizeStockout(record)).toThrow(/details_list/);
    expect((await admin(sandbox, 'DELETE', '/orders/99001')).status).toBe(200);
    expect((await admin(sandbox, 'GET', '/orders/99001')).status).toBe(404);
  });

  it('seeds deliberately unknown codes on request and exposes the reference data', async () => {
    const reference = await admin<{
      warehouses: unknown[];
      providers: unknown[];
      materials: unknown[];
      unknownCodes: unknown;
    }>(sandbox, 'GET', '/reference-data');
    expect(reference.body.warehouses).toHaveLength(3);
    expect(reference.body.providers).toHaveLength(8);
    expect(reference.body.materials.length).toBeGreaterThanOrEqual(30);
    expect(reference.body.unknownCodes).toEqual(SANDBOX_UNKNOWN_CODES);

    await admin(sandbox, 'POST', '/reset');
    await admin(sandbox, 'POST', '/orders/seed', { count: 10, seed: 5, unknownCodeRate: 1 });
    const orders = (await admin<{ orders: WdtOrderRecord[] }>(sandbox, 'GET', '/orders?page_size=100')).body
      .orders;
    const unknown = Object.values(SANDBOX_UNKNOWN_CODES) as string[];
    for (const order of orders) {
      const codes = [
        order.warehouse_no,
        order.provider_no,
        ...(order.details_list ?? []).map((l) => l.spec_no),
      ];
      expect(codes.some((code) => unknown.includes(String(code)))).toBe(true);
    }
  });

  it('gets and sets knobs with validation, and reports call stats by gateway and reason', async () => {
    const knobs = await admin(sandbox, 'PATCH', '/knobs', { latencyMs: 1, nativeMaxPageSize: 50 });
    expect(knobs.body).toMatchObject({ latencyMs: 1, nativeMaxPageSize: 50 });
    expect((await admin(sandbox, 'GET', '/knobs')).body).toMatchObject({ latencyMs: 1 });
    const bad = await admin<{ error: string }>(sandbox, 'PATCH', '/knobs', { errorRate: 3 });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('errorRate');
    const unknown = await admin<{ error: string }>(sandbox, 'PATCH', '/knobs', { foo: 1 });
    expect(unknown.status).toBe(400);

    await admin(sandbox, 'POST', '/stats/reset');
    // Within the 50 set above (the client's native default is 100).
    const client = makeClient(nativeClientOptions(sandbox, { pageSize: 40 }), registry);
    await client.queryPage(WINDOW);
    await client
      .queryPage({ startTime: '2026-01-01 00:00:00', endTime: '2026-11-01 00:00:00' })
      .catch(() => undefined);
    const stats = await admin<Record<string, Record<string, unknown>>>(sandbox, 'GET', '/stats');
    expect(stats.body.calls).toEqual({ native: 2, qimen: 0 });
    expect(stats.body.accepted).toEqual({ native: 1, qimen: 0 });
    expect(stats.body.rejections).toEqual({ native: { invalid_params: 1 }, qimen: {} });
    const recent = await admin<{ params: Record<string, string>; outcome: string }[]>(
      sandbox,
      'GET',
      '/requests?limit=2',
    );
    expect(recent.body.map((r) => r.outcome)).toEqual([
      expect.stringMatching(/^ok:/),
      'rejected:invalid_params',
    ]);
    expect(recent.body[0].params).toHaveProperty('sign');

    await admin(sandbox, 'POST', '/reset', { keepKnobs: true });
    expect((await admin(sandbox, 'GET', '/knobs')).body).toMatchObject({ latencyMs: 1 });
    await admin(sandbox, 'POST', '/reset');
    expect((await admin(sandbox, 'GET', '/knobs')).body).toMatchObject({
      latencyMs: 0,
      nativeMaxPageSize: 100,
    });
  });

  it('answers unknown routes and bad bodies with clear 4xx errors', async () => {
    expect((await admin(sandbox, 'GET', '/nope')).status).toBe(404);
    const bad = await admin<{ error: string }>(sandbox, 'POST', '/orders/seed', { count: -1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('count');
    const notJson = await fetch(`${sandbox.url}/admin/orders`, { method: 'POST', body: '{nope' });
    expect(notJson.status).toBe(400);
    const getGateway = await fetch(`${sandbox.url}/router/qm`);
    expect(getGateway.status).toBe(405);
  });
});
