import { type KingdeeDialect } from '@libs/kingdee-client';
import { type KingdeeSandbox, startKingdeeSandbox } from '../../apps/kingdee-sandbox/src';
import { goldenModel, newClient } from './kingdee-test.support';

const SERVICE = 'Kingdee.BOS.WebApi.ServicesStub';

describe('Kingdee body dialects against the sandbox', () => {
  let sandbox: KingdeeSandbox;

  beforeAll(async () => {
    sandbox = await startKingdeeSandbox({ port: 0 });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(() => sandbox.reset());

  it.each<KingdeeDialect>(['named', 'positional', 'legacy'])(
    'the %s dialect logs in, saves, submits, audits, views and queries',
    async (dialect) => {
      const client = newClient(sandbox, { dialect });
      const saved = await client.batchSave('PUR_MRB', [goldenModel(`DL-${dialect}`)], { subSystemId: '21' });
      expect(saved.outcomes[0].status).toBe('saved');
      expect((await client.submit('PUR_MRB', { numbers: [`DL-${dialect}`] })).status.isSuccess).toBe(true);
      expect((await client.audit('PUR_MRB', { ids: [saved.outcomes[0].id ?? ''] })).status.isSuccess).toBe(
        true,
      );
      const view = await client.view('PUR_MRB', { number: `DL-${dialect}` });
      expect(view.bill).toMatchObject({ BillNo: `DL-${dialect}`, DocumentStatus: 'C' });
      const rows = await client.executeBillQuery({
        FormId: 'PUR_MRB',
        FieldKeys: 'FBillNo,FDocumentStatus',
        FilterString: `FBillNo='DL-${dialect}'`,
      });
      expect(rows).toEqual([[`DL-${dialect}`, 'C']]);
    },
  );

  async function rawLogin(): Promise<string> {
    const login = await fetch(`${sandbox.url}${SERVICE}.AuthService.ValidateUser.common.kdsvc`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        acctid: sandbox.credentials.acctId,
        username: sandbox.credentials.username,
        password: sandbox.credentials.password,
        lcid: 2052,
      }),
    });
    expect(((await login.json()) as { LoginResultType: number }).LoginResultType).toBe(1);
    return login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
  }

  async function rawCall(service: string, cookie: string, body: string): Promise<unknown> {
    const res = await fetch(`${sandbox.url}${SERVICE}.DynamicFormService.${service}.common.kdsvc`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: cookie },
      body,
    });
    expect(res.status).toBe(200);
    return res.json();
  }

  it('accepts a named body whose data is a JSON string and string booleans (official templates)', async () => {
    const cookie = await rawLogin();
    const body = (await rawCall(
      'BatchSave',
      cookie,
      JSON.stringify({
        formid: 'PUR_MRB',
        data: JSON.stringify({
          IsAutoSubmitAndAudit: 'true',
          IsVerifyBaseDataField: 'false',
          Model: [goldenModel('JS1')],
        }),
      }),
    )) as { Result: { ResponseStatus: { IsSuccess: boolean } } };
    expect(body.Result.ResponseStatus.IsSuccess).toBe(true);
    expect(sandbox.store.findByNumber('PUR_MRB', 'JS1')[0].documentStatus).toBe('C');
  });

  it('the legacy wrapper is read from its JSON-string parameters', async () => {
    const cookie = await rawLogin();
    const body = (await rawCall(
      'BatchSave',
      cookie,
      JSON.stringify({
        format: 1,
        useragent: 'ApiClient',
        rid: '123',
        parameters: JSON.stringify([
          'PUR_MRB',
          JSON.stringify({ Model: [goldenModel('LG1'), goldenModel('LG2')] }),
        ]),
        timestamp: '2026-11-28',
        v: '1.0',
      }),
    )) as { Result: { ResponseStatus: { SuccessEntitys: Array<{ Number: string; DIndex: number }> } } };
    expect(body.Result.ResponseStatus.SuccessEntitys.map((e) => [e.Number, e.DIndex])).toEqual([
      ['LG1', 0],
      ['LG2', 1],
    ]);
    expect(sandbox.store.count({ status: 'A' })).toBe(2);
  });

  it('a malformed body with a valid session is a parameter error (MsgCode 8)', async () => {
    const cookie = await rawLogin();
    const save = (await rawCall('BatchSave', cookie, '{not json')) as {
      Result: { ResponseStatus: { MsgCode: number } };
    };
    expect(save.Result.ResponseStatus.MsgCode).toBe(8);
    const query = (await rawCall('ExecuteBillQuery', cookie, '{"data": 5}')) as Array<
      Array<{ Result: { ResponseStatus: { MsgCode: number } } }>
    >;
    expect(query[0][0].Result.ResponseStatus.MsgCode).toBe(8);
    expect(sandbox.stats.snapshot().byService['DynamicFormService.BatchSave']).toEqual({ bad_request: 1 });
  });
});
