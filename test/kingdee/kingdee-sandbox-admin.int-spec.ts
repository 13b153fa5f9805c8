import {
  KINGDEE_SANDBOX_MATERIALS,
  KINGDEE_SANDBOX_STOCKS,
  KINGDEE_SANDBOX_SUPPLIERS,
  type KingdeeSandbox,
  startKingdeeSandbox,
} from '../../apps/kingdee-sandbox/src';
import { optionsFromEnv } from '../../apps/kingdee-sandbox/src/main';
import { adminJson, goldenModel, newClient, SEED_SAVE_OPTIONS } from './kingdee-test.support';

describe('Kingdee sandbox admin API', () => {
  let sandbox: KingdeeSandbox;

  beforeAll(async () => {
    sandbox = await startKingdeeSandbox({ port: 0, materials: ['BWB-500-W', 'FH-L', 'WDT-SKU-1'] });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(() =>
    sandbox.reset({ bills: true, sessions: true, stats: true, knobs: true, switches: true, baseData: true }),
  );

  it('exposes the default base data (materials configurable) and seeds more', async () => {
    const initial = (await adminJson(sandbox, 'GET', '/admin/base-data')).body as Record<
      string,
      Array<{ number: string }>
    >;
    expect(initial.orgs.map((o) => o.number)).toEqual(['101']);
    expect(initial.stocks.map((o) => o.number)).toEqual([...KINGDEE_SANDBOX_STOCKS]);
    expect(initial.suppliers.map((o) => o.number)).toEqual([...KINGDEE_SANDBOX_SUPPLIERS]);
    expect(initial.materials.map((o) => o.number)).toEqual(['BWB-500-W', 'FH-L', 'WDT-SKU-1']);
    expect(KINGDEE_SANDBOX_MATERIALS.length).toBeGreaterThanOrEqual(30);

    const seeded = await adminJson(sandbox, 'POST', '/admin/base-data', {
      materials: ['NEW-1', { number: 'OFF-1', enabled: false }],
    });
    expect(seeded.status).toBe(200);
    const materials = (seeded.body as Record<string, Array<{ number: string; enabled: boolean }>>).materials;
    expect(materials.map((m) => [m.number, m.enabled])).toContainEqual(['OFF-1', false]);
    const replaced = await adminJson(sandbox, 'POST', '/admin/base-data', {
      mode: 'replace',
      stocks: ['ZZ9'],
    });
    expect((replaced.body as Record<string, Array<{ number: string }>>).stocks.map((s) => s.number)).toEqual([
      'ZZ9',
    ]);
    expect((await adminJson(sandbox, 'POST', '/admin/base-data', { widgets: [] })).status).toBe(400);
  });

  it('lists (paged, filtered), counts and inspects bills', async () => {
    const client = newClient(sandbox);
    await client.batchSave(
      'PUR_MRB',
      [goldenModel('A1'), goldenModel('A2'), goldenModel('A3')],
      SEED_SAVE_OPTIONS,
    );
    await client.batchSave('PUR_MRB', [goldenModel('B1')]);
    const page = (await adminJson(sandbox, 'GET', '/admin/bills?page=2&pageSize=2')).body as {
      total: number;
      items: Array<{ FBillNo: string; FID: number }>;
    };
    expect(page.total).toBe(4);
    expect(page.items.map((b) => b.FBillNo)).toEqual(['A3', 'B1']);
    expect((await adminJson(sandbox, 'GET', '/admin/bills?status=A')).body).toMatchObject({ total: 1 });
    expect((await adminJson(sandbox, 'GET', '/admin/bills/count?status=C')).body).toEqual({ count: 3 });
    expect((await adminJson(sandbox, 'GET', '/admin/bills/count?billNo=A2')).body).toEqual({ count: 1 });
    const one = (await adminJson(sandbox, 'GET', `/admin/bills/${page.items[1].FID}`)).body as Record<
      string,
      unknown
    >;
    expect(one).toMatchObject({
      FBillNo: 'B1',
      FDocumentStatus: 'A',
      suppliedBillNo: 'B1',
      FSupplierID: { FNumber: 'GYS001' },
    });
    expect((one.FPURMRBENTRY as unknown[]).length).toBe(2);
    expect((await adminJson(sandbox, 'GET', '/admin/bills/by-number/A1')).body).toMatchObject({
      items: [{ FBillNo: 'A1' }],
    });
    expect((await adminJson(sandbox, 'GET', '/admin/bills/999')).status).toBe(404);
  });

  it('gets and sets knobs and switches, validating input', async () => {
    const knobs = await adminJson(sandbox, 'PATCH', '/admin/knobs', { nextThrottles: 2, latencyMs: 5 });
    expect(knobs.body).toMatchObject({ nextThrottles: 2, latencyMs: 5, next5xx: 0 });
    expect((await adminJson(sandbox, 'PATCH', '/admin/knobs', { throttleRate: 2 })).status).toBe(400);
    expect((await adminJson(sandbox, 'PUT', '/admin/knobs', { bogus: 1 })).status).toBe(400);
    const switches = await adminJson(sandbox, 'POST', '/admin/switches', {
      atomicity: 'rollback_all',
      numbering: 'erp',
    });
    expect(switches.body).toMatchObject({
      atomicity: 'rollback_all',
      numbering: 'erp',
      duplicateBillNo: 'reject',
    });
    expect((await adminJson(sandbox, 'GET', '/admin/switches')).body).toMatchObject({
      atomicity: 'rollback_all',
    });
    await adminJson(sandbox, 'POST', '/admin/reset', {});
    expect((await adminJson(sandbox, 'GET', '/admin/switches')).body).toMatchObject({
      atomicity: 'keep_successes',
    });
    expect((await adminJson(sandbox, 'GET', '/admin/knobs')).body).toMatchObject({ nextThrottles: 0 });
  });

  it('reports call stats and sessions, drops sessions, resets', async () => {
    const client = newClient(sandbox);
    await client.save('PUR_MRB', goldenModel('S1'));
    expect((await adminJson(sandbox, 'GET', '/admin/sessions')).body).toEqual({ count: 1 });
    const stats = (await adminJson(sandbox, 'GET', '/admin/stats')).body as Record<string, unknown>;
    expect(stats).toMatchObject({
      logins: 1,
      billsCreated: 1,
      byService: { 'DynamicFormService.Save': { ok: 1 } },
    });
    expect((await adminJson(sandbox, 'POST', '/admin/sessions/drop')).body).toEqual({ dropped: 1 });
    await client.save('PUR_MRB', goldenModel('S2'));
    expect(((await adminJson(sandbox, 'GET', '/admin/stats')).body as { logins: number }).logins).toBe(2);
    await adminJson(sandbox, 'POST', '/admin/stats/reset');
    expect(((await adminJson(sandbox, 'GET', '/admin/stats')).body as { requests: number }).requests).toBe(0);
    await adminJson(sandbox, 'POST', '/admin/reset', { bills: true });
    expect((await adminJson(sandbox, 'GET', '/admin/bills/count')).body).toEqual({ count: 0 });
    expect((await adminJson(sandbox, 'GET', '/admin/nope')).status).toBe(404);
  });

  it('answers ExecuteBillQuery on base-data forms: allocation per organisation, forbidden, unaudited', async () => {
    const seeded = await adminJson(sandbox, 'POST', '/admin/base-data', {
      orgs: ['102'],
      suppliers: [
        { number: 'GYS-ALLOC', useOrgs: ['102'] },
        { number: 'GYS-DRAFT', audited: false },
      ],
      materials: [{ number: 'MAT-OFF', enabled: false }],
    });
    expect(seeded.status).toBe(200);
    const client = newClient(sandbox);
    const rows = await client.executeBillQueryObjects({
      FormId: 'BD_Supplier',
      FieldKeys: ['FNumber', 'FUseOrgId.FNumber', 'FForbidStatus', 'FDocumentStatus'],
      FilterString: "FNumber IN ('GYS-ALLOC','GYS-DRAFT','GYS001','GYS999')",
      OrderString: 'FNumber',
    });
    expect(rows.map((r) => [r.FNumber, r['FUseOrgId.FNumber'], r.FForbidStatus, r.FDocumentStatus])).toEqual([
      // Allocated to every organisation unless told otherwise: one row per use organisation.
      ['GYS-ALLOC', '102', 'A', 'C'],
      ['GYS-DRAFT', '101', 'A', 'A'],
      ['GYS-DRAFT', '102', 'A', 'A'],
      ['GYS001', '101', 'A', 'C'],
      ['GYS001', '102', 'A', 'C'],
    ]);
    const materials = await client.executeBillQueryObjects({
      FormId: 'BD_MATERIAL',
      FieldKeys: ['FNumber', 'FForbidStatus'],
      FilterString: "FNumber = 'MAT-OFF' AND FUseOrgId.FNumber = '101'",
    });
    expect(materials).toEqual([{ FNumber: 'MAT-OFF', FForbidStatus: 'B' }]);
    const orgs = await client.executeBillQueryObjects({
      FormId: 'ORG_Organizations',
      FieldKeys: ['FNumber', 'FForbidStatus', 'FDocumentStatus'],
      FilterString: "FNumber IN ('101','109')",
    });
    expect(orgs).toEqual([{ FNumber: '101', FForbidStatus: 'A', FDocumentStatus: 'C' }]);

    // Changed one at a time: allocate, forbid, audit; 404 for an unknown code.
    const patched = await adminJson(sandbox, 'PATCH', '/admin/base-data/suppliers/GYS-ALLOC', {
      useOrgs: ['101', '102'],
      enabled: false,
    });
    expect(patched).toMatchObject({
      status: 200,
      body: { number: 'GYS-ALLOC', enabled: false, useOrgs: ['101', '102'] },
    });
    expect(
      (await adminJson(sandbox, 'PATCH', '/admin/base-data/suppliers/NOPE', { enabled: true })).status,
    ).toBe(404);
    expect((await adminJson(sandbox, 'PATCH', '/admin/base-data/widgets/X', { enabled: true })).status).toBe(
      404,
    );
    expect(
      (await adminJson(sandbox, 'PATCH', '/admin/base-data/suppliers/GYS-ALLOC', { colour: 1 })).status,
    ).toBe(400);
  });

  it('BatchSave refuses codes not usable in the organisation: dropped (required-field message) or, verifying, a base-data message', async () => {
    await adminJson(sandbox, 'POST', '/admin/base-data', {
      orgs: ['102'],
      suppliers: [
        { number: 'GYS-ALLOC', useOrgs: ['102'] },
        { number: 'GYS-DRAFT', audited: false },
      ],
    });
    const client = newClient(sandbox);
    for (const code of ['GYS-ALLOC', 'GYS-DRAFT', 'GYS999']) {
      const dropped = await client.batchSave(
        'PUR_MRB',
        [goldenModel(`BD-${code}`, { FSupplierID: { FNumber: code } })],
        {
          isVerifyBaseDataField: false,
        },
      );
      expect(dropped.outcomes[0].errors).toEqual([
        expect.objectContaining({ fieldName: 'FSupplierID', message: '字段“供应商”是必填项' }),
      ]);
      const verified = await client.batchSave(
        'PUR_MRB',
        [goldenModel(`BDV-${code}`, { FSupplierID: { FNumber: code } })],
        {
          isVerifyBaseDataField: true,
        },
      );
      expect(verified.status.msgCode).toBe(9);
      expect(verified.outcomes[0].errors[0]).toMatchObject({ fieldName: 'FSupplierID' });
      expect(verified.outcomes[0].errors[0].message).toContain(code);
    }
    // Allocated to the bill's organisation (FPurchaseOrgId, else FStockOrgId), it saves.
    const ok = await client.batchSave('PUR_MRB', [
      goldenModel('BD-OK', { FSupplierID: { FNumber: 'GYS-ALLOC' }, FPurchaseOrgId: { FNumber: '102' } }),
    ]);
    expect(ok.status.isSuccess).toBe(true);
  });

  it('the admin API never shows credentials or session ids', async () => {
    const client = newClient(sandbox);
    await client.save('PUR_MRB', goldenModel('X1'));
    const texts = await Promise.all(
      ['/admin/stats', '/admin/sessions', '/admin/knobs', '/admin/switches', '/admin/bills'].map(async (p) =>
        JSON.stringify((await adminJson(sandbox, 'GET', p)).body),
      ),
    );
    for (const text of texts) {
      expect(text).not.toContain(sandbox.credentials.password);
      expect(text).not.toContain(sandbox.credentials.appSecret);
    }
  });

  it('reads its process configuration from the environment', () => {
    const options = optionsFromEnv({
      KINGDEE_SANDBOX_PORT: '18099',
      KINGDEE_SANDBOX_ACCT_ID: 'acct-9',
      KINGDEE_SANDBOX_USERNAME: 'api-user',
      KINGDEE_SANDBOX_PASSWORD: 'pw',
      KINGDEE_SANDBOX_APP_ID: 'a_b',
      KINGDEE_SANDBOX_APP_SECRET: 's',
      KINGDEE_SANDBOX_MATERIALS: 'SKU-1, SKU-2',
      KINGDEE_SANDBOX_SWITCHES: '{"numbering":"erp"}',
      KINGDEE_SANDBOX_SESSION_IDLE_MS: '1000',
    });
    expect(options).toMatchObject({
      port: 18099,
      credentials: { acctId: 'acct-9', username: 'api-user', password: 'pw', appId: 'a_b', appSecret: 's' },
      materials: ['SKU-1', 'SKU-2'],
      switches: { numbering: 'erp', sessionIdleMs: 1000 },
    });
    expect(optionsFromEnv({}).port).toBe(18082);
    expect(() => optionsFromEnv({ KINGDEE_SANDBOX_PORT: 'x' })).toThrow(/PORT/);
  });
});
