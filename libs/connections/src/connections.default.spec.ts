import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KingdeeConnectionConfig, loadServiceConfig, WdtConnectionConfig } from '@libs/config';
import type { KingdeeClientOptions } from '@libs/kingdee-client';
import { resolveWdtClientOptions, WdtClientOptions } from '@libs/wdt-client';
import { loadConnections, readConnectionsOutline } from './connections.loader';

/*
 * The single-account variables are the connection `default`. Its client options must be exactly the
 * ones the services built from the same variables before connections existed: these two functions are
 * the mappings of createWdtClient (libs/wdt-client) and createKingdeePool (libs/loading) as they were.
 */
function wdtOptionsBefore(config: WdtConnectionConfig): WdtClientOptions {
  return {
    gateway: config.WDT_GATEWAY,
    sid: config.WDT_SID!,
    baseUrl: config.WDT_BASE_URL,
    appkey: config.WDT_APPKEY,
    appsecret: config.WDT_APPSECRET,
    qimen:
      config.WDT_GATEWAY === 'qimen'
        ? {
            url: config.WDT_QIMEN_URL!,
            appKey: config.WDT_QIMEN_APP_KEY!,
            appSecret: config.WDT_QIMEN_APP_SECRET!,
            targetAppKey: config.WDT_QIMEN_TARGET_APP_KEY!,
            signMethod: config.WDT_QIMEN_SIGN_METHOD,
          }
        : undefined,
    timeoutMs: config.WDT_TIMEOUT_MS,
    maxAttempts: config.WDT_MAX_ATTEMPTS,
    callsPerMinute: config.WDT_CALLS_PER_MINUTE,
  };
}

function kingdeeOptionsBefore(config: KingdeeConnectionConfig): KingdeeClientOptions {
  return {
    serverUrl: config.KINGDEE_SERVER_URL!,
    acctId: config.KINGDEE_ACCT_ID!,
    username: config.KINGDEE_USERNAME!,
    password: config.KINGDEE_PASSWORD,
    appId: config.KINGDEE_APP_ID,
    appSecret: config.KINGDEE_APP_SECRET,
    lcid: config.KINGDEE_LCID,
    orgNumber: config.KINGDEE_ORG_NUMBER || undefined,
    authMode: config.KINGDEE_AUTH_MODE,
    loginBody: config.KINGDEE_LOGIN_BODY,
    sessions: config.KINGDEE_SESSIONS,
    timeoutMs: config.KINGDEE_TIMEOUT_MS,
  };
}

const base = { KAFKA_BROKERS: '127.0.0.1:9092', DATABASE_URL: 'postgres://u@db.example.com:5432/x' };

const NATIVE = {
  WDT_SID: 'sid-native',
  WDT_BASE_URL: 'https://api.wangdian.cn',
  WDT_APPKEY: 'native-key',
  WDT_APPSECRET: 'native-secret-1111',
};
const QIMEN = {
  WDT_GATEWAY: 'qimen',
  WDT_SID: 'sid-qimen',
  WDT_QIMEN_URL: 'https://abc.api.taobao.com/router/qm',
  WDT_QIMEN_APP_KEY: '23000001',
  WDT_QIMEN_APP_SECRET: 'qimen-secret-2222',
  WDT_QIMEN_TARGET_APP_KEY: '21363512',
  WDT_QIMEN_SIGN_METHOD: 'hmac',
  WDT_CALLS_PER_MINUTE: '45',
  WDT_TIMEOUT_MS: '10000',
  WDT_MAX_ATTEMPTS: '3',
};
const SIGN = {
  KINGDEE_SERVER_URL: 'https://ERP.example.com:443/k3cloud/',
  KINGDEE_ACCT_ID: 'acct-1',
  KINGDEE_USERNAME: 'api',
  KINGDEE_APP_ID: '123_abc',
  KINGDEE_APP_SECRET: 'kd-app-secret-3333',
  KINGDEE_ORG_NUMBER: '100',
  KINGDEE_SESSIONS: '6',
};
const VALIDATE_USER = {
  KINGDEE_SERVER_URL: 'http://erp.example.com:8080/K3Cloud',
  KINGDEE_AUTH_MODE: 'validate_user',
  KINGDEE_ACCT_ID: 'acct-2',
  KINGDEE_USERNAME: 'administrator',
  KINGDEE_PASSWORD: 'kd-password-4444',
  KINGDEE_LCID: '1033',
  KINGDEE_LOGIN_BODY: 'named',
  KINGDEE_TIMEOUT_MS: '60000',
  // As .env.example leaves them: empty means unset.
  KINGDEE_ORG_NUMBER: '',
  KINGDEE_SESSION_CAP: '',
  CONNECTIONS_FILE: '',
};

describe('the connection `default` (the single-account variables)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'connections-default-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['native', NATIVE],
    ['qimen', QIMEN],
  ])('WDT %s: the client options the extractor always built', (_gateway, vars) => {
    const env = { ...base, ...vars };
    const before = wdtOptionsBefore(loadServiceConfig('extractor', env));
    const wdt = loadConnections({ env, kinds: ['wdt'], cwd: dir }).wdt('default');
    expect(wdt.clientOptions).toEqual(before);
    expect(resolveWdtClientOptions(wdt.clientOptions)).toEqual(resolveWdtClientOptions(before));
    expect(wdt.origin).toBe('env');
    expect(wdt.callsPerMinute).toBe(before.callsPerMinute);
  });

  it('WDT qimen with a leftover WDT_APPSECRET: the client resolves to the same options (the native secret is unused)', () => {
    const env = { ...base, ...QIMEN, WDT_APPSECRET: 'leftover-native-secret' };
    const before = wdtOptionsBefore(loadServiceConfig('extractor', env));
    const wdt = loadConnections({ env, kinds: ['wdt'], cwd: dir }).wdt('default');
    expect(resolveWdtClientOptions(wdt.clientOptions)).toEqual(resolveWdtClientOptions(before));
    expect(JSON.stringify(wdt.clientOptions)).not.toContain('leftover-native-secret');
  });

  it.each([
    ['sign', SIGN],
    ['validate_user', VALIDATE_USER],
  ])('Kingdee %s: the client options the loader always built', (_mode, vars) => {
    const env = { ...base, ...vars };
    const before = kingdeeOptionsBefore(loadServiceConfig('loader', env));
    const kingdee = loadConnections({ env, kinds: ['kingdee'], cwd: dir }).kingdee('default');
    expect(kingdee.clientOptions).toEqual(before);
    // No KINGDEE_SESSION_CAP: no shared cap, each process its own KINGDEE_SESSIONS, as before.
    expect(kingdee.sessionCap).toBeUndefined();
  });

  it('the account normalises the host and drops default ports and the trailing slash', () => {
    const env = { ...base, ...NATIVE, ...SIGN, KINGDEE_SESSION_CAP: '3' };
    const registry = loadConnections({ env, kinds: ['wdt', 'kingdee'], cwd: dir });
    expect(registry.kingdee('default').account).toBe('erp.example.com/k3cloud#acct-1');
    expect(registry.kingdee('default').sessionCap).toBe(3);
    expect(registry.wdt('default').budgetKey).toBe('native:native-key');
    const other = loadConnections({ env: { ...base, ...VALIDATE_USER }, kinds: ['kingdee'], cwd: dir });
    expect(other.kingdee('default').account).toBe('erp.example.com:8080/K3Cloud#acct-2');
    const qimen = loadConnections({ env: { ...base, ...QIMEN }, kinds: ['wdt'], cwd: dir });
    expect(qimen.wdt('default').budgetKey).toBe('qimen:23000001');
  });

  it('describe() and outline() of the default connections carry no secret', () => {
    for (const vars of [
      { ...NATIVE, ...SIGN },
      { ...QIMEN, ...VALIDATE_USER },
    ]) {
      const registry = loadConnections({ env: { ...base, ...vars }, kinds: ['wdt', 'kingdee'], cwd: dir });
      const views = JSON.stringify([registry.describe(), registry.outline()]);
      for (const secret of [
        'native-secret-1111',
        'qimen-secret-2222',
        'kd-app-secret-3333',
        'kd-password-4444',
      ])
        expect(views).not.toContain(secret);
      expect(registry.describe().wdt[0]).toMatchObject({ name: 'default', origin: 'env' });
    }
  });

  it("a process reads only its own kinds' secrets: the others may be absent", () => {
    const env = { ...base, ...NATIVE, ...SIGN, WDT_APPSECRET: undefined, KINGDEE_APP_SECRET: undefined };
    // The loader needs no WDT secret, the extractor no Kingdee secret, the operator none.
    expect(
      loadConnections({ env: { ...env, KINGDEE_APP_SECRET: 'k' }, kinds: ['kingdee'], cwd: dir }).wdtNames(),
    ).toEqual(['default']);
    expect(
      loadConnections({ env: { ...env, WDT_APPSECRET: 'w' }, kinds: ['wdt'], cwd: dir }).kingdeeNames(),
    ).toEqual(['default']);
    expect(readConnectionsOutline({ env, cwd: dir })).toEqual({
      wdt: { default: { sid: 'sid-native', gateway: 'native', budgetKey: 'native:native-key' } },
      kingdee: { default: { account: 'erp.example.com/k3cloud#acct-1' } },
    });
    expect(() => loadConnections({ env, kinds: ['wdt'], cwd: dir })).toThrow(
      'WDT connection "default": appSecret refers to environment variable WDT_APPSECRET, which is not set',
    );
    expect(() => loadConnections({ env, kinds: ['kingdee'], cwd: dir })).toThrow(
      'Kingdee connection "default": appSecret refers to environment variable KINGDEE_APP_SECRET, which is not set',
    );
    const user = { ...base, ...VALIDATE_USER, KINGDEE_PASSWORD: undefined };
    expect(() => loadConnections({ env: user, kinds: ['kingdee'], cwd: dir })).toThrow(
      'Kingdee connection "default": password refers to environment variable KINGDEE_PASSWORD, which is not set',
    );
  });

  it('incomplete single-account variables name what is missing', () => {
    expect(() => loadConnections({ env: { WDT_SID: 's', WDT_APPKEY: 'k' }, kinds: [], cwd: dir })).toThrow(
      'WDT connection "default" (environment): WDT_BASE_URL required when WDT_GATEWAY=native',
    );
    expect(() =>
      loadConnections({ env: { WDT_SID: 's', WDT_GATEWAY: 'qimen' }, kinds: [], cwd: dir }),
    ).toThrow(
      'WDT connection "default" (environment): WDT_QIMEN_URL, WDT_QIMEN_APP_KEY, WDT_QIMEN_TARGET_APP_KEY required when WDT_GATEWAY=qimen',
    );
    expect(() =>
      loadConnections({
        env: { KINGDEE_SERVER_URL: 'https://erp.example.com/k3cloud/' },
        kinds: [],
        cwd: dir,
      }),
    ).toThrow(
      'Kingdee connection "default" (environment): KINGDEE_ACCT_ID, KINGDEE_USERNAME, KINGDEE_APP_ID required with KINGDEE_SERVER_URL (KINGDEE_AUTH_MODE=sign)',
    );
    expect(() =>
      loadConnections({ env: { ...NATIVE, WDT_CALLS_PER_MINUTE: 'many' }, kinds: [], cwd: dir }),
    ).toThrow(/WDT connection "default" \(environment\): WDT_CALLS_PER_MINUTE: /);
  });

  it('without WDT_SID / KINGDEE_SERVER_URL there is no default; a process needing one says how to give it', () => {
    const registry = loadConnections({
      env: { WDT_APPKEY: 'stray', KINGDEE_ACCT_ID: 'stray' },
      kinds: [],
      cwd: dir,
    });
    expect([registry.wdtNames(), registry.kingdeeNames()]).toEqual([[], []]);
    expect(() => loadConnections({ env: {}, kinds: ['kingdee'], cwd: dir })).toThrow(
      'no Kingdee connection: set KINGDEE_SERVER_URL (and its account and keys) or list connections under kingdee: in config/connections.yaml (CONNECTIONS_FILE)',
    );
    const file = join(dir, 'only-kingdee.yaml');
    writeFileSync(
      file,
      'kingdee:\n  k:\n    serverUrl: https://erp.example.com/k3cloud/\n    acctId: A\n    username: u\n    appId: x\n    appSecret: { env: S }\n',
    );
    expect(() =>
      loadConnections({ env: { CONNECTIONS_FILE: file, S: 's' }, kinds: ['wdt', 'kingdee'] }),
    ).toThrow(
      `no WDT connection: set WDT_SID (and its keys) or list connections under wdt: in ${file} (CONNECTIONS_FILE)`,
    );
  });

  it('a file entry named default is fine alone, and refused beside the variables (Kingdee too)', () => {
    const file = join(dir, 'connections.yaml');
    writeFileSync(
      file,
      'kingdee:\n  default:\n    serverUrl: https://erp.example.com/k3cloud/\n    acctId: A\n    username: u\n    appId: x\n    appSecret: { env: S }\n',
    );
    expect(loadConnections({ env: { S: 's' }, file, kinds: ['kingdee'] }).kingdee('default').origin).toBe(
      'file',
    );
    expect(() => loadConnections({ env: { S: 's', ...SIGN }, file, kinds: [] })).toThrow(
      `Kingdee connection "default" is defined twice: under kingdee: in ${file} and by KINGDEE_SERVER_URL in the environment; keep one`,
    );
  });

  it('a default connection and a file connection on the same account, or the same shop, are refused', () => {
    const file = join(dir, 'connections.yaml');
    writeFileSync(
      file,
      [
        'wdt:',
        '  shop-a:',
        '    sid: sid-native',
        '    baseUrl: https://api.wangdian.cn',
        '    appKey: native-key',
        '    appSecret: { env: S }',
        'kingdee:',
        '  acct-main:',
        '    serverUrl: https://erp.example.com/k3cloud',
        '    acctId: acct-1',
        '    username: u',
        '    appId: x',
        '    appSecret: { env: S }',
        '',
      ].join('\n'),
    );
    expect(() => loadConnections({ env: { S: 's', ...SIGN }, file, kinds: [] })).toThrow(
      'Kingdee connections "default" and "acct-main" are the same account set (erp.example.com/k3cloud#acct-1, from serverUrl and acctId)',
    );
    expect(() => loadConnections({ env: { S: 's', ...NATIVE }, file, kinds: [] })).toThrow(
      'WDT connections "default" and "shop-a" are the same shop (sid sid-native on app key native-key)',
    );
    expect(() =>
      loadConnections({
        env: { S: 's', ...NATIVE, WDT_SID: 'other', WDT_CALLS_PER_MINUTE: '30' },
        file,
        kinds: [],
      }),
    ).toThrow(
      'WDT connections "default" and "shop-a" share app key native-key (native) but set callsPerMinute 30 and 60',
    );
  });
});
