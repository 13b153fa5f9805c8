import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SANDBOX_CREDENTIALS, StackRunner } from '@tools/devstack';
import { addSecondConnections } from '../support/connection-fixtures';
import { eventually } from '../support/test-env';

const root = resolve(__dirname, '../..');
const ADMIN = 'connections-admin-token-0123456789';
const VIEWER = 'connections-viewer-token-0123456789';
const SCHEME = 'wdt-stockout-return-to-kingdee-pur-mrb';
/** Secrets the connections file refers to: shop-b's and acct-b's are wrong on purpose. */
const SECRETS = {
  WDT_SHOP_B_SECRET: 'wrong-shop-b-secret-0123456789',
  KD_ACCT_B_SECRET: 'wrong-acct-b-secret-0123456789',
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API replies are read ad hoc
type Json = any;

/**
 * /api/connections and connection tests with the real services: extractor, loader and operator as
 * processes on the real broker and Postgres, both sandboxes serving two accounts. The env `default`
 * connections are right (the shipped scheme runs on them), the file's shop-b and acct-b have wrong
 * secrets. The operator holds no secret: its tests are answered by the extractor (WDT) and the loader
 * (Kingdee) through Postgres.
 */
describe('operator API: connections, their status and connection tests (real stack)', () => {
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
  const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/wdt_kingdee';
  const dir = mkdtempSync(join(tmpdir(), 'connections-api-'));
  const file = join(dir, 'connections.yaml');
  let stack: StackRunner;

  const api = async (
    method: string,
    path: string,
    token = ADMIN,
  ): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${stack.url('operator')}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.status, body: await res.json() };
  };
  const connection = async (kind: string, name: string) =>
    ((await api('GET', '/api/connections', VIEWER)).body.items as Json[]).find(
      (c) => c.kind === kind && c.name === name,
    );

  beforeAll(async () => {
    writeFileSync(file, 'wdt: {}\nkingdee: {}\n');
    stack = new StackRunner({
      root,
      brokers,
      databaseUrl,
      services: ['loader', 'extractor', 'operator'],
      operatorToken: ADMIN,
      viewerToken: VIEWER,
      env: { LOG_LEVEL: 'warn', WORK_REQUEST_POLL_MS: '300', CONNECTIONS_FILE: file, ...SECRETS },
    });
    await stack.prepare();
    await stack.startSandboxes();
    // Second accounts in each sandbox, with their right secrets (the file's references decide).
    await addSecondConnections(stack, file);
    await stack.startServices();
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await stack?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('lists every connection without secrets, with the schemes using it and the status the services report', async () => {
    const res = await api('GET', '/api/connections', VIEWER);
    expect(res.status).toBe(200);
    expect(
      (res.body.items as Json[]).map((c) => [c.kind, c.name, c.origin, c.sid ?? c.account, c.schemes]),
    ).toEqual([
      ['wdt', 'default', 'env', SANDBOX_CREDENTIALS.wdt.sid, [SCHEME]],
      ['wdt', 'shop-b', 'file', 'shop-b-sid', []],
      ['kingdee', 'acct-b', 'file', expect.stringMatching(/#acct-b$/), []],
      ['kingdee', 'default', 'env', expect.stringMatching(/#demo-acct$/), [SCHEME]],
    ]);
    const text = JSON.stringify(res.body);
    for (const secret of [
      ...Object.values(SECRETS),
      SANDBOX_CREDENTIALS.wdt.appsecret,
      SANDBOX_CREDENTIALS.kingdee.appSecret,
    ])
      expect(text).not.toContain(secret);
    // The extractor's polls of the scheme, the loader's login check: both report their connection ok.
    const wdt = await eventually('the extractor to report wdt:default', async () => {
      const c = await connection('wdt', 'default');
      return c?.status === 'ok' ? c : undefined;
    });
    expect(wdt.instances).toEqual([
      expect.objectContaining({ service: 'extractor', ok: true, lastError: null }),
    ]);
    const kingdee = await eventually('the loader to report kingdee:default', async () => {
      const c = await connection('kingdee', 'default');
      return c?.status === 'ok' ? c : undefined;
    });
    expect(kingdee.instances).toEqual([expect.objectContaining({ service: 'loader', ok: true })]);
    // Nobody uses shop-b: nobody has seen it work or fail yet.
    expect(await connection('wdt', 'shop-b')).toMatchObject({
      status: 'unknown',
      lastError: null,
      lastTest: null,
    });
  });

  it('tests a good WDT and Kingdee connection through the extractor and the loader', async () => {
    const wdt = await api('POST', '/api/connections/wdt/default/test');
    expect(wdt.status).toBe(200);
    expect(wdt.body).toMatchObject({
      kind: 'wdt',
      name: 'default',
      state: 'done',
      requestedBy: 'demo',
      result: { ok: true, ms: expect.any(Number) },
    });
    expect(wdt.body.testedBy).toEqual(expect.any(String));
    const kingdee = await api('POST', '/api/connections/kingdee/default/test');
    expect(kingdee.status).toBe(200);
    expect(kingdee.body).toMatchObject({ state: 'done', result: { ok: true } });
    const again = await api('GET', `/api/connections/tests/${wdt.body.id}`, VIEWER);
    expect(again.body).toEqual(wdt.body);
  });

  it("a wrong secret fails its test with the API's message, and the connection shows failing with it", async () => {
    const wdt = await api('POST', '/api/connections/wdt/shop-b/test');
    expect(wdt.status).toBe(200);
    expect(wdt.body.result).toMatchObject({
      ok: false,
      errorKind: 'auth',
      error: expect.stringContaining('签名错误'),
    });
    const kingdee = await api('POST', '/api/connections/kingdee/acct-b/test');
    expect(kingdee.body.result).toMatchObject({ ok: false, errorKind: 'auth' });
    for (const body of [wdt.body, kingdee.body])
      for (const secret of Object.values(SECRETS)) expect(JSON.stringify(body)).not.toContain(secret);
    const shopB = await connection('wdt', 'shop-b');
    expect(shopB).toMatchObject({
      status: 'failing',
      lastError: expect.stringContaining('签名错误'),
      lastTest: { id: wdt.body.id, result: { ok: false } },
    });
    expect(await connection('kingdee', 'acct-b')).toMatchObject({ status: 'failing' });
    // Only that connection: the default ones stay ok.
    expect(await connection('wdt', 'default')).toMatchObject({ status: 'ok' });
    // Recorded as an operator action, with the outcome.
    const actions = await api('GET', '/api/actions?limit=10', VIEWER);
    expect(actions.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'connection.test', target: 'wdt:shop-b', outcome: 'failed: auth' }),
      ]),
    );
  });

  it('tests need admin; unknown connections are 404, bad kinds 400', async () => {
    expect((await api('POST', '/api/connections/wdt/default/test', VIEWER)).status).toBe(403);
    const unknown = await api('POST', '/api/connections/wdt/shop-x/test');
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain('no WDT connection "shop-x"');
    expect((await api('POST', '/api/connections/erp/default/test')).status).toBe(400);
    expect(
      (await api('GET', '/api/connections/tests/00000000-0000-4000-8000-000000000000', VIEWER)).status,
    ).toBe(404);
  });
});
