import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KingdeeSessionPool } from '@libs/kingdee-client';
import { ConnectionsConfigError } from './connections.errors';
import { kingdeeAccountOf, loadConnections, readConnectionsOutline } from './connections.loader';

const SECRETS = {
  WDT_SHOP_A_APPSECRET: 'wdt-secret-aaaa-1111',
  QIMEN_APP_SECRET: 'qimen-secret-cccc-3333',
  KINGDEE_MAIN_APPSECRET: 'kd-main-secret-4444',
};

describe('loadConnections', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'connections-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  /** The example with its file secrets pointed at temp files (Kubernetes Secret files end in a newline). */
  function example(): { file: string; env: Record<string, string> } {
    const b = write('shop-b', 'wdt-secret-bbbb-2222\n');
    const second = write('second', 'kd-second-password-5555\n');
    const text = readFileSync('examples/connections.yaml', 'utf8')
      .replace('/var/run/secrets/wdt/shop-b-appsecret', b)
      .replace('/var/run/secrets/kingdee/acct-second-password', second);
    return { file: write('connections.yaml', text), env: { ...SECRETS } };
  }

  it('loads the example: three shops, two accounts, secrets from env and from files', () => {
    const { file, env } = example();
    const registry = loadConnections({ env, file, kinds: ['wdt', 'kingdee'] });
    expect(registry.wdtNames()).toEqual(['shop-a', 'shop-b', 'shop-c']);
    expect(registry.kingdeeNames()).toEqual(['acct-main', 'acct-second']);
    expect(registry.wdt('shop-a').clientOptions.appsecret).toBe('wdt-secret-aaaa-1111');
    expect(registry.wdt('shop-b').clientOptions.appsecret).toBe('wdt-secret-bbbb-2222');
    expect(registry.wdt('shop-c').clientOptions.qimen?.appSecret).toBe('qimen-secret-cccc-3333');
    expect(registry.wdt('shop-c').budgetKey).toBe('qimen:23000001');
    expect(registry.wdt('shop-a').budgetKey).toBe('native:shop-a-appkey');
    expect(registry.kingdee('acct-second').clientOptions.password).toBe('kd-second-password-5555');
    expect(registry.kingdee('acct-main').account).toBe('erp.example.com/k3cloud#5f1a0000000001');
    expect(registry.kingdee('acct-main').sessionCap).toBe(4);
    // Secrets are in no view meant for people.
    const views = JSON.stringify([registry.describe(), registry.outline()]);
    for (const secret of [...Object.values(SECRETS), 'wdt-secret-bbbb-2222', 'kd-second-password-5555'])
      expect(views).not.toContain(secret);
  });

  it('names the connection and the reference of a missing secret, never a value', () => {
    const { file, env } = example();
    delete (env as Record<string, string | undefined>).KINGDEE_MAIN_APPSECRET;
    expect(() => loadConnections({ env, file, kinds: ['kingdee'] })).toThrow(
      'Kingdee connection "acct-main": appSecret refers to environment variable KINGDEE_MAIN_APPSECRET, which is not set',
    );
    // A process that does not use Kingdee does not need its secrets.
    expect(loadConnections({ env, file, kinds: ['wdt'] }).wdtNames()).toHaveLength(3);
    const missingFile = write(
      'c2.yaml',
      'wdt:\n  s:\n    sid: s\n    baseUrl: https://x.example.com\n    appKey: k\n    appSecret: { file: /nope/secret }\n',
    );
    expect(() => loadConnections({ env: {}, file: missingFile, kinds: ['wdt'] })).toThrow(
      /WDT connection "s": appSecret refers to file \/nope\/secret, which cannot be read \(ENOENT\)/,
    );
  });

  it('refuses a secret written in the file, unknown keys and bad names, naming the path', () => {
    const file = write(
      'bad.yaml',
      [
        'wdt:',
        '  Shop_A:',
        '    sid: a',
        '  shop-b:',
        '    sid: b',
        '    baseUrl: https://x.example.com',
        '    appKey: k',
        '    appSecret: plain-text-secret',
        'kingdee:',
        '  acct:',
        '    serverUrl: https://erp.example.com/k3cloud/',
        '    acctId: a1',
        '    username: u',
        '    appId: x',
        '    appSecret: { env: S }',
        '    sesions: 3',
      ].join('\n'),
    );
    let error: Error | undefined;
    try {
      loadConnections({ env: { S: 's' }, file, kinds: [] });
    } catch (e) {
      error = e as Error;
    }
    expect(error).toBeInstanceOf(ConnectionsConfigError);
    expect(error!.message).toMatch(/wdt\.Shop_A: connection names are lower-case letters/);
    expect(error!.message).toMatch(/wdt\.shop-b\.appSecret: must be \{ env: VARIABLE \} or \{ file/);
    expect(error!.message).toMatch(/kingdee\.acct\.sesions: unknown key/);
    expect(error!.message).not.toContain('plain-text-secret');
  });

  it('refuses one account twice, one app key with two limits, one shop twice and default twice', () => {
    const kd = (name: string, url: string, acct: string) =>
      `  ${name}:\n    serverUrl: ${url}\n    acctId: ${acct}\n    username: u\n    appId: x\n    appSecret: { env: S }\n`;
    const twoAccounts = write(
      'a.yaml',
      `kingdee:\n${kd('one', 'https://ERP.example.com:443/k3cloud/', 'A1')}${kd('two', 'https://erp.example.com/k3cloud', 'A1')}`,
    );
    expect(() => loadConnections({ env: { S: 's' }, file: twoAccounts, kinds: [] })).toThrow(
      /Kingdee connections "one" and "two" are the same account set \(erp\.example\.com\/k3cloud#A1, from serverUrl and acctId\)/,
    );
    const wdt = (name: string, sid: string, cpm: number) =>
      `  ${name}:\n    sid: ${sid}\n    baseUrl: https://x.example.com\n    appKey: k\n    appSecret: { env: S }\n    callsPerMinute: ${cpm}\n`;
    const twoLimits = write('b.yaml', `wdt:\n${wdt('a', 's1', 60)}${wdt('b', 's2', 30)}`);
    expect(() => loadConnections({ env: { S: 's' }, file: twoLimits, kinds: [] })).toThrow(
      /share app key k \(native\) but set callsPerMinute 60 and 30/,
    );
    const sameShop = write('c.yaml', `wdt:\n${wdt('a', 's1', 60)}${wdt('b', 's1', 60)}`);
    expect(() => loadConnections({ env: { S: 's' }, file: sameShop, kinds: [] })).toThrow(
      /are the same shop/,
    );
    const withDefault = write('d.yaml', `wdt:\n${wdt('default', 's1', 60)}`);
    expect(() =>
      loadConnections({
        env: {
          S: 's',
          WDT_SID: 'x',
          WDT_BASE_URL: 'https://y.example.com',
          WDT_APPKEY: 'k2',
          WDT_APPSECRET: 'z',
        },
        file: withDefault,
        kinds: [],
      }),
    ).toThrow(/WDT connection "default" is defined twice/);
  });

  it('the single-account variables are the connection `default`, with the options the services always built', () => {
    const env = {
      WDT_GATEWAY: 'qimen',
      WDT_SID: 'sid-1',
      WDT_QIMEN_URL: 'https://q.example.com',
      WDT_QIMEN_APP_KEY: 'qk',
      WDT_QIMEN_APP_SECRET: 'qs-secret',
      WDT_QIMEN_TARGET_APP_KEY: 'tk',
      WDT_CALLS_PER_MINUTE: '90',
      KINGDEE_SERVER_URL: 'https://erp.example.com/k3cloud/',
      KINGDEE_ACCT_ID: 'A1',
      KINGDEE_USERNAME: 'u',
      KINGDEE_APP_ID: 'app',
      KINGDEE_APP_SECRET: 'kd-secret',
      KINGDEE_SESSIONS: '3',
    };
    const registry = loadConnections({ env, kinds: ['wdt', 'kingdee'], cwd: dir });
    expect(registry.wdt('default').clientOptions).toEqual({
      gateway: 'qimen',
      sid: 'sid-1',
      baseUrl: undefined,
      appkey: undefined,
      appsecret: undefined,
      qimen: {
        url: 'https://q.example.com',
        appKey: 'qk',
        appSecret: 'qs-secret',
        targetAppKey: 'tk',
        signMethod: 'md5',
      },
      timeoutMs: 30000,
      maxAttempts: 5,
      callsPerMinute: 90,
    });
    expect(registry.kingdee('default').clientOptions).toEqual({
      serverUrl: 'https://erp.example.com/k3cloud/',
      acctId: 'A1',
      username: 'u',
      password: undefined,
      appId: 'app',
      appSecret: 'kd-secret',
      lcid: 2052,
      orgNumber: undefined,
      authMode: 'sign',
      loginBody: 'positional',
      sessions: 3,
      timeoutMs: 120000,
    });
    // No KINGDEE_SESSION_CAP: no shared cap, each process its own KINGDEE_SESSIONS (as before).
    expect(registry.kingdee('default').sessionCap).toBeUndefined();
    expect(() => new KingdeeSessionPool(registry.kingdee('default').clientOptions)).not.toThrow();
  });

  it('needs a connection of each kind a process uses, naming both ways to give one', () => {
    expect(() => loadConnections({ env: {}, kinds: ['wdt'], cwd: dir })).toThrow(
      'no WDT connection: set WDT_SID (and its keys) or list connections under wdt: in config/connections.yaml (CONNECTIONS_FILE)',
    );
    expect(() => loadConnections({ env: { CONNECTIONS_FILE: 'missing.yaml' }, kinds: [], cwd: dir })).toThrow(
      /connections file .*missing\.yaml \(CONNECTIONS_FILE\) does not exist/,
    );
  });

  it('refuses a loopback host in production and gives the outline without reading secrets', () => {
    const file = write(
      'local.yaml',
      'kingdee:\n  k:\n    serverUrl: http://127.0.0.1:9/k3cloud/\n    acctId: A\n    username: u\n    appId: x\n    appSecret: { env: NOT_SET }\n',
    );
    expect(() => readConnectionsOutline({ env: {}, file })).toThrow(/APP_MODE=production/);
    expect(readConnectionsOutline({ env: { APP_MODE: 'sandbox' }, file })).toEqual({
      wdt: {},
      kingdee: { k: { account: '127.0.0.1:9/k3cloud#A' } },
    });
    expect(kingdeeAccountOf('HTTP://Erp.Example.com:80/k3cloud///', 'x')).toBe('erp.example.com/k3cloud#x');
  });
});
