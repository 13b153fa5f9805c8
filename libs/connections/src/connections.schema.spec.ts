import { ConnectionsFileSchema, describeConnectionsIssues } from './connections.schema';

/** The problems of `data` as the loader reports them, one per line. */
function problems(data: unknown): string[] {
  const parsed = ConnectionsFileSchema.safeParse(data);
  if (parsed.success) return [];
  return describeConnectionsIssues(parsed.error);
}

const native = {
  sid: 'shop-a',
  baseUrl: 'https://api.wangdian.cn',
  appKey: 'shop-a-appkey',
  appSecret: { env: 'WDT_SHOP_A_APPSECRET' },
};
const signed = {
  serverUrl: 'https://erp.example.com/k3cloud/',
  acctId: 'A1',
  username: 'api',
  appId: '123_abc',
  appSecret: { env: 'KD_MAIN_APPSECRET' },
};

describe('ConnectionsFileSchema', () => {
  it('fills the documented defaults', () => {
    const parsed = ConnectionsFileSchema.parse({
      wdt: {
        'shop-a': native,
        'shop-c': {
          gateway: 'qimen',
          sid: 'c',
          qimen: { url: 'https://q.example.com', appKey: 'q', appSecret: { file: '/s' } },
        },
      },
      kingdee: { 'acct-main': signed },
    });
    expect(parsed.wdt['shop-a']).toMatchObject({
      gateway: 'native',
      callsPerMinute: 60,
      timeoutMs: 30_000,
      maxAttempts: 5,
    });
    expect(parsed.wdt['shop-c'].qimen?.signMethod).toBe('md5');
    expect(parsed.kingdee['acct-main']).toMatchObject({
      authMode: 'sign',
      lcid: 2052,
      orgNumber: '',
      loginBody: 'positional',
      sessions: 4,
      timeoutMs: 120_000,
    });
  });

  it('an empty file, or sections with every entry commented out, is no connection', () => {
    expect(ConnectionsFileSchema.parse({})).toEqual({ wdt: {}, kingdee: {} });
    expect(ConnectionsFileSchema.parse({ wdt: null, kingdee: null })).toEqual({ wdt: {}, kingdee: {} });
  });

  it('names connections by the pattern (lower-case, digits, "-", at most 63 characters)', () => {
    const ok = ['a', '0', 'shop-a', 'a-', 'a'.repeat(63)];
    expect(problems({ wdt: Object.fromEntries(ok.map((n) => [n, { ...native, sid: n }])) })).toEqual([]);
    for (const bad of ['Shop', 'shop_a', '-a', 'a'.repeat(64), 'shop a', 'shöp'])
      expect(problems({ kingdee: { [bad]: signed } })).toEqual([
        `kingdee.${bad}: connection names are lower-case letters, digits and '-' (like shop-a or acct-main), at most 63 characters`,
      ]);
  });

  it('reports every unknown key at its own path', () => {
    expect(
      problems({
        wdt: { 'shop-a': { ...native, callsPerMinut: 30, qimen: undefined } },
        kingdee: { 'acct-main': { ...signed, sesions: 2, orgnumber: '1' } },
        kingde: {},
      }),
    ).toEqual([
      'wdt.shop-a.callsPerMinut: unknown key',
      'kingdee.acct-main.sesions: unknown key',
      'kingdee.acct-main.orgnumber: unknown key',
      'kingde: unknown key',
    ]);
    expect(
      problems({
        wdt: {
          c: {
            gateway: 'qimen',
            sid: 'c',
            qimen: { url: 'https://q.example.com', appKey: 'q', appSecret: { env: 'Q' }, signMetod: 'md5' },
          },
        },
      }),
    ).toEqual(['wdt.c.qimen.signMetod: unknown key']);
  });

  it('refuses a secret written as a value, naming the field and never echoing it', () => {
    const lines = problems({
      wdt: { 'shop-a': { ...native, appSecret: 'plain-wdt-secret' } },
      kingdee: {
        'acct-main': { ...signed, appSecret: { value: 'plain-kd-secret' } },
        'acct-two': { ...signed, acctId: 'A2', appSecret: { env: 'A', file: '/b' } },
        'acct-three': { ...signed, acctId: 'A3', appSecret: { env: 'not a variable' } },
      },
    });
    expect(lines).toEqual([
      'wdt.shop-a.appSecret: must be { env: VARIABLE } or { file: /path/to/secret }: secrets are never written in this file',
      'kingdee.acct-main.appSecret: must be { env: VARIABLE } or { file: /path/to/secret }: secrets are never written in this file',
      'kingdee.acct-two.appSecret: must be { env: VARIABLE } or { file: /path/to/secret }: secrets are never written in this file',
      'kingdee.acct-three.appSecret.env: must be a variable name',
    ]);
    expect(lines.join('\n')).not.toMatch(/plain-(wdt|kd)-secret/);
  });

  it('refuses credentials inside a URL', () => {
    const lines = problems({
      wdt: { 'shop-a': { ...native, baseUrl: 'https://key:url-secret@api.wangdian.cn' } },
      kingdee: { 'acct-main': { ...signed, serverUrl: 'https://api@erp.example.com/k3cloud/' } },
    });
    expect(lines).toEqual([
      'wdt.shop-a.baseUrl: must not carry credentials (user:password@): secrets are references, see appSecret/password',
      'kingdee.acct-main.serverUrl: must not carry credentials (user:password@): secrets are references, see appSecret/password',
    ]);
    expect(lines.join('\n')).not.toContain('url-secret');
  });

  it("requires each gateway's and each auth mode's fields, naming them", () => {
    expect(problems({ wdt: { 'shop-a': { sid: 'a' } } })).toEqual([
      'wdt.shop-a.baseUrl: required for gateway native',
      'wdt.shop-a.appKey: required for gateway native',
      'wdt.shop-a.appSecret: required for gateway native',
    ]);
    expect(problems({ wdt: { 'shop-c': { gateway: 'qimen', sid: 'c' } } })).toEqual([
      'wdt.shop-c.qimen: required for gateway qimen (url, appKey, appSecret)',
    ]);
    expect(
      problems({
        wdt: {
          'shop-c': { gateway: 'qimen', sid: 'c', qimen: { url: 'https://q.example.com', appKey: 'q' } },
        },
      }),
    ).toEqual([
      'wdt.shop-c.qimen.appSecret: must be { env: VARIABLE } or { file: /path/to/secret }: secrets are never written in this file',
    ]);
    expect(
      problems({
        kingdee: {
          'acct-main': {
            serverUrl: signed.serverUrl,
            acctId: 'A1',
            username: 'u',
            authMode: 'validate_user',
          },
          'acct-two': { serverUrl: signed.serverUrl, acctId: 'A2', username: 'u', authMode: 'api_signature' },
        },
      }),
    ).toEqual([
      'kingdee.acct-main.password: required for authMode validate_user',
      'kingdee.acct-two.appId: required for authMode api_signature',
      'kingdee.acct-two.appSecret: required for authMode api_signature',
    ]);
  });

  it('checks values, naming the path', () => {
    expect(
      problems({
        wdt: { 'shop-a': { ...native, sid: ' ', gateway: 'taobao', callsPerMinute: 0, baseUrl: 'ftp://x' } },
        kingdee: { 'acct-main': { ...signed, sessions: 65, lcid: 2052.5 } },
      }).map((line) => line.split(':')[0]),
    ).toEqual([
      'wdt.shop-a.gateway',
      'wdt.shop-a.sid',
      'wdt.shop-a.baseUrl',
      'wdt.shop-a.callsPerMinute',
      'kingdee.acct-main.lcid',
      'kingdee.acct-main.sessions',
    ]);
  });
});
