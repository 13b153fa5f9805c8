import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatShanghai, parseShanghai } from '@libs/common';
import { ManagedProcess, freePort } from '@tools/devstack';
import { WdtLimiterRegistry, WdtStockoutReturnClient } from '@libs/wdt-client';
import { DEFAULT_SANDBOX_ACCOUNT, LazyOrderSet, WdtOrderRecord } from '../../apps/wdt-sandbox/src';
import { WdtSandbox } from '../../apps/wdt-sandbox/src/wdt-sandbox.server';
import { admin, makeClient, nativeClientOptions, qimenClientOptions } from './wdt-test-helpers';

// Needs `npm run build`: the sandbox runs as its own process so its RSS is its own.
const SCRIPT = join(__dirname, '../../dist/apps/wdt-sandbox/src/main.js');
const COUNT = 100_000;
const SEED = 4242;
const FROM = '2026-11-01 00:00:00';
const TO = '2026-11-11 00:00:00';
/** A 100k-order store held in memory is ~1.5 GB; the lazy one adds next to nothing to Node's baseline. */
const RSS_LIMIT_MB = 200;

/** VmHWM (peak) and VmRSS (now) of a process, MB. */
function rssOf(pid: number): { peakMb: number; nowMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { peakMb: kb('VmHWM') / 1024, nowMb: kb('VmRSS') / 1024 };
}

describe('WDT sandbox: a lazy 100k-order set over HTTP (sandbox as a process)', () => {
  let proc: ManagedProcess;
  let sandbox: WdtSandbox;
  let registry: WdtLimiterRegistry;
  let native: WdtStockoutReturnClient;
  let qimen: WdtStockoutReturnClient;
  /** The same definition in the test: order i is a pure function of (seed, i) and the first ids. */
  let oracle: LazyOrderSet;
  let shipped: number[];

  beforeAll(async () => {
    const port = await freePort();
    proc = new ManagedProcess({
      name: 'wdt-sandbox-lazy',
      script: SCRIPT,
      env: { WDT_SANDBOX_PORT: String(port), WDT_SANDBOX_CALLS_PER_MINUTE: '0' },
      logFile: join(__dirname, '../../.infra/logs/wdt-sandbox-lazy.log'),
      readyUrl: `http://127.0.0.1:${port}/admin/health`,
    });
    proc.start();
    await proc.waitReady();
    // Only what the helpers read: url and the (default) account.
    sandbox = { url: `http://127.0.0.1:${port}`, account: { ...DEFAULT_SANDBOX_ACCOUNT } } as WdtSandbox;
    registry = new WdtLimiterRegistry();
    native = makeClient(nativeClientOptions(sandbox), registry);
    qimen = makeClient(qimenClientOptions(sandbox), registry);
    oracle = new LazyOrderSet(
      { count: COUNT, seed: SEED, fromMs: parseShanghai(FROM)!, toMs: parseShanghai(TO)! },
      50_001,
      100_001,
    );
    // Shipped/completed indices, in (time, id) order = index order: found by a scan, not by arithmetic.
    shipped = [];
    for (let i = 0; i < COUNT; i++) if (oracle.slot(i).status >= 95) shipped.push(i);
  }, 90_000);

  afterAll(async () => {
    await registry.stopAll();
    await proc.stop(5_000);
  });

  it('defines the set without generating it and reports it', async () => {
    const defined = await admin(sandbox, 'POST', '/orders/generate', {
      count: COUNT,
      seed: SEED,
      from: FROM,
      to: TO,
    });
    expect(defined.status).toBe(200);
    expect(defined.body).toMatchObject({
      lazy: true,
      count: COUNT,
      from: FROM,
      to: TO,
      firstStockoutId: '50001',
      lastStockoutId: String(50_000 + COUNT),
      total: COUNT,
    });
    const health = await admin(sandbox, 'GET', '/health');
    expect(health.body).toMatchObject({ orders: COUNT, lazy: { count: COUNT, seed: SEED } });
  });

  it('pages the whole set on the native gateway: total_count and spot-checked pages', async () => {
    const query = { startTime: FROM, endTime: TO, pageSize: 100 };
    const lastPage = Math.ceil(shipped.length / 100) - 1;
    for (const pageNo of [0, 1, 537, lastPage - 1, lastPage]) {
      const page = await native.queryPage({ ...query, pageNo });
      expect(page.totalCount).toBe(shipped.length);
      const expected = shipped.slice(pageNo * 100, pageNo * 100 + 100);
      expect(page.records.map((r) => r.stockout_id)).toEqual(expected.map((i) => String(50_001 + i)));
      expect(page.records[0]).toEqual(oracle.order(expected[0]));
      expect(page.records.at(-1)).toEqual(oracle.order(expected.at(-1)!));
    }
    const beyond = await native.queryPage({ ...query, pageNo: lastPage + 1 });
    expect(beyond.records).toEqual([]);
    expect(shipped.length).toBeGreaterThan(60_000);
  });

  it('pages a narrow window with inclusive one-second ends, on both gateways', async () => {
    const i = shipped[12_345];
    const start = oracle.timeOf(i);
    const end = start + 3_600_000;
    const inWindow = shipped.filter((k) => oracle.timeOf(k) >= start && oracle.timeOf(k) <= end);
    expect(oracle.timeOf(inWindow[0])).toBe(start);
    expect(oracle.timeOf(inWindow.at(-1)!)).toBeLessThanOrEqual(end);
    const query = { startTime: formatShanghai(start), endTime: formatShanghai(end) };
    const first = await qimen.queryPage({ ...query, pageNo: 0, pageSize: 30 });
    expect(first.totalCount).toBe(inWindow.length);
    expect(first.records.map((r) => r.stockout_id)).toEqual(
      inWindow.slice(0, 30).map((k) => String(50_001 + k)),
    );
    const last = Math.floor((inWindow.length - 1) / 30);
    const tail = await qimen.queryPage({ ...query, pageNo: last, pageSize: 30 });
    expect(tail.records.map((r) => r.stockout_id)).toEqual(
      inWindow.slice(last * 30).map((k) => String(50_001 + k)),
    );
    // One second less on each end drops exactly the orders on those seconds.
    const narrower = await native.queryPage({
      startTime: formatShanghai(start + 1000),
      endTime: formatShanghai(end - 1000),
      pageNo: 0,
      pageSize: 100,
    });
    const onEnds = inWindow.filter((k) => oracle.timeOf(k) === start || oracle.timeOf(k) === end).length;
    expect(narrower.totalCount).toBe(inWindow.length - onEnds);
    // Unshipped orders are on `modified` with a status filter.
    const cancelled = await native.queryPage({ ...query, status: 5, pageNo: 0, pageSize: 100 });
    const expectedCancelled = Array.from({ length: COUNT }, (_, k) => k).filter(
      (k) => oracle.slot(k).status === 5 && oracle.timeOf(k) >= start && oracle.timeOf(k) <= end,
    );
    expect(cancelled.totalCount).toBe(expectedCancelled.length);
    expect(cancelled.records.map((r) => r.stockout_id)).toEqual(
      expectedCancelled.slice(0, 100).map((k) => String(50_001 + k)),
    );
  });

  it('an edit through the admin API materialises that order only, and paging shows it', async () => {
    const i = shipped[500];
    const id = String(50_001 + i);
    const edited = await admin<WdtOrderRecord>(sandbox, 'PATCH', `/orders/${id}`, {
      set: { remark: 'lazy-edit' },
      modified: formatShanghai(oracle.timeOf(i) + 120_000),
    });
    expect(edited.status).toBe(200);
    const got = await admin<WdtOrderRecord>(sandbox, 'GET', `/orders/${oracle.order(i).order_no}`);
    expect(got.body).toMatchObject({ stockout_id: id, remark: 'lazy-edit' });
    const page = await native.queryPage({ startTime: FROM, endTime: TO, pageNo: 5, pageSize: 100 });
    expect(page.totalCount).toBe(shipped.length);
    expect(page.records.map((r) => r.stockout_id)).toEqual(
      shipped.slice(500, 600).map((k) => String(50_001 + k)),
    );
    expect(page.records[0]).toMatchObject({ stockout_id: id, remark: 'lazy-edit' });
    expect((await admin(sandbox, 'GET', '/health')).body).toMatchObject({ orders: COUNT });
  });

  it("keeps the sandbox's RSS small after paging", () => {
    const rss = rssOf(proc.pid!);
    expect(rss.peakMb).toBeLessThan(RSS_LIMIT_MB);
  });

  it('seed takes `lazy: true` (same answer as generate); stored seeding stays capped at 200,000', async () => {
    const tooMany = await admin<{ error: string }>(sandbox, 'POST', '/orders/seed', { count: 300_000 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toContain('lazy: true');
    const lazy = await admin(sandbox, 'POST', '/orders/seed', {
      count: 300_000,
      seed: 5,
      from: FROM,
      to: TO,
      lazy: true,
    });
    expect(lazy.status).toBe(200);
    // Replaces the 100k set; the edited order stays stored.
    expect(lazy.body).toMatchObject({ lazy: true, count: 300_000, seed: 5, total: 300_001 });
    const noWeights = await admin(sandbox, 'POST', '/orders/generate', {
      count: 10,
      statusWeights: { '95': 0 },
    });
    expect(noWeights.status).toBe(400);
  });
});
