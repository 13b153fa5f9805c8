import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { AlertNotifier, AlertMonitor, WebhookAlertClient } from '@libs/alerts';
import { KingdeeSandbox } from '../../apps/kingdee-sandbox/src';
import { adminJson } from '../kingdee/kingdee-test.support';
import { eventually, TestEnv } from '../support/test-env';
import {
  allIn,
  billsPerKey,
  documentFor,
  expectOneBillEach,
  lastStatus,
  loaderFixtures,
  schemeVariant,
  wdtRecord,
} from './loader-harness';

/** A webhook receiver on 127.0.0.1 (what an alert channel is sent). */
async function receiver(): Promise<{ url: string; bodies: Array<Record<string, unknown>>; server: Server }> {
  const bodies: Array<Record<string, unknown>> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"errcode":0}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies, server };
}

describe('loader: base data missing in Kingdee (sandbox over HTTP, real Postgres and Kafka)', () => {
  const fx = loaderFixtures('base-data');
  let t: TestEnv;
  let sandbox: KingdeeSandbox;
  beforeAll(() => {
    ({ t, sandbox } = fx);
  });
  afterEach(() => sandbox.reset({ baseData: true }));

  it('reports a missing supplier by code, lets the batch load, and loads the order by itself once the supplier exists', async () => {
    const scheme = schemeVariant('bd-supplier');
    const good = ['A', 'B', 'C'].map((n) => documentFor(scheme, wdtRecord(`BDS-${n}`)));
    const missing = documentFor(scheme, wdtRecord('BDS-GYS999', { provider: 'GYS999' }));
    const hook = await receiver();
    const notifier = new AlertNotifier([new WebhookAlertClient(hook.url)], { minIntervalMs: 60_000 });
    const alerts = new AlertMonitor(notifier, { lagThresholdMs: 60_000 });
    try {
      const r = await fx.rig([scheme]);
      r.engine.baseData.onReport = (codes) => alerts.onBaseDataWaiting(codes);
      await r.load([good[0], missing, good[1], good[2]]);

      // The rest of the batch loaded; the order waits, and says why by code — with Kingdee's own words.
      expectOneBillEach(
        sandbox,
        good.map((d) => d.billKey),
      );
      expect(billsPerKey(sandbox).get(missing.billKey)).toBeUndefined();
      const status = await lastStatus(t, scheme.id, 4);
      for (const d of good) expect(status.get(d.sourceKey)?.status).toBe('loaded');
      const waiting = status.get(missing.sourceKey)!;
      expect(waiting.status).toBe('waiting_base_data');
      expect(waiting.errorField).toMatch(/^FSupplierI[dD]$/);
      expect(waiting.errorMessage).toContain('supplier GYS999 does not exist in Kingdee');
      expect(waiting.errorMessage).toMatch(/供应商.*必填项/);
      expect(waiting.reason).toContain('supplier GYS999 does not exist in Kingdee');

      // It waits in parking, listed by code; a check finds it still missing and writes nothing.
      const parked: Array<{ reason: string }> = await t.ds.query(
        `SELECT reason FROM parked_messages WHERE scheme_id = $1 AND message_key = $2`,
        [scheme.id, missing.billKey],
      );
      expect(parked.map((p) => p.reason)).toEqual(['base_data']);
      const before = sandbox.stats.snapshot().byService;
      const first = await r.engine.baseData.checkNow();
      expect(first.released).toBe(0);
      const queries = (svc: Record<string, Partial<Record<string, number>>>) =>
        Object.entries(svc)
          .filter(([name]) => name.endsWith('ExecuteBillQuery'))
          .reduce((n, [, o]) => n + Object.values(o ?? {}).reduce((a: number, b) => a + (b ?? 0), 0), 0);
      expect(queries(sandbox.stats.snapshot().byService) - queries(before)).toBe(1); // one per form
      const listed = await r.engine.baseData.waiting();
      expect(listed).toEqual([
        expect.objectContaining({
          form: 'BD_Supplier',
          code: 'GYS999',
          problem: 'missing',
          diagnosis: 'supplier GYS999 does not exist in Kingdee',
          orders: [expect.objectContaining({ schemeId: scheme.id, sourceKey: missing.sourceKey })],
        }),
      ]);
      await alerts.settled();
      const alert = hook.bodies.find((b) => String(b.key).startsWith('base_data'));
      expect(alert).toBeDefined();
      expect(String(alert!.text)).toContain('supplier GYS999 does not exist in Kingdee');
      expect(String(alert!.text)).toMatch(/GYS999[^\n]*1 order/);
      expect(billsPerKey(sandbox).get(missing.billKey)).toBeUndefined();

      // Someone adds the supplier in Kingdee; an operator asks for a check now (a request row the loader picks up).
      expect((await adminJson(sandbox, 'POST', '/admin/base-data', { suppliers: ['GYS999'] })).status).toBe(
        200,
      );
      await r.engine.baseData.store.requestCheck('test-operator');
      await r.settleUntil('the waiting order loaded', () =>
        allIn(t, scheme.id, [missing.billKey], ['loaded']),
      );
      expectOneBillEach(
        sandbox,
        [...good, missing].map((d) => d.billKey),
      );
      await eventually('the audit trail says loaded', async () => {
        const s = await lastStatus(t, scheme.id, 6);
        return s.get(missing.sourceKey)?.status === 'loaded';
      });
      expect(await r.engine.baseData.waiting()).toEqual([]);
      const requests: Array<{ state: string }> = await t.ds.query(
        `SELECT state FROM base_data_check_requests`,
      );
      expect(requests.map((q) => q.state)).toEqual(['done']);
    } finally {
      await alerts.stop();
      await new Promise((resolve) => hook.server.close(resolve));
    }
  });

  it('tells a forbidden material, one not allocated to the organisation and an unaudited stock apart', async () => {
    await adminJson(sandbox, 'POST', '/admin/base-data', {
      orgs: ['102'],
      materials: [
        { number: 'MAT-FORBID', enabled: false },
        { number: 'MAT-ELSEWHERE', useOrgs: ['102'] },
      ],
      stocks: [{ number: 'WH-DRAFT', audited: false }],
    });
    const scheme = schemeVariant('bd-kinds');
    const forbidden = documentFor(scheme, wdtRecord('BDK-FORBID', { spec: 'MAT-FORBID' }));
    const elsewhere = documentFor(scheme, wdtRecord('BDK-ELSEWHERE', { spec: 'MAT-ELSEWHERE' }));
    const draft = documentFor(scheme, { ...wdtRecord('BDK-DRAFT'), warehouse_no: 'WH-DRAFT' });
    // The same missing code, checked with IsVerifyBaseDataField on: Kingdee's base-data message instead.
    const verifying = schemeVariant('bd-verify', (s) => ({
      ...s,
      target: { ...s.target, requestOptions: { ...s.target.requestOptions, IsVerifyBaseDataField: true } },
    }));
    const verified = documentFor(verifying, wdtRecord('BDK-VERIFY', { spec: 'MAT-FORBID' }));
    const r = await fx.rig([scheme, verifying]);
    await r.load([forbidden, elsewhere, draft, verified]);

    const status = await lastStatus(t, scheme.id, 3);
    expect(status.get('BDK-FORBID')).toMatchObject({
      status: 'waiting_base_data',
      errorField: 'FMATERIALID',
    });
    expect(status.get('BDK-FORBID')!.errorMessage).toContain('material MAT-FORBID is forbidden in Kingdee');
    expect(status.get('BDK-ELSEWHERE')!.errorMessage).toContain(
      'material MAT-ELSEWHERE is not allocated to organisation 101 in Kingdee',
    );
    expect(status.get('BDK-DRAFT')).toMatchObject({ status: 'waiting_base_data', errorField: 'FSTOCKID' });
    expect(status.get('BDK-DRAFT')!.errorMessage).toContain('stock WH-DRAFT is not audited in Kingdee');
    const v = (await lastStatus(t, verifying.id, 1)).get('BDK-VERIFY')!;
    expect(v.status).toBe('waiting_base_data');
    expect(v.errorMessage).toContain('material MAT-FORBID is forbidden in Kingdee');
    expect(v.errorMessage).toMatch(/MAT-FORBID.*不存在/);

    // Allocating the material to 101 releases only the order waiting on that.
    await adminJson(sandbox, 'PATCH', '/admin/base-data/materials/MAT-ELSEWHERE', {
      useOrgs: ['101', '102'],
    });
    const result = await r.engine.baseData.checkNow();
    expect(result.released).toBe(1);
    await r.settleUntil('the allocated order loaded', () =>
      allIn(t, scheme.id, ['BDK-ELSEWHERE'], ['loaded']),
    );
    expect(billsPerKey(sandbox).get('BDK-FORBID')).toBeUndefined();
    expect(
      (await r.engine.baseData.waiting()).map((w) => `${w.code}:${w.problem}:${w.orders.length}`).sort(),
    ).toEqual(['MAT-FORBID:forbidden:2', 'WH-DRAFT:not_audited:1']);

    // Past the longest wait an order ends failed, with the diagnosis.
    await t.ds.query(
      `UPDATE base_data_waits SET since = now() - interval '1000 hours' WHERE scheme_id = $1 AND bill_key = 'BDK-DRAFT'`,
      [scheme.id],
    );
    await r.engine.baseData.checkNow();
    await eventually('the expired order failed', async () => {
      const s = (await lastStatus(t, scheme.id, 5)).get('BDK-DRAFT');
      return (
        s?.status === 'failed' && (s.errorMessage ?? '').includes('stock WH-DRAFT is not audited in Kingdee')
      );
    });
    expect((await r.engine.baseData.waiting()).map((w) => w.code)).toEqual(['MAT-FORBID']);
  });
});
