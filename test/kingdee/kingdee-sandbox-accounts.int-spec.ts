import type { KingdeeClientOptions } from '@libs/kingdee-client';
import { type KingdeeSandbox, startKingdeeSandbox } from '../../apps/kingdee-sandbox/src';
import { optionsFromEnv } from '../../apps/kingdee-sandbox/src/main';
import { adminJson, goldenModel, newClient, rejection, SEED_SAVE_OPTIONS } from './kingdee-test.support';

const SERVICE = 'Kingdee.BOS.WebApi.ServicesStub';
const ACCT_B = '6500000000000002';
/** Account B: its own user and secrets, and its own suppliers (GYS-B1 and GYS001 only). */
const B = {
  acctId: ACCT_B,
  username: 'b_api',
  password: 'b-password',
  appSecret: 'b0ffee00sandbox00secret00b0ffee0',
  baseData: { suppliers: ['GYS-B1', 'GYS001'] },
};
const VERIFY = { ...SEED_SAVE_OPTIONS, isVerifyBaseDataField: true };

describe('Kingdee sandbox: several account sets in one server (real HTTP)', () => {
  let sandbox: KingdeeSandbox;
  const asB = (extra: Partial<KingdeeClientOptions> = {}) =>
    newClient(sandbox, {
      acctId: B.acctId,
      username: B.username,
      password: B.password,
      appSecret: B.appSecret,
      ...extra,
    });

  beforeAll(async () => {
    sandbox = await startKingdeeSandbox({ port: 0, accounts: [B] });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(() => sandbox.reset());

  async function rawLogin(
    acctId: string,
    username: string,
    password: string,
  ): Promise<{ body: unknown; cookie: string }> {
    const res = await fetch(`${sandbox.url}${SERVICE}.AuthService.ValidateUser.common.kdsvc`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ parameters: [acctId, username, password, 2052] }),
    });
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    return { body: await res.json(), cookie };
  }

  it('the same bill number in two accounts: two separate bills, duplicates still refused within one', async () => {
    const a = newClient(sandbox);
    const b = asB();
    const savedA = await a.batchSave(
      'PUR_MRB',
      [goldenModel('SAME-1', { FDESCRIPTION: 'in A' })],
      SEED_SAVE_OPTIONS,
    );
    const savedB = await b.batchSave(
      'PUR_MRB',
      [goldenModel('SAME-1', { FDESCRIPTION: 'in B' })],
      SEED_SAVE_OPTIONS,
    );
    expect(savedA.outcomes[0]).toMatchObject({ status: 'saved', number: 'SAME-1' });
    expect(savedB.outcomes[0]).toMatchObject({ status: 'saved', number: 'SAME-1' });
    expect(sandbox.store.findByNumber('PUR_MRB', 'SAME-1').map((x) => x.header.FDESCRIPTION)).toEqual([
      'in A',
    ]);
    expect(
      sandbox
        .account(ACCT_B)
        .store.findByNumber('PUR_MRB', 'SAME-1')
        .map((x) => x.header.FDESCRIPTION),
    ).toEqual(['in B']);
    const byNumber = (q: string) =>
      adminJson(sandbox, 'GET', `/admin/bills/by-number/SAME-1${q}`).then((r) =>
        (r.body as { items: Array<{ FDESCRIPTION: string }> }).items.map((i) => i.FDESCRIPTION),
      );
    expect(await byNumber('')).toEqual(['in A']);
    expect(await byNumber(`?acctId=${ACCT_B}`)).toEqual(['in B']);
    // Each account's query sees its own bill only.
    for (const [client, text] of [
      [a, 'in A'],
      [b, 'in B'],
    ] as const) {
      const rows = await client.executeBillQuery({
        FormId: 'PUR_MRB',
        FieldKeys: 'FBillNo,FDESCRIPTION',
        FilterString: "FBillNo='SAME-1'",
      });
      expect(rows).toEqual([['SAME-1', text]]);
    }
    const again = await b.batchSave('PUR_MRB', [goldenModel('SAME-1')], SEED_SAVE_OPTIONS);
    expect(again.outcomes[0].status).toBe('failed');
    expect(sandbox.account(ACCT_B).store.count()).toBe(1);
    expect(sandbox.store.count()).toBe(1);
  });

  it('base data is per account, on the Web API and the admin API', async () => {
    const onlyB = goldenModel('SUP-B', { FSupplierID: { FNumber: 'GYS-B1' } });
    const inA = await newClient(sandbox).batchSave('PUR_MRB', [onlyB], VERIFY);
    expect(inA.outcomes[0].status).toBe('failed');
    expect(inA.status.msgCode).toBe(9);
    expect((await asB().batchSave('PUR_MRB', [onlyB], VERIFY)).outcomes[0].status).toBe('saved');
    const gys002 = goldenModel('SUP-2', { FSupplierID: { FNumber: 'GYS002' } });
    expect((await asB().batchSave('PUR_MRB', [gys002], VERIFY)).outcomes[0].status).toBe('failed');
    expect((await newClient(sandbox).batchSave('PUR_MRB', [gys002], VERIFY)).outcomes[0].status).toBe(
      'saved',
    );

    const suppliers = await asB().executeBillQuery({ FormId: 'BD_Supplier', FieldKeys: 'FNumber' });
    expect(suppliers).toEqual([['GYS-B1'], ['GYS001']].sort());

    const added = await adminJson(sandbox, 'POST', `/admin/base-data?acctId=${ACCT_B}`, {
      stocks: ['B-STOCK'],
    });
    expect(added.status).toBe(200);
    expect((await adminJson(sandbox, 'GET', `/admin/base-data/stocks/B-STOCK?acctId=${ACCT_B}`)).status).toBe(
      200,
    );
    expect((await adminJson(sandbox, 'GET', '/admin/base-data/stocks/B-STOCK')).status).toBe(404);
    const listed = (await adminJson(sandbox, 'GET', `/admin/base-data?acctId=${ACCT_B}`)).body as {
      suppliers: Array<{ number: string }>;
    };
    expect(listed.suppliers.map((s) => s.number)).toEqual(['GYS-B1', 'GYS001']);
    // Back to the account's own start-up set.
    await adminJson(sandbox, 'POST', `/admin/reset?acctId=${ACCT_B}`, { baseData: true });
    expect((await adminJson(sandbox, 'GET', `/admin/base-data/stocks/B-STOCK?acctId=${ACCT_B}`)).status).toBe(
      404,
    );
    expect(sandbox.account(ACCT_B).store.findBaseData('suppliers', 'GYS-B1')).toBeDefined();
  });

  it("a session of account A cannot see account B's bills (View, ExecuteBillQuery, raw cookie)", async () => {
    await asB().batchSave('PUR_MRB', [goldenModel('ONLY-B')], SEED_SAVE_OPTIONS);
    const a = newClient(sandbox);
    expect(
      await a.executeBillQuery({ FormId: 'PUR_MRB', FieldKeys: 'FBillNo', FilterString: "FBillNo='ONLY-B'" }),
    ).toEqual([]);
    expect((await a.view('PUR_MRB', { number: 'ONLY-B' })).bill).toBeNull();
    expect((await asB().view('PUR_MRB', { number: 'ONLY-B' })).bill).toMatchObject({ BillNo: 'ONLY-B' });

    const login = await rawLogin(
      sandbox.credentials.acctId,
      sandbox.credentials.username,
      sandbox.credentials.password,
    );
    expect(login.body).toMatchObject({ LoginResultType: 1, Context: { DBid: sandbox.credentials.acctId } });
    const res = await fetch(`${sandbox.url}${SERVICE}.DynamicFormService.ExecuteBillQuery.common.kdsvc`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: login.cookie },
      body: JSON.stringify({ data: { FormId: 'PUR_MRB', FieldKeys: 'FBillNo' } }),
    });
    expect(await res.json()).toEqual([]);
    // Signed requests (api_signature) act on the account their app data names.
    const signed = asB({ authMode: 'api_signature' });
    await signed.batchSave('PUR_MRB', [goldenModel('SIGNED-B')], SEED_SAVE_OPTIONS);
    expect(sandbox.account(ACCT_B).store.count()).toBe(2);
    expect(sandbox.store.count()).toBe(0);
    // Logins and calls are counted in each account's own stats.
    expect(sandbox.account(ACCT_B).stats.snapshot().logins).toBe(2);
    expect(sandbox.stats.snapshot().logins).toBe(2);
    const statsB = (await adminJson(sandbox, 'GET', `/admin/stats?acctId=${ACCT_B}`)).body as {
      byService: Record<string, Record<string, number>>;
    };
    expect(statsB.byService['DynamicFormService.BatchSave']).toEqual({ ok: 2 });
  });

  it('a login to an unknown acctId fails with the real reply; credentials are per account', async () => {
    const unknown = await rawLogin(
      '6599999999999999',
      sandbox.credentials.username,
      sandbox.credentials.password,
    );
    expect(unknown.body).toMatchObject({
      LoginResultType: -1,
      Message: '数据中心不存在或已禁用',
      IsSuccessByAPI: false,
    });
    expect(unknown.cookie).toBe('');
    const err = await rejection(
      newClient(sandbox, { acctId: '6599999999999999' }).save('PUR_MRB', goldenModel('X')),
    );
    expect(err.kind).toBe('auth');
    // B's user does not exist in A, nor A's password in B.
    expect((await rawLogin(sandbox.credentials.acctId, B.username, B.password)).body).toMatchObject({
      LoginResultType: 0,
    });
    expect((await rawLogin(ACCT_B, B.username, sandbox.credentials.password)).body).toMatchObject({
      LoginResultType: 0,
    });
    expect((await rawLogin(ACCT_B, B.username, B.password)).body).toMatchObject({
      LoginResultType: 1,
      Context: { DBid: ACCT_B },
    });
    for (const authMode of ['app_secret', 'sign'] as const) {
      const wrong = await rejection(
        asB({ authMode, appSecret: sandbox.credentials.appSecret }).save('PUR_MRB', goldenModel('W')),
      );
      expect(wrong.kind).toBe('auth');
      expect((await asB({ authMode }).save('PUR_MRB', goldenModel(`OK-${authMode}`))).status.isSuccess).toBe(
        true,
      );
    }
  });

  it('knobs, faults, sessions and resets per account (?acctId=); accounts added at run time', async () => {
    const a = newClient(sandbox);
    const b = asB();
    expect(
      (await adminJson(sandbox, 'PATCH', `/admin/knobs?acctId=${ACCT_B}`, { nextThrottles: 1 })).status,
    ).toBe(200);
    expect((await a.save('PUR_MRB', goldenModel('K-A'))).status.isSuccess).toBe(true);
    expect((await rejection(b.save('PUR_MRB', goldenModel('K-B')))).code).toBe('KD_THROTTLED');
    expect((await b.save('PUR_MRB', goldenModel('K-B'))).status.isSuccess).toBe(true);
    const faults = async (q: string) =>
      ((await adminJson(sandbox, 'GET', `/admin/faults${q}`)).body as { injected: { throttled: number } })
        .injected.throttled;
    expect([await faults(''), await faults(`?acctId=${ACCT_B}`)]).toEqual([0, 1]);
    expect(sandbox.account(ACCT_B).store.count()).toBe(1);

    const sessions = async (q: string) =>
      ((await adminJson(sandbox, 'GET', `/admin/sessions${q}`)).body as { count: number }).count;
    expect([await sessions(''), await sessions(`?acctId=${ACCT_B}`)]).toEqual([1, 1]);
    expect((await adminJson(sandbox, 'POST', `/admin/sessions/drop?acctId=${ACCT_B}`)).body).toEqual({
      dropped: 1,
    });
    expect([await sessions(''), await sessions(`?acctId=${ACCT_B}`)]).toEqual([1, 0]);

    await adminJson(sandbox, 'POST', `/admin/reset?acctId=${ACCT_B}`, { bills: true });
    expect([sandbox.store.count(), sandbox.account(ACCT_B).store.count()]).toEqual([1, 0]);
    await b.save('PUR_MRB', goldenModel('K-B2'));
    await adminJson(sandbox, 'POST', '/admin/reset');
    expect([sandbox.store.count(), sandbox.account(ACCT_B).store.count()]).toEqual([0, 0]);

    for (const q of ['?acctId=nope']) {
      for (const path of [
        '/admin/bills',
        '/admin/knobs',
        '/admin/stats',
        '/admin/base-data',
        '/admin/reset',
      ]) {
        const method = path === '/admin/reset' ? 'POST' : 'GET';
        const res = await adminJson(sandbox, method, `${path}${q}`);
        expect(res).toEqual({ status: 404, body: { error: 'no account nope' } });
      }
    }

    const added = await adminJson(sandbox, 'POST', '/admin/accounts', {
      acctId: 'acct-c',
      switches: { numbering: 'erp', numberPrefix: 'CC' },
    });
    expect(added).toEqual({
      status: 201,
      body: { acctId: 'acct-c', username: sandbox.credentials.username, bills: 0, sessions: 0, logins: 0 },
    });
    expect((await adminJson(sandbox, 'POST', '/admin/accounts', { acctId: 'acct-c' })).status).toBe(409);
    expect((await adminJson(sandbox, 'POST', '/admin/accounts', { acctId: '' })).status).toBe(400);
    expect(
      (await adminJson(sandbox, 'POST', '/admin/accounts', { acctId: 'x', knobs: { nope: 1 } })).status,
    ).toBe(400);
    // The new account inherits the first account's credentials, has its own switches.
    const c = newClient(sandbox, { acctId: 'acct-c' });
    const saved = await c.batchSave('PUR_MRB', [goldenModel('C-1')], SEED_SAVE_OPTIONS);
    expect(saved.outcomes[0].number).toBe('CC000001');
    const listed = (await adminJson(sandbox, 'GET', '/admin/accounts')).body as {
      accounts: Array<{ acctId: string }>;
    };
    expect(listed.accounts.map((x) => x.acctId)).toEqual([sandbox.credentials.acctId, ACCT_B, 'acct-c']);
    expect(JSON.stringify(listed)).not.toMatch(/password|secret|appId/i);
    expect(sandbox.accounts().map((x) => x.store.count())).toEqual([0, 0, 1]);
  });

  it('counts sessions in use per account (maxSessionsInUse)', async () => {
    sandbox.setKnobs({ latencyMs: 50 });
    const clients = [newClient(sandbox), newClient(sandbox), newClient(sandbox)];
    await Promise.all(clients.map((client, i) => client.save('PUR_MRB', goldenModel(`P-${i}`))));
    await asB().save('PUR_MRB', goldenModel('P-B'));
    expect(sandbox.stats.snapshot().maxSessionsInUse).toBe(3);
    expect(sandbox.account(ACCT_B).stats.snapshot().maxSessionsInUse).toBe(1);
  });

  it('KINGDEE_SANDBOX_ACCOUNTS defines more accounts (validated)', () => {
    const options = optionsFromEnv({
      KINGDEE_SANDBOX_ACCOUNTS: JSON.stringify([
        { acctId: 'x1', username: 'u1' },
        { acctId: 'x2', materials: ['M1'] },
      ]),
    });
    expect(options.accounts).toEqual([
      { acctId: 'x1', username: 'u1' },
      { acctId: 'x2', materials: ['M1'] },
    ]);
    expect(() => optionsFromEnv({ KINGDEE_SANDBOX_ACCOUNTS: '[{"acctId":"x1"},{"user":"u"}]' })).toThrow(
      /KINGDEE_SANDBOX_ACCOUNTS\[1\]/,
    );
    expect(() => optionsFromEnv({ KINGDEE_SANDBOX_ACCOUNTS: '{' })).toThrow(/not valid JSON/);
  });
});
