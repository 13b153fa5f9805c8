import { join } from 'node:path';
import { ManualClock, formatShanghai, parseShanghai } from '@libs/common';
import { ManagedProcess, freePort } from '@tools/devstack';
import { WdtLimiterRegistry, nativeSign, topSign } from '@libs/wdt-client';
import { AppKeyReport, SandboxAccount, WdtOrderRecord } from '../../apps/wdt-sandbox/src';
import { WdtSandbox, startWdtSandbox } from '../../apps/wdt-sandbox/src/wdt-sandbox.server';
import { admin, captureError, makeClient, nativeClientOptions, qimenClientOptions } from './wdt-test-helpers';

const WINDOW = { startTime: '2026-11-01 00:00:00', endTime: '2026-11-30 00:00:00' };
const T0 = parseShanghai('2026-11-30 12:00:00')!;

/** Three sids: A and B share the native appkey `shared-key`; C has its own; all three share one Qimen app. */
const B = { sid: 'shop-b', appkey: 'shared-key', appsecret: 'shared-secret' };
const C = { sid: 'shop-c', appkey: 'shop-c-key', appsecret: 'shop-c-secret' };
/** D is served by another Qimen app only. */
const D = { sid: 'shop-d', qimenAppKey: '23000099', qimenSecret: 'other-qimen-secret' };

type Stats = {
  byAppKey: Record<string, AppKeyReport>;
  bySid: Record<string, { calls: number; accepted: number }>;
};

describe('WDT sandbox: several sids, app keys and per-app-key counters (real HTTP)', () => {
  let sandbox: WdtSandbox;
  let registry: WdtLimiterRegistry;
  const clock = new ManualClock(T0);
  const account = (sid: string): SandboxAccount => sandbox.seller(sid).account;

  /** One raw native call for `sid` at the clock's time (signed with the account's keys). */
  async function nativeCall(
    sid: string,
    extra: Record<string, string> = {},
  ): Promise<Record<string, unknown>> {
    const a = account(sid);
    const params = {
      sid: a.sid,
      appkey: a.appkey,
      timestamp: String(Math.floor(clock.now() / 1000)),
      start_time: WINDOW.startTime,
      end_time: WINDOW.endTime,
      ...extra,
    };
    const response = await fetch(`${sandbox.url}/openapi2/stockout_order_query_return.php`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...params, sign: nativeSign(params, a.appsecret) }).toString(),
    });
    return (await response.json()) as Record<string, unknown>;
  }

  /** One raw Qimen call for `sid` through `via` (default: the sid's own Qimen app). */
  async function qimenCall(
    sid: string,
    via: SandboxAccount = account(sid),
  ): Promise<Record<string, unknown>> {
    const params = {
      method: 'wdt.stockout.order.query.return',
      app_key: via.qimenAppKey,
      target_app_key: via.qimenTargetAppKey,
      sign_method: 'md5',
      timestamp: formatShanghai(clock.now()),
      format: 'json',
      v: '2.0',
      sid,
      start_time: WINDOW.startTime,
      end_time: WINDOW.endTime,
    };
    const response = await fetch(`${sandbox.url}/router/qm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...params, sign: topSign(params, via.qimenSecret, 'md5') }).toString(),
    });
    return (await response.json()) as Record<string, unknown>;
  }

  const stats = async (): Promise<Stats> => (await admin<Stats>(sandbox, 'GET', '/stats')).body;

  beforeAll(async () => {
    sandbox = await startWdtSandbox({
      port: 0,
      clock,
      seed: 5,
      accounts: [B, C],
      knobs: { callsPerMinute: 0 },
    });
    registry = new WdtLimiterRegistry();
  });

  afterAll(async () => {
    await registry.stopAll();
    await sandbox.close();
  });

  beforeEach(async () => {
    clock.set(T0);
    await admin(sandbox, 'POST', '/reset');
  });
  afterEach(() => registry.stopAll());

  it('the same order number in two sids: each sid sees its own order, on the admin API and both gateways', async () => {
    const order = (remark: string) => ({
      order_no: 'CT2026112800012',
      warehouse_no: 'SH01',
      status: 110,
      consign_time: '2026-11-28 01:30:00',
      remark,
      details_list: [{ spec_no: 'BWB-500-W', goods_count: '2.0000' }],
    });
    expect((await admin(sandbox, 'POST', '/orders', { orders: [order('for A')] })).status).toBe(200);
    expect((await admin(sandbox, 'POST', `/orders?sid=${B.sid}`, { orders: [order('for B')] })).status).toBe(
      200,
    );

    const first = sandbox.account.sid;
    for (const [sid, remark] of [
      [first, 'for A'],
      [B.sid, 'for B'],
    ]) {
      const stored = await admin<WdtOrderRecord>(sandbox, 'GET', `/orders/CT2026112800012?sid=${sid}`);
      expect(stored.body.remark).toBe(remark);
      const native = makeClient(
        nativeClientOptions(sandbox, { sid, ...keysOf(account(sid)) }),
        registry,
        clock,
      );
      const page = await native.queryPage({ ...WINDOW });
      expect(page.records.map((r) => [r.order_no, r.remark])).toEqual([['CT2026112800012', remark]]);
      const qimen = makeClient(qimenClientOptions(sandbox, 'md5', { sid }), registry, clock);
      const qpage = await qimen.queryPage({ ...WINDOW });
      expect(qpage.records.map((r) => [r.order_no, r.remark])).toEqual([['CT2026112800012', remark]]);
    }
    // C holds nothing; deleting B's order leaves A's.
    expect((await admin<{ total: number }>(sandbox, 'GET', `/orders?sid=${C.sid}`)).body.total).toBe(0);
    expect((await admin(sandbox, 'DELETE', `/orders/CT2026112800012?sid=${B.sid}`)).status).toBe(200);
    expect((await admin(sandbox, 'GET', `/orders/CT2026112800012?sid=${B.sid}`)).status).toBe(404);
    expect((await admin(sandbox, 'GET', '/orders/CT2026112800012')).status).toBe(200);
    expect((await admin(sandbox, 'GET', '/orders?sid=nope')).status).toBe(404);
    const perSid = (await stats()).bySid;
    expect(perSid[first]).toEqual({ calls: 2, accepted: 2 });
    expect(perSid[B.sid]).toEqual({ calls: 2, accepted: 2 });
  });

  it('seeds, generates and resets per sid (?sid=), with each account’s own seed', async () => {
    const request = { count: 5, from: '2026-11-05 00:00:00', to: '2026-11-25 00:00:00' };
    const a = await admin<{ inserted: number }>(sandbox, 'POST', '/orders/seed', request);
    const c = await admin<{ inserted: number }>(sandbox, 'POST', `/orders/seed?sid=${C.sid}`, request);
    expect([a.body.inserted, c.body.inserted]).toEqual([5, 5]);
    const listA = (await admin<{ orders: WdtOrderRecord[] }>(sandbox, 'GET', '/orders')).body.orders;
    const listC = (await admin<{ orders: WdtOrderRecord[] }>(sandbox, 'GET', `/orders?sid=${C.sid}`)).body
      .orders;
    // Same ids (own stores) and, with the same seed, the same orders; a lazy set in B only.
    expect(listC).toEqual(listA);
    const lazy = await admin<{ total: number }>(sandbox, 'POST', `/orders/generate?sid=${B.sid}`, {
      ...request,
      count: 1000,
      seed: 99,
    });
    expect(lazy.body.total).toBe(1000);
    expect((await admin<{ orders: number }>(sandbox, 'GET', `/health?sid=${B.sid}`)).body.orders).toBe(1000);
    expect((await admin<{ orders: number }>(sandbox, 'GET', '/health')).body.orders).toBe(5);
    expect((await admin(sandbox, 'POST', `/reset?sid=${C.sid}`)).body).toEqual({ reset: true, sid: C.sid });
    expect(sandbox.seller(C.sid).store.size).toBe(0);
    expect(sandbox.seller(B.sid).store.size).toBe(1000);
    expect(sandbox.store.size).toBe(5);
  });

  it('adds an account at run time; refuses a taken sid or a key reused with another secret', async () => {
    const added = await admin(sandbox, 'POST', '/accounts', { sid: 'shop-e', seedCount: 3 });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({
      sid: 'shop-e',
      appkey: 'shop-e-appkey',
      qimenAppKey: sandbox.account.qimenAppKey,
      qimenTargetAppKey: sandbox.account.qimenTargetAppKey,
      seed: 5,
      orders: 3,
    });
    expect(JSON.stringify((await admin(sandbox, 'GET', '/accounts')).body)).not.toContain('secret');
    expect((await admin(sandbox, 'POST', '/accounts', { sid: 'shop-e' })).status).toBe(409);
    const reused = await admin<{ error: string }>(sandbox, 'POST', '/accounts', {
      sid: 'shop-f',
      appkey: B.appkey,
      appsecret: 'another',
    });
    expect(reused.status).toBe(409);
    expect(reused.body.error).toMatch(/shared-key/);
    expect((await admin(sandbox, 'POST', '/accounts', { sid: '' })).status).toBe(400);
    expect((await admin(sandbox, 'POST', '/accounts', { sid: 'shop-g', nope: 1 })).status).toBe(400);
    const e = makeClient(
      nativeClientOptions(sandbox, { sid: 'shop-e', appkey: 'shop-e-appkey', appsecret: 'shop-e-appsecret' }),
      registry,
      clock,
    );
    const page = await e.queryPage({ startTime: '2026-11-20 00:00:00', endTime: '2026-11-30 23:59:59' });
    expect(page.totalCount).toBeLessThanOrEqual(3);
  });

  it('one Qimen app key serves two sids; a sid it does not serve is refused', async () => {
    await admin(sandbox, 'POST', '/orders', {
      orders: [{ order_no: 'QM-A', status: 110, consign_time: '2026-11-10 10:00:00' }],
    });
    await admin(sandbox, 'POST', `/orders?sid=${C.sid}`, {
      orders: [{ order_no: 'QM-C', status: 110, consign_time: '2026-11-10 10:00:00' }],
    });
    const first = sandbox.account;
    expect(account(C.sid).qimenAppKey).toBe(first.qimenAppKey);
    for (const [sid, orderNo] of [
      [first.sid, 'QM-A'],
      [C.sid, 'QM-C'],
    ]) {
      const client = makeClient(qimenClientOptions(sandbox, 'hmac', { sid }), registry, clock);
      const page = await client.queryPage({ ...WINDOW });
      expect(page.records.map((r) => r.order_no)).toEqual([orderNo]);
    }
    if (!sandbox.state.sellers.bySid(D.sid)) sandbox.addAccount(D);
    // D's app does not serve A: a WDT-level refusal; A's app does not serve D either.
    expect(await qimenCall(first.sid, account(D.sid))).toMatchObject({
      response: { errorcode: 102, message: '卖家账号未授权该应用' },
    });
    expect(await qimenCall(D.sid, first)).toMatchObject({ response: { errorcode: 102 } });
    expect(await qimenCall(D.sid)).toMatchObject({ response: { errorcode: 0, total_count: 0 } });
    const client = makeClient(qimenClientOptions(sandbox, 'md5', { sid: D.sid }), registry, clock);
    const err = await captureError(client.queryPage({ ...WINDOW }));
    expect(err).toMatchObject({ kind: 'auth' });

    const report = (await stats()).byAppKey;
    expect(report[first.qimenAppKey]).toMatchObject({ gateway: 'qimen', calls: 4, limit: null });
    expect(report[first.qimenAppKey].sids).toEqual(expect.arrayContaining([first.sid, B.sid, C.sid]));
    expect(report[first.qimenAppKey].sids).not.toContain(D.sid);
    expect(report[D.qimenAppKey]).toMatchObject({ gateway: 'qimen', sids: [D.sid], calls: 2 });
  });

  it('maxInWindow per app key is exact over every sliding window (both gateways, shared keys)', async () => {
    const W = 1000;
    sandbox.setKnobs({ rateLimitWindowMs: W });
    const first = sandbox.account;
    // Time steps with repeats (0), exact window lengths (a call W after another is outside its window)
    // and bursts: a deterministic LCG so the run is the same every time.
    let lcg = 12345;
    const next = () => (lcg = (lcg * 1103515245 + 12345) % 2 ** 31) >>> 16;
    const steps = [0, 0, W, 0, 1, W - 1, 0];
    for (let i = 0; i < 113; i++) steps.push([0, 7, 50, 120, 333, W, W + 1, 999][next() % 8]);
    const times: Record<string, number[]> = {};
    // A has the default native appkey; B alone on `shared-key` here; A and C through one Qimen app.
    const callers: Array<[string, () => Promise<Record<string, unknown>>]> = [
      [first.appkey, () => nativeCall(first.sid)],
      [B.appkey, () => nativeCall(B.sid)],
      [C.appkey, () => nativeCall(C.sid)],
      [first.qimenAppKey, () => qimenCall(C.sid)],
      [first.qimenAppKey, () => qimenCall(first.sid)],
    ];
    // First, bursts of three exactly one window apart: every window holds one burst, never two.
    for (const step of [0, 0, 0, W, 0, 0, W, 0, 0]) {
      clock.advance(step);
      expect(await nativeCall(C.sid)).toMatchObject({ code: 0 });
      (times[C.appkey] ??= []).push(clock.now());
    }
    for (const step of steps) {
      clock.advance(step);
      const [key, call] = callers[next() % callers.length];
      const reply = await call();
      expect(reply.code ?? (reply.response as { errorcode: number }).errorcode).toBe(0);
      (times[key] ??= []).push(clock.now());
    }
    // A rejected call (wrong sign) still counts: the client made it.
    const bad = await fetch(`${sandbox.url}/openapi2/stockout_order_query_return.php`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        sid: C.sid,
        appkey: C.appkey,
        timestamp: String(Math.floor(clock.now() / 1000)),
        sign: 'bad',
      }).toString(),
    });
    expect(await bad.json()).toMatchObject({ code: 100 });
    times[C.appkey].push(clock.now());

    /** The most calls in any window (t − W, t], by brute force over every call as the window's end. */
    const expectedMax = (ts: number[]) =>
      Math.max(...ts.map((end) => ts.filter((t) => t > end - W && t <= end).length));
    const report = (await stats()).byAppKey;
    for (const [key, ts] of Object.entries(times)) {
      expect({ key, calls: report[key].calls, max: report[key].maxInWindow }).toEqual({
        key,
        calls: ts.length,
        max: expectedMax(ts),
      });
      expect(report[key].windowMs).toBe(W);
    }
    // Not vacuous: some key saw more than one call in a window, and fewer than all of its calls.
    expect(Object.values(times).some((ts) => expectedMax(ts) > 1 && expectedMax(ts) < ts.length)).toBe(true);
    expect(report[B.appkey]).toMatchObject({ gateway: 'native', sids: [B.sid] });
    expect(Object.keys(report)).toEqual(
      expect.arrayContaining([first.appkey, B.appkey, C.appkey, first.qimenAppKey]),
    );
    // A stats reset clears the counters.
    await admin(sandbox, 'POST', '/stats/reset');
    expect((await stats()).byAppKey[C.appkey]).toMatchObject({ calls: 0, maxInWindow: 0 });
  });

  it('a per-app-key limit answers "too frequent" across the sids of the key, on both gateways', async () => {
    const first = sandbox.account;
    // B and H share one native appkey (H takes its secret along).
    sandbox.addAccount({ sid: 'shop-h', appkey: B.appkey });
    sandbox.setKnobs({ rateLimitWindowMs: 10_000, appKeyLimits: { [B.appkey]: 3, [first.qimenAppKey]: 2 } });
    expect(await nativeCall(B.sid)).toMatchObject({ code: 0 });
    expect(await nativeCall('shop-h')).toMatchObject({ code: 0 });
    clock.advance(4000);
    expect(await nativeCall(B.sid)).toMatchObject({ code: 0 });
    expect(await nativeCall('shop-h')).toEqual({ code: 1012, message: '调用太频繁，1分钟内最多3次' });
    // Another key is not limited by it.
    expect(await nativeCall(C.sid)).toMatchObject({ code: 0 });
    // The first two calls leave the window 10 s after they were made (not at 10 s + 4 s).
    clock.advance(5999);
    expect(await nativeCall('shop-h')).toMatchObject({ code: 1012 });
    clock.advance(1);
    expect(await nativeCall('shop-h')).toMatchObject({ code: 0 });

    expect(await qimenCall(first.sid)).toMatchObject({ response: { errorcode: 0 } });
    expect(await qimenCall(C.sid)).toMatchObject({ response: { errorcode: 0 } });
    const limited = await qimenCall(B.sid);
    expect(limited).toMatchObject({
      error_response: {
        code: 7,
        msg: 'App Call Limited',
        sub_code: 'accesscontrol.limited-by-app-access-count',
      },
    });
    // The client classes it as rate limited.
    const client = makeClient(
      qimenClientOptions(sandbox, 'md5', { sid: C.sid, maxAttempts: 1 }),
      registry,
      clock,
    );
    expect(await captureError(client.queryPage({ ...WINDOW }))).toMatchObject({ kind: 'rate_limited' });

    const report = (await stats()).byAppKey;
    // Windows (t − 10 s, t]: the one ending at +9.999 s holds the five calls made by then.
    expect(report[B.appkey]).toMatchObject({
      calls: 6,
      limited: 2,
      limit: 3,
      maxInWindow: 5,
      windowMs: 10_000,
    });
    expect(report[first.qimenAppKey]).toMatchObject({ calls: 4, limited: 2, limit: 2 });
    expect(report[C.appkey]).toMatchObject({ calls: 1, limited: 0, limit: null });
    // appKeyCallsPerMinute limits every other key.
    // (windows of admission start when a key gets a limit).
    sandbox.setKnobs({ appKeyCallsPerMinute: 1 });
    expect(await nativeCall(C.sid)).toMatchObject({ code: 0 });
    expect(await nativeCall(C.sid)).toMatchObject({ code: 1012, message: '调用太频繁，1分钟内最多1次' });
    expect((await stats()).byAppKey[first.appkey].limit).toBe(1);
  });

  it('as a process: WDT_SANDBOX_ACCOUNTS and the app-key limit variables', async () => {
    const port = await freePort();
    const proc = new ManagedProcess({
      name: 'wdt-sandbox-accounts',
      script: join(__dirname, '../../dist/apps/wdt-sandbox/src/main.js'),
      env: {
        WDT_SANDBOX_PORT: String(port),
        WDT_SANDBOX_SID: 'main-sid',
        WDT_SANDBOX_ACCOUNTS: JSON.stringify([{ sid: 'second', seedCount: 4, seed: 3 }, { sid: 'third' }]),
        WDT_SANDBOX_APPKEY_CALLS_PER_MINUTE: '100',
        WDT_SANDBOX_APPKEY_LIMITS: JSON.stringify({ 'second-appkey': 30 }),
      },
      logFile: join(__dirname, '../../.infra/logs/wdt-sandbox-accounts.log'),
      readyUrl: `http://127.0.0.1:${port}/admin/health`,
    });
    proc.start();
    try {
      await proc.waitReady();
      const remote = { url: `http://127.0.0.1:${port}` } as WdtSandbox;
      const accounts = await admin<{ accounts: Array<{ sid: string; orders: number }> }>(
        remote,
        'GET',
        '/accounts',
      );
      expect(accounts.body.accounts.map((a) => [a.sid, a.orders])).toEqual([
        ['main-sid', 0],
        ['second', 4],
        ['third', 0],
      ]);
      const report = (await admin<Stats>(remote, 'GET', '/stats')).body.byAppKey;
      expect(report['second-appkey']).toMatchObject({ limit: 30, windowMs: 60_000, calls: 0 });
      expect(report['third-appkey']).toMatchObject({ limit: 100 });
    } finally {
      await proc.stop();
    }
  });
});

function keysOf(a: SandboxAccount): { appkey: string; appsecret: string } {
  return { appkey: a.appkey, appsecret: a.appsecret };
}
