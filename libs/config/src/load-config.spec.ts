import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SERVICE_ENV, ServiceName } from './env.schema';
import { ConfigValidationError, loadKafkaClientConfig, loadServiceConfig } from './load-config';
import { serviceNodeFlags, serviceNodeOptions } from '@libs/common';
import { loadConnections } from '@libs/connections';

const root = join(__dirname, '../../..');
const base = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  DATABASE_URL: 'postgres://u:topsecret@db.example.com:5432/x',
};

describe('loadServiceConfig', () => {
  it('applies defaults and parses lists', () => {
    const cfg = loadServiceConfig('transformer', { ...base, KAFKA_BROKERS: 'a:9092, b:9093' });
    expect(cfg.KAFKA_BROKERS).toEqual(['a:9092', 'b:9093']);
    expect(cfg.HTTP_PORT).toBe(3002);
    expect(cfg.APP_MODE).toBe('production');
  });

  it('names every missing or malformed variable and never echoes a secret', () => {
    let error: unknown;
    try {
      loadServiceConfig('loader', {
        KAFKA_BROKERS: 'not a list',
        DATABASE_URL: 'mysql://u:topsecret@h/x',
        HTTP_PORT: '99999',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const text = String((error as Error).message);
    for (const name of ['KAFKA_BROKERS', 'DATABASE_URL', 'HTTP_PORT']) expect(text).toContain(name);
    expect(text).not.toContain('topsecret');
  });

  it('the single-account Kingdee variables are all or nothing (they define the connection `default`)', () => {
    expect(() =>
      loadServiceConfig('loader', {
        KAFKA_BROKERS: 'k:9092',
        DATABASE_URL: 'postgres://u@h/db',
        KINGDEE_SERVER_URL: 'https://erp.example.com/k3cloud/',
      }),
    ).toThrow(/KINGDEE_ACCT_ID: required when KINGDEE_SERVER_URL is set[\s\S]*KINGDEE_APP_ID: required/);
    // Without KINGDEE_SERVER_URL the connections come from CONNECTIONS_FILE (checked by libs/connections).
    expect(
      loadServiceConfig('loader', { KAFKA_BROKERS: 'k:9092', DATABASE_URL: 'postgres://u@h/db' })
        .KINGDEE_ACCT_ID,
    ).toBeUndefined();
  });

  it('requires the credentials of the chosen gateway and auth mode', () => {
    expect(() => loadServiceConfig('extractor', { ...base, WDT_SID: 's', WDT_GATEWAY: 'qimen' })).toThrow(
      /WDT_QIMEN_APP_SECRET: required when WDT_GATEWAY=qimen/,
    );
    expect(() =>
      loadServiceConfig('loader', {
        ...base,
        KINGDEE_SERVER_URL: 'https://erp.example.com/k3cloud/',
        KINGDEE_ACCT_ID: 'a',
        KINGDEE_USERNAME: 'u',
        KINGDEE_AUTH_MODE: 'validate_user',
      }),
    ).toThrow(/KINGDEE_PASSWORD: required when KINGDEE_AUTH_MODE=validate_user/);
  });

  it('refuses sandbox or loopback URLs in production mode', () => {
    const env = {
      ...base,
      WDT_SID: 's',
      WDT_BASE_URL: 'http://127.0.0.1:18081',
      WDT_APPKEY: 'k',
      WDT_APPSECRET: 'x',
    };
    expect(() => loadServiceConfig('extractor', env)).toThrow(/APP_MODE=production/);
    expect(loadServiceConfig('extractor', { ...env, APP_MODE: 'sandbox' }).WDT_BASE_URL).toBe(
      'http://127.0.0.1:18081',
    );
  });

  it('refuses partial SASL settings at boot, naming the missing variables, never the password', () => {
    expect(() =>
      loadServiceConfig('transformer', {
        ...base,
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_PASSWORD: 'pw-secret',
      }),
    ).toThrow(/KAFKA_SASL_USERNAME: required when KAFKA_SASL_MECHANISM and KAFKA_SASL_PASSWORD are set/);
    let text = '';
    try {
      loadKafkaClientConfig('topics:provision', { ...base, KAFKA_SASL_PASSWORD: 'pw-secret' });
    } catch (e) {
      text = (e as Error).message;
    }
    expect(text).toContain('Invalid configuration for topics:provision');
    expect(text).toContain('KAFKA_SASL_MECHANISM: required');
    expect(text).toContain('KAFKA_SASL_USERNAME: required');
    expect(text).not.toContain('pw-secret');
    const full = loadKafkaClientConfig('x', {
      ...base,
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'p',
      KAFKA_SSL_CA_FILE: '/ca.pem',
    });
    expect(full.KAFKA_SASL_MECHANISM).toBe('plain');
    expect(full.KAFKA_SSL_CA_FILE).toBe('/ca.pem');
  });

  it('treats empty strings as unset', () => {
    expect(loadServiceConfig('transformer', { ...base, LOG_LEVEL: '' }).LOG_LEVEL).toBe('info');
  });
});

describe('documentation and deployment files agree with the schema', () => {
  const allNames = new Set(Object.values(SERVICE_ENV).flatMap((shape) => Object.keys(shape)));

  it('.env.example documents exactly the variables the services read', () => {
    const documented = readFileSync(join(root, '.env.example'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z0-9_]+=/.test(l))
      .map((l) => l.split('=')[0]);
    expect(new Set(documented)).toEqual(allNames);
  });

  it('docker-compose.yml wires each service with known variables, its required ones and its port', () => {
    const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<
        string,
        { environment?: Record<string, unknown>; ports?: string[]; command?: string[] }
      >;
    };
    const services = Object.keys(compose.services);
    for (const name of [
      'kafka',
      'postgres',
      'extractor',
      'transformer',
      'loader',
      'audit-writer',
      'wdt-sandbox',
      'kingdee-sandbox',
    ]) {
      expect(services).toContain(name);
    }
    for (const service of Object.keys(SERVICE_ENV) as ServiceName[]) {
      const def = compose.services[service];
      const env = Object.fromEntries(Object.entries(def.environment ?? {}).map(([k, v]) => [k, String(v)]));
      // NODE_OPTIONS is Node's, not the service's: it must carry the service's measured heap cap.
      expect([service, env.NODE_OPTIONS]).toEqual([service, serviceNodeOptions(service)]);
      for (const key of Object.keys(env).filter((k) => k !== 'NODE_OPTIONS'))
        expect([service, key, Object.hasOwn(SERVICE_ENV[service], key)]).toEqual([service, key, true]);
      const cfg = loadServiceConfig(service, env) as { HTTP_PORT: number };
      expect(def.ports).toContain(`${cfg.HTTP_PORT}:${cfg.HTTP_PORT}`);
      // The image's command carries the service's Node flags (SERVICE_NODE_FLAGS), as the dev stack does.
      expect(def.command).toEqual(['node', ...serviceNodeFlags(service), `dist/apps/${service}/src/main.js`]);
    }
  });

  it('docker-compose.yml gives the services the connections file and each its connection secrets', () => {
    const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: Record<
        string,
        { environment?: Record<string, unknown>; volumes?: string[]; secrets?: string[] }
      >;
      secrets: Record<string, { file: string }>;
    };
    const text = readFileSync(join(root, 'deploy/compose/connections.yaml'), 'utf8');
    // The references, pointed at the files Compose mounts at /run/secrets/<name>: they load with every secret.
    const local = text.replace(/\/run\/secrets\/([a-z_]+)/g, (_, name: string) =>
      join(root, compose.secrets[name].file),
    );
    const dir = mkdtempSync(join(tmpdir(), 'compose-connections-'));
    try {
      writeFileSync(join(dir, 'connections.yaml'), local);
      const registry = loadConnections({
        env: { APP_MODE: 'sandbox' },
        file: join(dir, 'connections.yaml'),
        kinds: ['wdt', 'kingdee'],
      });
      expect(registry.wdtNames()).toEqual(['default', 'shop-b']);
      expect(registry.kingdee('default').clientOptions.appSecret).toBe('demo-app-secret');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const needs: Record<string, RegExp> = { extractor: /^wdt_/, loader: /^kingdee_/, reconciler: /./ };
    const referenced = [...text.matchAll(/\/run\/secrets\/([a-z_]+)/g)].map((m) => m[1]);
    for (const service of ['extractor', 'loader', 'reconciler', 'operator']) {
      const def = compose.services[service];
      expect([service, def.environment?.CONNECTIONS_FILE]).toEqual([service, '/app/config/connections.yaml']);
      expect(def.volumes).toContain('./deploy/compose/connections.yaml:/app/config/connections.yaml:ro');
      const wanted = referenced.filter((name) => needs[service]?.test(name)).sort();
      expect([service, [...(def.secrets ?? [])].sort()]).toEqual([service, wanted]);
    }
  });
});
