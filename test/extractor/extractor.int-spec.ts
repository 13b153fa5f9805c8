import { ManualClock, parseShanghai } from '@libs/common';
import { decodeEvent, RawStockoutEventSchema } from '@libs/contracts';
import { ExtractionStore, LeaderLease, PostgresExtractionStore } from '@libs/extraction';
import { Scheme } from '@libs/scheme';
import { FetchHttpTransport, HttpTransport } from '@libs/wdt-client';
import { WdtSandbox } from '../../apps/wdt-sandbox/src';
import { admin, extractorFixtures, schemeWith } from '../support/extractor-fixtures';
import { readAll, TestEnv } from '../support/test-env';

describe('extractor: WDT sandbox over HTTP → real Kafka raw topic, cursor in real Postgres', () => {
  const clock = new ManualClock(parseShanghai('2026-11-20 12:00:00')!);
  const fx = extractorFixtures('extractor', { partitions: 3, clock });
  // Set once the fixtures' own beforeAll (registered first) has run.
  let t: TestEnv;
  let sandbox: WdtSandbox;
  let store: PostgresExtractionStore;
  beforeAll(() => {
    ({ t, sandbox, store } = fx);
  });

  function client(opts: { secret?: string; transport?: HttpTransport } = {}) {
    return fx.client(
      {
        appsecret: opts.secret ?? sandbox.account.appsecret,
        maxAttempts: 6,
        backoff: { initialDelayMs: 20, rateLimitedInitialDelayMs: 200, maxDelayMs: 1000 },
      },
      { transport: opts.transport },
    );
  }

  function service(scheme: Scheme, c = client(), s: ExtractionStore = store, maxRecordsPerWindow?: number) {
    return fx.service(scheme, c, { store: s, maxRecordsPerWindow });
  }

  async function rawOrders(expectAtLeast: number): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const m of await readAll(t, t.topics.rawStockout, expectAtLeast)) {
      const e = decodeEvent(RawStockoutEventSchema, m.value, 'raw');
      expect(m.key).toBe(e.orderNo);
      counts.set(`${e.schemeId}/${e.orderNo}`, (counts.get(`${e.schemeId}/${e.orderNo}`) ?? 0) + 1);
    }
    return counts;
  }

  it('pages a multi-page window completely (last page first), keys events by order number and stores the cursor', async () => {
    const seeded = await admin(sandbox, 'POST', '/orders/seed', {
      count: 120,
      seed: 11,
      from: '2026-11-19 00:00:00',
      to: '2026-11-20 10:00:00',
      statusWeights: { '95': 1, '110': 1 },
    });
    expect(seeded.inserted).toBe(120);
    const scheme = schemeWith('multi-page', {
      pageSize: 30,
      cursor: { initial: '2026-11-19 00:00:00', safetyLag: '30s' },
    });
    const stats = await service(scheme).poll();
    expect(stats!.fetched).toBe(120);
    expect(stats!.emitted).toBe(120);
    expect(stats!.httpCalls).toBe(4);
    const counts = await rawOrders(120);
    expect([...counts.keys()].filter((k) => k.startsWith('multi-page/')).length).toBe(120);
    expect(await store.getCursor('multi-page')).toMatchObject({
      axis: 'consign_time',
      cursorValue: '2026-11-20 11:59:30',
    });

    // Polling again re-reads the overlap but emits nothing unchanged.
    clock.advance(60_000);
    const again = await service(scheme).poll();
    expect(again!.emitted).toBe(0);
  });

  it('halves a window holding more records than it may keep in memory, and still delivers every order once', async () => {
    await admin(sandbox, 'POST', '/orders/seed', {
      count: 130,
      seed: 21,
      from: '2026-11-19 00:00:00',
      to: '2026-11-20 10:00:00',
      statusWeights: { '95': 1, '110': 1 },
    });
    const scheme = schemeWith('bounded', {
      pageSize: 20,
      cursor: { initial: '2026-11-19 00:00:00', safetyLag: '30s' },
    });
    clock.set(parseShanghai('2026-11-20 12:00:00')!);
    const stats = await service(scheme, client(), store, 40).poll();
    expect(stats!.windows.length).toBeGreaterThanOrEqual(4);
    expect(stats!.windows.every((w) => w.fetched <= 40)).toBe(true);
    expect(stats!.emitted).toBe(130);
    const counts = [...(await rawOrders(130)).entries()].filter(([k]) => k.startsWith('bounded/'));
    expect(counts).toHaveLength(130);
    expect(counts.every(([, n]) => n === 1)).toBe(true);
    expect((await store.getCursor('bounded'))?.cursorValue).toBe('2026-11-20 11:59:30');
  });

  it('splits a span longer than 30 days into windows WDT accepts and loses nothing at the edges', async () => {
    await admin(sandbox, 'POST', '/orders/seed', {
      count: 60,
      seed: 12,
      from: '2026-09-01 00:00:00',
      to: '2026-11-20 00:00:00',
      statusWeights: { '95': 1, '110': 1 },
    });
    // Two orders exactly on the boundary second between two windows.
    await admin(sandbox, 'POST', '/orders', {
      orders: [
        {
          order_no: 'EDGE-A',
          status: 110,
          consign_time: '2026-09-30 23:59:59',
          warehouse_no: 'SH01',
          provider_no: 'GYS001',
        },
        {
          order_no: 'EDGE-B',
          status: 110,
          consign_time: '2026-10-01 00:00:00',
          warehouse_no: 'SH01',
          provider_no: 'GYS001',
        },
      ],
    });
    const scheme = schemeWith('long-span', { cursor: { initial: '2026-09-01 00:00:00' } });
    const stats = await service(scheme).poll();
    expect(stats!.windows.length).toBe(3);
    expect(stats!.fetched).toBe(62);
    const rejections = (await admin(sandbox, 'GET', '/stats')).rejections;
    expect(rejections.native ?? {}).toEqual({});
    const counts = await rawOrders(62);
    expect(counts.get('long-span/EDGE-A')).toBe(1);
    expect(counts.get('long-span/EDGE-B')).toBe(1);
  });

  it('keeps every order that shares one timestamp across a page boundary, and catches one arriving later at the cursor edge', async () => {
    const at = '2026-11-20 11:00:00';
    await admin(sandbox, 'POST', '/orders', {
      orders: Array.from({ length: 7 }, (_, i) => ({
        order_no: `SAME-${i}`,
        status: 95,
        consign_time: at,
        warehouse_no: 'BJ02',
        provider_no: 'GYS002',
      })),
    });
    const scheme = schemeWith('same-second', {
      pageSize: 3,
      cursor: { initial: '2026-11-20 10:00:00', lookback: '0s', safetyLag: '0s' },
    });
    clock.set(parseShanghai(at)!);
    const first = await service(scheme).poll();
    expect(first!.emitted).toBe(7);
    // Another order with the very same timestamp is written after we read that second.
    await admin(sandbox, 'POST', '/orders', {
      orders: [
        { order_no: 'SAME-late', status: 95, consign_time: at, warehouse_no: 'BJ02', provider_no: 'GYS002' },
      ],
    });
    clock.advance(5000);
    const second = await service(scheme).poll();
    expect(second!.emitted).toBe(1);
    const counts = await rawOrders(8);
    for (const n of ['0', '1', '2', '3', '4', '5', '6', 'late'])
      expect(counts.get(`same-second/SAME-${n}`)).toBe(1);
  });

  it('loses nothing when orders are modified and inserted while a window is being paged', async () => {
    await admin(sandbox, 'POST', '/orders', {
      orders: Array.from({ length: 9 }, (_, i) => ({
        order_no: `MOD-${i}`,
        status: 110,
        consign_time: `2026-11-20 09:0${i}:00`,
        warehouse_no: 'GZ03',
        provider_no: 'GYS003',
      })),
    });
    let calls = 0;
    const real = new FetchHttpTransport();
    const meddling: HttpTransport = {
      async post(request) {
        const response = await real.post(request);
        calls += 1;
        if (calls === 1) {
          // After page 0: one order changes, and a new one lands at the front, shifting every page.
          await admin(sandbox, 'PATCH', '/orders/MOD-0', { set: { remark: '分页期间修改' } });
          await admin(sandbox, 'POST', '/orders', {
            orders: [
              {
                order_no: 'MOD-new',
                status: 110,
                consign_time: '2026-11-20 08:59:00',
                warehouse_no: 'GZ03',
                provider_no: 'GYS003',
              },
            ],
          });
        }
        return response;
      },
    };
    const scheme = schemeWith('modified-mid-page', {
      pageSize: 3,
      cursor: { initial: '2026-11-20 08:00:00' },
    });
    clock.set(parseShanghai('2026-11-20 12:00:00')!);
    const stats = await service(scheme, client({ transport: meddling })).poll();
    // total_count moved while paging, so the window was read again before the cursor moved. Pages are
    // published as they arrive: MOD-0 went out from page 0 before its edit, and again (changed) from the
    // re-read; nothing else twice.
    expect(stats!.emitted).toBe(11);
    const events = await fx.rawEvents('modified-mid-page', 1);
    expect(new Set(events.map((e) => e.orderNo)).size).toBe(10);
    expect(events.filter((e) => e.orderNo !== 'MOD-0')).toHaveLength(9);
    expect(events.filter((e) => e.orderNo === 'MOD-0').at(-1)!.record.remark).toBe('分页期间修改');
  });

  it('slows down on "too frequent" replies and still delivers every page', async () => {
    await admin(sandbox, 'POST', '/orders/seed', {
      count: 50,
      seed: 13,
      from: '2026-11-20 00:00:00',
      to: '2026-11-20 10:00:00',
      statusWeights: { '110': 1 },
    });
    await admin(sandbox, 'PATCH', '/knobs', { callsPerMinute: 2, rateLimitWindowMs: 400 });
    const scheme = schemeWith('rate-limited', { pageSize: 10, cursor: { initial: '2026-11-20 00:00:00' } });
    const stats = await service(scheme).poll();
    expect(stats!.emitted).toBe(50);
    const s = await admin(sandbox, 'GET', '/stats');
    expect(
      Object.values(s.rejections.native ?? {}).reduce((a: number, b) => a + Number(b), 0),
    ).toBeGreaterThan(0);
    expect(stats!.httpCalls).toBeGreaterThan(5);
  });

  it('fails once, loudly and without retries, on a wrong secret (even on its first poll, it shows in lastError); the cursor does not move', async () => {
    const scheme = schemeWith('wrong-secret', { cursor: { initial: '2026-11-20 00:00:00' } });
    const err = await service(scheme, client({ secret: 'definitely-wrong-secret' }))
      .poll()
      .catch((e: Error & { kind?: string }) => e);
    expect((err as { kind?: string }).kind).toBe('auth');
    expect(String(err)).not.toContain('definitely-wrong-secret');
    expect((await admin(sandbox, 'GET', '/stats')).calls).toEqual({ native: 1, qimen: 0 });
    // The cursor stays where a first poll starts; the scheme's row says why it does not move.
    expect(await store.getCursor('wrong-secret')).toMatchObject({ cursorValue: '2026-11-20 00:00:00' });
    const [row] = await t.ds.query(`SELECT last_error FROM sync_cursors WHERE scheme_id = 'wrong-secret'`);
    expect(row.last_error).toMatch(/WDT auth error/);
    expect(row.last_error).not.toContain('definitely-wrong-secret');
  });

  it('fails the window on malformed pages (after retries) without moving the cursor; a record without order_no is dead-lettered', async () => {
    await admin(sandbox, 'POST', '/orders', {
      orders: [
        {
          order_no: 'OK-1',
          status: 110,
          consign_time: '2026-11-20 08:00:00',
          warehouse_no: 'SH01',
          provider_no: 'GYS001',
        },
      ],
    });
    await admin(sandbox, 'PATCH', '/knobs', {
      malformedNext: 10,
      malformedKinds: ['html', 'broken_json', 'missing_list', 'wrong_types'],
    });
    const scheme = schemeWith('malformed', { cursor: { initial: '2026-11-20 00:00:00' } });
    const err = await service(scheme)
      .poll()
      .catch((e: Error) => e);
    expect(String(err)).toMatch(/malformed|HTML|JSON|stockout_list|total_count/i);
    // Not moved: still where a first poll starts (the row exists to say why in lastError).
    expect(await store.getCursor('malformed')).toMatchObject({ cursorValue: '2026-11-20 00:00:00' });

    await admin(sandbox, 'PATCH', '/knobs', { malformedNext: 0 });
    await admin(sandbox, 'POST', '/orders', {
      raw: true,
      orders: [
        { stockout_id: '990001', status: '110', consign_time: '2026-11-20 08:30:00', details_list: [] },
      ],
    });
    const stats = await service(scheme).poll();
    expect(stats!.emitted).toBe(1);
    expect(stats!.parked).toBe(1);
    const dlq = await readAll(t, t.topics.deadLetter, 1);
    expect(dlq.some((m) => m.value.includes('has no order_no') && m.value.includes('990001'))).toBe(true);
    expect((await store.getCursor('malformed'))?.cursorValue).toBeDefined();
  });

  it('re-emits the window after a crash between Kafka acknowledgement and the cursor commit: nothing is lost', async () => {
    await admin(sandbox, 'POST', '/orders/seed', {
      count: 25,
      seed: 14,
      from: '2026-11-20 00:00:00',
      to: '2026-11-20 10:00:00',
      statusWeights: { '95': 1 },
    });
    const scheme = schemeWith('crash', { cursor: { initial: '2026-11-20 00:00:00' } });
    const crashing: ExtractionStore = {
      getCursor: (id) => store.getCursor(id),
      getFingerprints: (id, nos) => store.getFingerprints(id, nos),
      recordRun: (id, o) => store.recordRun(id, o),
      knownOrder: (id, no) => store.knownOrder(id, no),
      takeResyncRequests: (id, n) => store.takeResyncRequests(id, n),
      completeResync: (id, st, r) => store.completeResync(id, st, r),
      commitWindow: async () => {
        throw new Error('process killed before the cursor transaction');
      },
    };
    await expect(service(scheme, client(), crashing).poll()).rejects.toThrow(/killed/);
    expect(await store.getCursor('crash')).toBeUndefined();
    const restarted = await service(scheme).poll();
    expect(restarted!.emitted).toBe(25);
    const counts = await rawOrders(50);
    const crashOrders = [...counts.entries()].filter(([k]) => k.startsWith('crash/'));
    expect(crashOrders.length).toBe(25);
    expect(crashOrders.every(([, n]) => n === 2)).toBe(true); // duplicates allowed, losses not
  });

  it('catches a late edit outside the lookback with the reconciliation sweep', async () => {
    await admin(sandbox, 'POST', '/orders', {
      orders: [
        {
          order_no: 'LATE-1',
          status: 110,
          consign_time: '2026-11-18 08:00:00',
          warehouse_no: 'SH01',
          provider_no: 'GYS004',
        },
      ],
    });
    const scheme = schemeWith('late-edit', {
      cursor: { initial: '2026-11-18 00:00:00', lookback: '10m' },
      reconciliation: { period: '3d', cron: '30 2 * * *' },
    });
    clock.set(parseShanghai('2026-11-20 12:00:00')!);
    expect((await service(scheme).poll())!.emitted).toBe(1);
    await admin(sandbox, 'PATCH', '/orders/LATE-1', { set: { remark: '两天后补充备注' } });
    clock.advance(60_000);
    expect((await service(scheme).poll())!.emitted).toBe(0); // consign time is far behind the lookback
    const swept = await service(scheme).sweep();
    expect(swept!.emitted).toBe(1);
    const events = (await readAll(t, t.topics.rawStockout, 1))
      .map((m) => decodeEvent(RawStockoutEventSchema, m.value, 'raw'))
      .filter((e) => e.orderNo === 'LATE-1');
    expect(events.map((e) => e.trigger)).toEqual(['poll', 'sweep']);
    expect(events[1].record.remark).toBe('两天后补充备注');
  });

  it('carries out resync requests: re-fetches the order around its known time and re-emits it unchanged', async () => {
    await admin(sandbox, 'POST', '/orders', {
      orders: [
        {
          order_no: 'RESYNC-1',
          status: 110,
          consign_time: '2026-11-20 07:00:00',
          warehouse_no: 'SH01',
          provider_no: 'GYS005',
        },
      ],
    });
    const scheme = schemeWith('resync', { cursor: { initial: '2026-11-20 06:00:00' } });
    clock.set(parseShanghai('2026-11-20 12:00:00')!);
    expect((await service(scheme).poll())!.emitted).toBe(1);
    await t.ds.query(
      `INSERT INTO resync_requests (id, scheme_id, order_no, requested_by) VALUES (gen_random_uuid(), 'resync', 'RESYNC-1', 'ops-alice'),
         (gen_random_uuid(), 'resync', 'NEVER-SEEN', 'ops-alice')`,
    );
    expect(await service(scheme).processResyncRequests()).toBe(2);
    const rows = await t.ds.query(
      `SELECT order_no, state, result FROM resync_requests WHERE scheme_id = 'resync' ORDER BY order_no`,
    );
    expect(rows.map((r: { order_no: string; state: string }) => [r.order_no, r.state])).toEqual([
      ['NEVER-SEEN', 'not_found'],
      ['RESYNC-1', 'done'],
    ]);
    expect(rows[0].result).toMatch(/never extracted/);
    const events = (await readAll(t, t.topics.rawStockout, 1))
      .map((m) => decodeEvent(RawStockoutEventSchema, m.value, 'raw'))
      .filter((e) => e.orderNo === 'RESYNC-1');
    expect(events.map((e) => e.trigger)).toEqual(['poll', 'resync']);
    expect(events[0].fingerprint).toBe(events[1].fingerprint);
  });

  it('re-reads orders last seen minutes apart in one window (bulk re-push), and far-apart ones in their own', async () => {
    const order = (no: string, at: string) => ({
      order_no: no,
      status: 110,
      consign_time: at,
      warehouse_no: 'SH01',
      provider_no: 'GYS005',
    });
    await admin(sandbox, 'POST', '/orders', {
      orders: [
        order('BULK-1', '2026-11-21 07:00:00'),
        order('BULK-2', '2026-11-21 07:03:00'),
        order('BULK-3', '2026-11-21 07:08:00'),
        order('BULK-4', '2026-11-21 09:30:00'),
      ],
    });
    const scheme = schemeWith('bulk', { cursor: { initial: '2026-11-21 06:00:00' } });
    clock.set(parseShanghai('2026-11-21 12:00:00')!);
    expect((await service(scheme).poll())!.emitted).toBe(4);
    await t.ds.query(
      `INSERT INTO resync_requests (id, scheme_id, order_no, requested_by, trigger)
       SELECT gen_random_uuid(), 'bulk', o, 'ops-alice', 'repush' FROM unnest($1::text[]) AS o`,
      [['BULK-1', 'BULK-2', 'BULK-3', 'BULK-4']],
    );
    await admin(sandbox, 'POST', '/stats/reset');
    // Re-push reads queue behind the polls on the shared WDT limiter: background priority.
    const c = client();
    const reads = jest.spyOn(c, 'queryPages');
    expect(await service(scheme, c).processResyncRequests()).toBe(4);
    expect(reads.mock.calls.map(([, options]) => options?.priority)).toEqual(['background', 'background']);
    const rows = await t.ds.query(
      `SELECT order_no, state, result FROM resync_requests WHERE scheme_id = 'bulk'`,
    );
    expect(rows.map((r: { state: string }) => r.state)).toEqual(['done', 'done', 'done', 'done']);
    const windows = new Set(rows.map((r: { result: string }) => r.result.replace(/^re-emitted \S+ /, '')));
    expect(windows.size).toBe(2); // 07:00–07:08 together, 09:30 alone
    const stats = await admin(sandbox, 'GET', '/stats');
    expect(stats.calls.native).toBe(2);
    const events = (await readAll(t, t.topics.rawStockout, 8))
      .map((m) => decodeEvent(RawStockoutEventSchema, m.value, 'raw'))
      .filter((e) => e.orderNo.startsWith('BULK-') && e.trigger === 'repush');
    expect(events.map((e) => e.orderNo).sort()).toEqual(['BULK-1', 'BULK-2', 'BULK-3', 'BULK-4']);
  });

  it('lets only one replica lead a scheme; another takes over when the leader goes', async () => {
    const a = new LeaderLease(t.ds, `extractor:${t.suffix}`);
    const b = new LeaderLease(t.ds, `extractor:${t.suffix}`);
    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    await a.release();
    expect(await b.tryAcquire()).toBe(true);
    await b.release();
  });
});
