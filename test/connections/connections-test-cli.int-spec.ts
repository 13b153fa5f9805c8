import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type KingdeeSandbox, startKingdeeSandbox } from '../../apps/kingdee-sandbox/src';
import { startWdtSandbox, type WdtSandbox } from '../../apps/wdt-sandbox/src/wdt-sandbox.server';

const run = promisify(execFile);
const CLI = join(__dirname, '../../dist/apps/cli/src/connections-test.js');

/**
 * `npm run connections:test` (dist/apps/cli/src/connections-test.js, after `npm run build`) against
 * the WDT and Kingdee sandboxes over HTTP, each serving two accounts: good secrets pass, a wrong
 * secret fails with the API's own message and exit 1, and no secret is ever printed.
 */
describe('connections:test CLI (real sandboxes)', () => {
  let wdt: WdtSandbox;
  let kingdee: KingdeeSandbox;
  let dir: string;
  let file: string;
  const SECRETS = {
    WDT_A_SECRET: 'shop-a-secret-0123456789',
    WDT_B_SECRET: 'wrong-shop-b-secret-9876543210',
    KD_MAIN_SECRET: 'c0ffee00sandbox00secret00c0ffee0',
    KD_OTHER_SECRET: 'not-the-other-account-secret-000',
  };

  beforeAll(async () => {
    wdt = await startWdtSandbox({
      port: 0,
      sid: 'shop-a-sid',
      appkey: 'shop-a-key',
      appsecret: SECRETS.WDT_A_SECRET,
      accounts: [{ sid: 'shop-b-sid', appkey: 'shop-b-key', appsecret: 'shop-b-real-secret-000000' }],
      knobs: { callsPerMinute: 0 },
    });
    kingdee = await startKingdeeSandbox({
      port: 0,
      accounts: [{ acctId: '6500000000000002', appSecret: 'b0ffee00sandbox00secret00b0ffee0' }],
    });
    dir = mkdtempSync(join(tmpdir(), 'connections-test-'));
    file = join(dir, 'connections.yaml');
    const c = kingdee.credentials;
    writeFileSync(
      file,
      `wdt:
  shop-a:
    sid: shop-a-sid
    baseUrl: ${wdt.url}
    appKey: shop-a-key
    appSecret: { env: WDT_A_SECRET }
  shop-b:
    sid: shop-b-sid
    baseUrl: ${wdt.url}
    appKey: shop-b-key
    appSecret: { env: WDT_B_SECRET }
    maxAttempts: 1
kingdee:
  acct-main:
    serverUrl: ${kingdee.url}
    acctId: '${c.acctId}'
    username: ${c.username}
    appId: ${c.appId}
    appSecret: { env: KD_MAIN_SECRET }
  acct-other:
    serverUrl: ${kingdee.url}
    acctId: '6500000000000002'
    username: ${c.username}
    appId: ${c.appId}
    appSecret: { env: KD_OTHER_SECRET }
`,
    );
  });

  afterAll(async () => {
    await wdt?.close();
    await kingdee?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cli = async (args: string[]) => {
    const env = {
      PATH: process.env.PATH,
      APP_MODE: 'sandbox',
      CONNECTIONS_FILE: file,
      ...SECRETS,
    };
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env, cwd: dir });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  const noSecrets = (text: string) => {
    for (const secret of [...Object.values(SECRETS), 'shop-b-real-secret-000000'])
      expect(text).not.toContain(secret);
  };

  it('good connections pass: exit 0, one row each with sid/account and time', async () => {
    const res = await cli(['shop-a', 'acct-main']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+KIND\s+SID\/ACCOUNT\s+OK\s+MS\s+ERROR$/);
    expect(lines[1]).toMatch(/^shop-a\s+wdt\s+shop-a-sid\s+ok\s+\d+$/);
    expect(lines[2]).toMatch(
      new RegExp(`^acct-main\\s+kingdee\\s+\\S+#${kingdee.credentials.acctId}\\s+ok\\s+\\d+$`),
    );
    // Each test really reached its API: one WDT call on the key, one Kingdee login on the account.
    const stats = (await (await fetch(`${wdt.url}/admin/stats`)).json()) as {
      byAppKey: Record<string, { calls: number }>;
    };
    expect(stats.byAppKey['shop-a-key']?.calls).toBeGreaterThanOrEqual(1);
  });

  it('a wrong WDT secret fails with the gateway message and exit 1 naming it; the secret is never printed', async () => {
    const res = await cli(['--kind', 'wdt']);
    expect(res.code).toBe(1);
    const bad = res.stdout.split('\n').find((l) => l.startsWith('shop-b'))!;
    expect(bad).toMatch(/^shop-b\s+wdt\s+shop-b-sid\s+FAILED\s+\d+\s+auth: .*签名错误/);
    expect(res.stdout).toMatch(/^shop-a\s+wdt\s+shop-a-sid\s+ok/m);
    expect(res.stdout).not.toMatch(/^acct-/m);
    expect(res.stderr).toContain('1 of 2 failed: wdt:shop-b');
    noSecrets(res.stdout + res.stderr);
  });

  it('a wrong Kingdee secret fails its login (auth) and only that connection', async () => {
    const res = await cli(['--kind', 'kingdee', '--json']);
    expect(res.code).toBe(1);
    const rows = res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; ok: boolean; errorKind?: string; error?: string });
    expect(rows.map((r) => [r.name, r.ok])).toEqual([
      ['acct-main', true],
      ['acct-other', false],
    ]);
    expect(rows[1]).toMatchObject({ errorKind: 'auth' });
    expect(res.stderr).toContain('kingdee:acct-other');
    noSecrets(res.stdout + res.stderr);
  });

  it('an unknown name is a usage error (exit 2) listing the known connections', async () => {
    const res = await cli(['shop-x']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('unknown connection "shop-x"');
    expect(res.stderr).toContain('wdt:shop-a');
    expect(res.stderr).toContain('kingdee:acct-main');
  });
});
