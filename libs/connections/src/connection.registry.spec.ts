import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectionsConfigError } from './connections.errors';
import { loadConnections } from './connections.loader';

const wdt = (name: string, sid: string, appKey: string, extra = '') =>
  `  ${name}:\n    sid: ${sid}\n    baseUrl: https://api.wangdian.cn\n    appKey: ${appKey}\n    appSecret: { env: WDT_${name.toUpperCase().replace(/-/g, '_')} }\n${extra}`;
const qimen = (name: string, sid: string, appKey: string, cpm = 60) =>
  `  ${name}:\n    gateway: qimen\n    sid: ${sid}\n    qimen: { url: https://q.example.com, appKey: '${appKey}', appSecret: { env: QIMEN_SECRET } }\n    callsPerMinute: ${cpm}\n`;
const kd = (name: string, url: string, acct: string, extra = '') =>
  `  ${name}:\n    serverUrl: ${url}\n    acctId: ${acct}\n    username: api\n    appId: app\n    appSecret: { env: KD_SECRET }\n${extra}`;

const SECRETS = {
  WDT_SHOP_A: 'shop-a-secret-value',
  WDT_SHOP_B: 'shop-b-secret-value',
  QIMEN_SECRET: 'qimen-secret-value',
  KD_SECRET: 'kingdee-secret-value',
};

describe('connections across each other, and the registry', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'connections-registry-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (text: string, name = 'connections.yaml'): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('one Qimen app key may serve several sids (one budget); the same sid twice on it is one shop twice', () => {
    const file = write(
      `wdt:\n${qimen('shop-c', 'sid-c', '23000001')}${qimen('shop-d', 'sid-d', '23000001')}`,
    );
    const registry = loadConnections({ env: SECRETS, file, kinds: ['wdt'] });
    expect(registry.wdt('shop-c').budgetKey).toBe('qimen:23000001');
    expect(registry.wdtOnBudget('qimen:23000001')).toEqual(['shop-c', 'shop-d']);
    const twice = write(
      `wdt:\n${qimen('shop-c', 'sid-c', '23000001')}${qimen('shop-d', 'sid-c', '23000001')}`,
    );
    expect(() => loadConnections({ env: SECRETS, file: twice, kinds: [] })).toThrow(
      'WDT connections "shop-c" and "shop-d" are the same shop (sid sid-c on app key 23000001): keep one and let both schemes use it',
    );
    const limits = write(
      `wdt:\n${qimen('shop-c', 'sid-c', '23000001', 60)}${qimen('shop-d', 'sid-d', '23000001', 40)}`,
    );
    expect(() => loadConnections({ env: SECRETS, file: limits, kinds: [] })).toThrow(
      'WDT connections "shop-c" and "shop-d" share app key 23000001 (qimen) but set callsPerMinute 60 and 40: one app key has one limit',
    );
  });

  it('the same sid through different app keys (or gateways) is a different budget: accepted', () => {
    const file = write(
      `wdt:\n${wdt('shop-a', 'sid-x', 'key-a')}${wdt('shop-b', 'sid-x', 'key-b', '    callsPerMinute: 30\n')}${qimen('shop-c', 'sid-x', 'key-a')}`,
    );
    const registry = loadConnections({ env: SECRETS, file, kinds: ['wdt'] });
    expect(registry.wdtNames().map((n) => registry.wdt(n).budgetKey)).toEqual([
      'native:key-a',
      'native:key-b',
      'qimen:key-a',
    ]);
  });

  it('one Kingdee server with two account sets is two accounts; one account twice is refused whatever the URL spelling', () => {
    const file = write(
      `kingdee:\n${kd('acct-main', 'https://erp.example.com/k3cloud/', 'A1')}${kd('acct-second', 'https://erp.example.com/k3cloud/', 'A2')}`,
    );
    expect(loadConnections({ env: SECRETS, file, kinds: ['kingdee'] }).kingdeeNames()).toEqual([
      'acct-main',
      'acct-second',
    ]);
    for (const spelling of ['HTTPS://Erp.Example.COM/k3cloud', 'https://erp.example.com:443/k3cloud//']) {
      const twice = write(
        `kingdee:\n${kd('acct-main', 'https://erp.example.com/k3cloud/', 'A1')}${kd('acct-copy', spelling, 'A1')}`,
      );
      expect(() => loadConnections({ env: SECRETS, file: twice, kinds: [] })).toThrow(
        'Kingdee connections "acct-main" and "acct-copy" are the same account set (erp.example.com/k3cloud#A1, from serverUrl and acctId)',
      );
    }
    // Another port, scheme-default or not, is another server.
    const ports = write(
      `kingdee:\n${kd('a', 'https://erp.example.com/k3cloud/', 'A1')}${kd('b', 'http://erp.example.com:443/k3cloud/', 'A1')}`,
    );
    expect(loadConnections({ env: SECRETS, file: ports, kinds: [] }).outline().kingdee).toEqual({
      a: { account: 'erp.example.com/k3cloud#A1' },
      b: { account: 'erp.example.com:443/k3cloud#A1' },
    });
  });

  it("checks Kingdee options with the client's own rules at boot, naming the connection", () => {
    const file = write(
      `kingdee:\n${kd('acct-main', 'https://erp.example.com/k3cloud/', 'A1', '    authMode: api_signature\n')}`,
    );
    expect(() => loadConnections({ env: SECRETS, file, kinds: ['kingdee'] })).toThrow(
      'Kingdee connection "acct-main": kingdee client config: appId must be clientId_secPart with a 32-character secPart for api_signature',
    );
  });

  it('the file: explicit and missing is an error, the default path is used when present, bad YAML is not quoted', () => {
    expect(() => loadConnections({ env: {}, file: join(dir, 'nope.yaml'), kinds: [] })).toThrow(
      `connections file ${join(dir, 'nope.yaml')} (CONNECTIONS_FILE) does not exist`,
    );
    mkdirSync(join(dir, 'config'));
    write(`wdt:\n${wdt('shop-a', 'sid-a', 'key-a')}`, 'config/connections.yaml');
    expect(loadConnections({ env: {}, kinds: [], cwd: dir }).wdtNames()).toEqual(['shop-a']);
    // CONNECTIONS_FILE relative to the working directory.
    write(`wdt:\n${wdt('shop-b', 'sid-b', 'key-b')}`, 'other.yaml');
    expect(
      loadConnections({ env: { CONNECTIONS_FILE: 'other.yaml' }, kinds: [], cwd: dir }).wdtNames(),
    ).toEqual(['shop-b']);
    const broken = write('wdt:\n  shop-a:\n    appSecret: pasted-secret-value\n   sid: [\n', 'broken.yaml');
    let message = '';
    try {
      loadConnections({ env: {}, file: broken, kinds: [] });
    } catch (err) {
      expect(err).toBeInstanceOf(ConnectionsConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(
      new RegExp(`^connections file ${broken}: not valid YAML: .*line \\d+, column \\d+$`),
    );
    expect(message).not.toContain('pasted-secret-value');
    const duplicate = write(
      `wdt:\n${wdt('shop-a', 'sid-a', 'key-a')}${wdt('shop-a', 'sid-b', 'key-b')}`,
      'dup.yaml',
    );
    expect(() => loadConnections({ env: {}, file: duplicate, kinds: [] })).toThrow(
      /not valid YAML: Map keys must be unique/,
    );
  });

  it('looks connections up by name, listing the known ones for an unknown name', () => {
    const file = write(
      `wdt:\n${wdt('shop-a', 'sid-a', 'key-a')}${wdt('shop-b', 'sid-b', 'key-b')}kingdee:\n${kd('acct-main', 'https://erp.example.com/k3cloud/', 'A1')}`,
    );
    const registry = loadConnections({ env: SECRETS, file, kinds: ['wdt'] });
    expect(registry.hasWdt('shop-a')).toBe(true);
    expect(registry.hasWdt('shop-z')).toBe(false);
    expect(registry.hasKingdee('acct-main')).toBe(true);
    expect(() => registry.wdt('shop-z')).toThrow(
      `unknown WDT connection "shop-z" (known: shop-a, shop-b; from ${file} and the environment)`,
    );
    expect(() => registry.kingdee('acct-x')).toThrow(
      /^unknown Kingdee connection "acct-x" \(known: acct-main;/,
    );
    // Known, but this process did not ask for Kingdee: its secrets were not read.
    expect(() => registry.kingdee('acct-main')).toThrow(
      'Kingdee connection "acct-main" is not loaded with its secrets in this process',
    );
    expect(() => loadConnections({ env: {}, kinds: [] }).wdt('default')).toThrow(
      'unknown WDT connection "default" (known: none; from the environment)',
    );
  });

  it('describe() shows every connection without a secret', () => {
    const file = write(
      `wdt:\n${wdt('shop-a', 'sid-a', 'key-a')}${qimen('shop-c', 'sid-c', '23000001')}kingdee:\n${kd('acct-main', 'https://erp.example.com/k3cloud/', 'A1', '    sessions: 3\n')}`,
    );
    const registry = loadConnections({ env: SECRETS, file, kinds: ['wdt', 'kingdee'] });
    // The secrets are read (the clients need them) …
    expect(registry.wdt('shop-a').clientOptions.appsecret).toBe(SECRETS.WDT_SHOP_A);
    expect(registry.kingdee('acct-main').clientOptions.appSecret).toBe(SECRETS.KD_SECRET);
    // … and are in no view.
    const described = registry.describe();
    const text = JSON.stringify(described);
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
    expect(described).toEqual({
      wdt: [
        {
          name: 'shop-a',
          gateway: 'native',
          sid: 'sid-a',
          budgetKey: 'native:key-a',
          callsPerMinute: 60,
          url: 'https://api.wangdian.cn',
          baseUrl: 'https://api.wangdian.cn',
          appKey: 'key-a',
          origin: 'file',
        },
        {
          name: 'shop-c',
          gateway: 'qimen',
          sid: 'sid-c',
          budgetKey: 'qimen:23000001',
          callsPerMinute: 60,
          url: 'https://q.example.com',
          qimenUrl: 'https://q.example.com',
          appKey: '23000001',
          origin: 'file',
        },
      ],
      kingdee: [
        {
          name: 'acct-main',
          account: 'erp.example.com/k3cloud#A1',
          serverUrl: 'https://erp.example.com/k3cloud/',
          acctId: 'A1',
          username: 'api',
          authMode: 'sign',
          sessionCap: 3,
          origin: 'file',
        },
      ],
    });
    expect(registry.kingdee('acct-main').sessionCap).toBe(3);
    expect(registry.kingdee('acct-main').clientOptions.sessions).toBe(3);
    // A view is a copy: changing it changes nothing in the registry.
    described.wdt[0].sid = 'changed';
    expect(registry.describe().wdt[0].sid).toBe('sid-a');
  });
});
