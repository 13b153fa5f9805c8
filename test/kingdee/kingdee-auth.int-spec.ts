import { inspect } from 'node:util';
import { ManualClock } from '@libs/common';
import { type KingdeeAuthMode } from '@libs/kingdee-client';
import { type KingdeeSandbox, startKingdeeSandbox } from '../../apps/kingdee-sandbox/src';
import { goldenModel, newClient, rejection, SEED_SAVE_OPTIONS } from './kingdee-test.support';
import { lostSessionReply } from '../support/kingdee/kingdee-replies.util';

describe('Kingdee auth against the sandbox', () => {
  let sandbox: KingdeeSandbox;
  const clock = new ManualClock(Date.now());

  beforeAll(async () => {
    sandbox = await startKingdeeSandbox({ port: 0, clock, switches: { sessionIdleMs: 60_000 } });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(() => sandbox.reset());

  const modes: KingdeeAuthMode[] = ['validate_user', 'app_secret', 'sign', 'api_signature'];

  it.each(modes)('%s logs in and saves', async (authMode) => {
    const client = newClient(sandbox, { authMode }, { clock });
    const result = await client.batchSave('PUR_MRB', [goldenModel(`CT-${authMode}`)], SEED_SAVE_OPTIONS);
    expect(result.status.isSuccess).toBe(true);
    expect(result.outcomes[0]).toMatchObject({ status: 'saved', number: `CT-${authMode}` });
    const rows = await client.executeBillQueryObjects({
      FormId: 'PUR_MRB',
      FieldKeys: 'FID,FBillNo,FDocumentStatus',
      FilterString: `FBillNo='CT-${authMode}'`,
    });
    expect(rows).toEqual([
      { FID: Number(result.outcomes[0].id), FBillNo: `CT-${authMode}`, FDocumentStatus: 'C' },
    ]);
    const stats = sandbox.stats.snapshot();
    expect(stats.logins).toBe(authMode === 'api_signature' ? 0 : 1);
  });

  it('LoginBySign with the SHA-1 variant when the server wants it', async () => {
    sandbox.setSwitches({ loginSignAlgorithm: 'sha1' });
    const sha256 = await rejection(
      newClient(sandbox, { authMode: 'sign' }, { clock }).save('PUR_MRB', goldenModel('S1')),
    );
    expect(sha256.kind).toBe('auth');
    const ok = await newClient(sandbox, { authMode: 'sign', signAlgorithm: 'sha1' }, { clock }).save(
      'PUR_MRB',
      goldenModel('S1'),
    );
    expect(ok.status.isSuccess).toBe(true);
  });

  it.each([
    ['validate_user', { password: 'wrong-password-1' }],
    ['app_secret', { appSecret: 'wrong-app-secret-1' }],
    ['sign', { appSecret: 'wrong-app-secret-2' }],
    ['api_signature', { appSecret: 'wrong-app-secret-3' }],
  ] as const)(
    '%s with a wrong secret fails as auth, without secrets in the error',
    async (authMode, wrong) => {
      const client = newClient(sandbox, { authMode, ...wrong }, { clock });
      const err = await rejection(client.batchSave('PUR_MRB', [goldenModel('W1')], SEED_SAVE_OPTIONS));
      expect(err.kind).toBe('auth');
      const secrets = [sandbox.credentials.password, sandbox.credentials.appSecret, ...Object.values(wrong)];
      for (const text of [String(err), err.stack ?? '', JSON.stringify(err), inspect(err), inspect(client)]) {
        for (const secret of secrets) expect(text).not.toContain(secret);
      }
      expect(sandbox.store.count()).toBe(0);
    },
  );

  it('a session that expires mid-run is renewed transparently, once', async () => {
    const client = newClient(sandbox, {}, { clock });
    await client.save('PUR_MRB', goldenModel('E1'));
    expect(sandbox.stats.snapshot().logins).toBe(1);
    clock.advance(61_000); // past the sandbox's idle timeout
    const result = await client.save('PUR_MRB', goldenModel('E2'));
    expect(result.status.isSuccess).toBe(true);
    const stats = sandbox.stats.snapshot();
    expect(stats.logins).toBe(2);
    expect(stats.byService['DynamicFormService.Save']).toEqual({ ok: 2, lost_session: 1 });
    expect(sandbox.store.count()).toBe(2);
  });

  it('sessions dropped on demand are renewed (api_signature gets a new one too)', async () => {
    const a = newClient(sandbox, { authMode: 'app_secret' }, { clock });
    const b = newClient(sandbox, { authMode: 'api_signature' }, { clock });
    await a.save('PUR_MRB', goldenModel('D1'));
    await b.save('PUR_MRB', goldenModel('D2'));
    expect(sandbox.sessions.count()).toBe(2);
    expect(sandbox.dropSessions()).toBe(2);
    await a.save('PUR_MRB', goldenModel('D3'));
    await b.save('PUR_MRB', goldenModel('D4'));
    expect(sandbox.store.count()).toBe(4);
  });

  it('a session lost again right after re-login fails as auth', async () => {
    const client = newClient(sandbox, {}, { clock });
    await client.save('PUR_MRB', goldenModel('L1'));
    sandbox.setKnobs({ nextSessionDrops: 2 });
    const err = await rejection(client.save('PUR_MRB', goldenModel('L2')));
    expect(err.kind).toBe('auth');
    expect(err.code).toBe('KD_SESSION_LOST');
    expect(sandbox.store.count()).toBe(1);
    // The next call works again.
    expect((await client.save('PUR_MRB', goldenModel('L3'))).status.isSuccess).toBe(true);
  });

  it('a request without any session gets the reference lost-session reply', async () => {
    const res = await fetch(
      `${sandbox.url}Kingdee.BOS.WebApi.ServicesStub.DynamicFormService.Save.common.kdsvc`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ formid: 'PUR_MRB', data: { Model: goldenModel('N1') } }),
      },
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(lostSessionReply());
  });
});
