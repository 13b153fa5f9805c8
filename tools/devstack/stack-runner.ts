import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { serviceNodeFlags, serviceNodeOptions } from '@libs/common';
import { TOPIC_CATALOGUE, TopicNames, TopicRole } from '@libs/contracts';
import { DataSource } from 'typeorm';
import { createDataSource, initializeDataSource, migrate } from '@libs/database';
import { createKafka, provisionTopics } from '@libs/kafka';
import { freePort } from './free-port.util';
import { ManagedProcess } from './managed-process';

export type StackService =
  'extractor' | 'transformer' | 'loader' | 'audit-writer' | 'operator' | 'reconciler';
export const PIPELINE_SERVICES: StackService[] = ['audit-writer', 'loader', 'transformer', 'extractor'];

export interface StackOptions {
  /** Repository root (dist/ must be built). */
  root: string;
  brokers: string[];
  databaseUrl: string;
  /** Isolates topics, consumer groups and the Postgres schema of this run. */
  runId?: string;
  schemesDir?: string;
  services?: StackService[];
  /** Extra env for every service (e.g. LOG_LEVEL). */
  env?: Record<string, string>;
  /** Extra env per service (e.g. the loader's timeouts). */
  serviceEnv?: Partial<Record<StackService, Record<string, string>>>;
  /** The operator's admin token (name `demo`). */
  operatorToken?: string;
  /** The operator's viewer token (name `viewer`: reads, personal data masked). */
  viewerToken?: string;
  logDir?: string;
  wdt?: { seedCount?: number; knobs?: Record<string, unknown>; gateway?: 'native' | 'qimen' };
  /** Partitions of every run topic (default 3; the catalogue's production default is 6 for most). */
  partitions?: number;
  /** Replication of every run topic (default 1; 3 on the three-node test cluster, min ISR then 2). */
  replicationFactor?: number;
  /**
   * Run the services at their shipped defaults: no heap cap, and none of the demo's speed-ups (raised
   * WDT client limit, loader sessions and linger, short consumer session timeout). Benchmarks use it.
   */
  shippedDefaults?: boolean;
  /** Extra Node flags for every service, after its own (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  nodeFlags?: string[];
  kingdee?: { switches?: Record<string, unknown>; knobs?: Record<string, unknown> };
  /**
   * Several shops and account sets (connections): the sandboxes serve each one, a connections file is
   * written for the run and the services read it (with secrets from env), instead of the `default`
   * connection. Schemes then name these connections (`schemesDir`).
   */
  connections?: StackConnections;
}

/** A WDT shop of the run: its own sid (and native app key, or the sandbox's shared Qimen app). */
export interface StackShop {
  connection: string;
  sid: string;
  gateway: 'native' | 'qimen';
  /** Native app key; shops may share one (and then its limit). Default `<sid>-appkey`. */
  appkey?: string;
  seedCount?: number;
  /** The secret the services are given, when it should differ from the sandbox's (a wrong secret). */
  secretOverride?: string;
}

/** A Kingdee account set of the run. */
export interface StackAccount {
  connection: string;
  acctId: string;
  /** Session cap of the account, shared by every process (default 4). */
  sessions?: number;
  /** Organisation numbers of the account's base data (default the sandbox's, 101). */
  orgs?: string[];
  secretOverride?: string;
}

export interface StackConnections {
  shops: StackShop[];
  accounts: StackAccount[];
  /** L of every WDT app key, enforced by the sandbox per app key too (default 60). */
  callsPerMinute?: number;
}

/** The sandbox secrets of a shop's native app key (the sandbox's account spec uses the same). */
export function shopCredentials(shop: Pick<StackShop, 'sid' | 'appkey'>): {
  appkey: string;
  appsecret: string;
} {
  const appkey = shop.appkey ?? `${shop.sid}-appkey`;
  return { appkey, appsecret: `${appkey}-secret-0123456789` };
}

/** The connections file of a multi-shop run and the environment its secret references read. */
export function stackConnectionsFile(
  c: StackConnections,
  urls: { wdt: string; kingdee: string },
): { yaml: string; env: Record<string, string> } {
  const env: Record<string, string> = {};
  const secretVar = (kind: string, name: string) => `${kind}_SECRET_${name.toUpperCase().replace(/-/g, '_')}`;
  const lines = ['wdt:'];
  for (const shop of c.shops) {
    const ref = secretVar('WDT', shop.connection);
    lines.push(`  ${shop.connection}:`, `    gateway: ${shop.gateway}`, `    sid: ${shop.sid}`);
    if (shop.gateway === 'native') {
      const cred = shopCredentials(shop);
      lines.push(`    baseUrl: ${urls.wdt}`, `    appKey: ${cred.appkey}`, `    appSecret: { env: ${ref} }`);
      env[ref] = shop.secretOverride ?? cred.appsecret;
    } else {
      lines.push(
        '    qimen:',
        `      url: ${urls.wdt}/router/qm`,
        `      appKey: '${SANDBOX_CREDENTIALS.wdt.qimenAppKey}'`,
        `      appSecret: { env: ${ref} }`,
        `      targetAppKey: ${SANDBOX_CREDENTIALS.wdt.qimenTargetAppKey}`,
      );
      env[ref] = shop.secretOverride ?? SANDBOX_CREDENTIALS.wdt.qimenSecret;
    }
    lines.push(`    callsPerMinute: ${c.callsPerMinute ?? 60}`);
  }
  lines.push('kingdee:');
  for (const account of c.accounts) {
    const ref = secretVar('KINGDEE', account.connection);
    lines.push(
      `  ${account.connection}:`,
      `    serverUrl: ${urls.kingdee}/k3cloud/`,
      `    acctId: '${account.acctId}'`,
      `    username: ${SANDBOX_CREDENTIALS.kingdee.username}`,
      '    authMode: sign',
      `    appId: ${SANDBOX_CREDENTIALS.kingdee.appId}`,
      `    appSecret: { env: ${ref} }`,
      `    sessions: ${account.sessions ?? 4}`,
      '    timeoutMs: 10000',
    );
    env[ref] = account.secretOverride ?? SANDBOX_CREDENTIALS.kingdee.appSecret;
  }
  return { yaml: `${lines.join('\n')}\n`, env };
}

export const SANDBOX_CREDENTIALS = {
  wdt: {
    sid: 'demo-sid',
    appkey: 'demo-appkey',
    appsecret: 'demo-appsecret-0123456789',
    qimenAppKey: '23000001',
    qimenSecret: 'demo-qimen-secret-0123456789',
    qimenTargetAppKey: 'demo-qimen-target',
  },
  kingdee: {
    acctId: 'demo-acct',
    username: 'demo',
    appId: `demo_${Buffer.from('demo-kingdee-app-0000001', 'ascii').toString('base64')}`,
    appSecret: 'demo-kingdee-app-secret',
  },
};

/**
 * The whole pipeline on one machine: WDT and Kingdee sandboxes, extractor, transformer, loader,
 * audit writer (and operator) each as its own process, on the real Kafka broker and Postgres,
 * isolated per run (topics, groups and schema carry the run id). Used by `npm run demo` and the
 * end-to-end test.
 */
export class StackRunner {
  private readonly dataSources: DataSource[] = [];
  readonly runId: string;
  readonly topics: TopicNames;
  readonly schema: string;
  readonly processes = new Map<string, ManagedProcess>();
  readonly ports = new Map<string, number>();
  private readonly logDir: string;

  constructor(private readonly options: StackOptions) {
    this.runId = options.runId ?? `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
    this.topics = Object.fromEntries(
      (Object.keys(TOPIC_CATALOGUE) as TopicRole[]).map((role) => [
        role,
        `run.${this.runId}.${TOPIC_CATALOGUE[role].defaultName}`,
      ]),
    ) as TopicNames;
    this.schema = `run_${this.runId}`;
    this.logDir = options.logDir ?? join(options.root, '.infra', 'logs', this.runId);
  }

  url(name: string): string {
    return `http://127.0.0.1:${this.ports.get(name)}`;
  }

  get wdtUrl(): string {
    return this.url('wdt-sandbox');
  }

  get kingdeeUrl(): string {
    return this.url('kingdee-sandbox');
  }

  /** Bearer token (and console sign-in) of the operator's admin, `demo`. */
  get adminToken(): string {
    return this.options.operatorToken ?? 'demo-operator-token-0123456789';
  }

  /** Bearer token (and console sign-in) of the operator's viewer, `viewer`. */
  get viewerToken(): string {
    return this.options.viewerToken ?? 'demo-viewer-token-0123456789';
  }

  /** Topics and schema of this run, created like production does (provisioning + migrations). */
  async prepare(): Promise<void> {
    const kafka = createKafka({ brokers: this.options.brokers, clientId: `stack-${this.runId}` });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await provisionTopics(
        admin,
        Object.values(this.topics).map((name) => ({
          name,
          partitions: this.options.partitions ?? 3,
          replicationFactor: this.options.replicationFactor ?? 1,
          retentionMs: 7 * 86_400_000,
          maxMessageBytes: 1_048_576,
        })),
      );
    } finally {
      await admin.disconnect();
    }
    const ds = await initializeDataSource(
      createDataSource({ url: this.options.databaseUrl, schema: this.schema, poolSize: 2 }),
      this.options.databaseUrl,
    );
    try {
      await migrate(ds, this.schema);
    } finally {
      await ds.destroy();
    }
  }

  serviceEnv(service: StackService): Record<string, string> {
    const common: Record<string, string> = {
      APP_MODE: 'sandbox',
      LOG_LEVEL: 'info',
      KAFKA_BROKERS: this.options.brokers.join(','),
      DATABASE_URL: this.options.databaseUrl,
      DATABASE_SCHEMA: this.schema,
      SCHEMES_DIR: resolve(this.options.root, this.options.schemesDir ?? 'schemes'),
      KAFKA_GROUP_ID: `run.${this.runId}.${service}`,
      TOPIC_RAW_STOCKOUT: this.topics.rawStockout,
      TOPIC_KINGDEE_DOCUMENT: this.topics.kingdeeDocument,
      TOPIC_AUDIT: this.topics.audit,
      TOPIC_DEAD_LETTER: this.topics.deadLetter,
      HTTP_PORT: String(this.ports.get(service)),
      ...this.options.env,
    };
    const demo = !this.options.shippedDefaults;
    if (demo)
      Object.assign(common, {
        CONSUMER_SESSION_TIMEOUT_MS: '10000',
        // As the manifests run it: the service's measured heap cap (SERVICE_HEAP_MB).
        NODE_OPTIONS: serviceNodeOptions(service),
        ...this.options.env,
      });
    const multi = this.options.connections;
    if (multi) {
      const file = stackConnectionsFile(multi, { wdt: this.wdtUrl, kingdee: this.kingdeeUrl });
      Object.assign(common, { CONNECTIONS_FILE: this.connectionsFile, ...file.env });
      if (service === 'loader' && demo)
        Object.assign(common, { LOADER_LINGER_MS: '100', ...this.options.env });
    } else if (service === 'extractor' || service === 'reconciler') {
      Object.assign(common, {
        WDT_GATEWAY: this.options.wdt?.gateway ?? 'native',
        WDT_BASE_URL: this.wdtUrl,
        WDT_SID: SANDBOX_CREDENTIALS.wdt.sid,
        WDT_APPKEY: SANDBOX_CREDENTIALS.wdt.appkey,
        WDT_APPSECRET: SANDBOX_CREDENTIALS.wdt.appsecret,
        ...(this.options.wdt?.gateway === 'qimen'
          ? {
              WDT_QIMEN_URL: `${this.wdtUrl}/router/qm`,
              WDT_QIMEN_APP_KEY: SANDBOX_CREDENTIALS.wdt.qimenAppKey,
              WDT_QIMEN_APP_SECRET: SANDBOX_CREDENTIALS.wdt.qimenSecret,
              WDT_QIMEN_TARGET_APP_KEY: SANDBOX_CREDENTIALS.wdt.qimenTargetAppKey,
            }
          : {}),
        ...(demo ? { WDT_CALLS_PER_MINUTE: '600' } : {}),
        ...this.options.env,
      });
    }
    if (!multi && (service === 'loader' || service === 'reconciler')) {
      Object.assign(common, {
        KINGDEE_SERVER_URL: `${this.kingdeeUrl}/k3cloud/`,
        KINGDEE_AUTH_MODE: 'sign',
        KINGDEE_ACCT_ID: SANDBOX_CREDENTIALS.kingdee.acctId,
        KINGDEE_USERNAME: SANDBOX_CREDENTIALS.kingdee.username,
        KINGDEE_APP_ID: SANDBOX_CREDENTIALS.kingdee.appId,
        KINGDEE_APP_SECRET: SANDBOX_CREDENTIALS.kingdee.appSecret,
        KINGDEE_TIMEOUT_MS: '10000',
      });
      if (service === 'loader' && demo)
        Object.assign(common, { KINGDEE_SESSIONS: '3', LOADER_LINGER_MS: '100', ...this.options.env });
    }
    if (service === 'reconciler')
      // Requested runs are picked up within half a second; a killed holder's run is taken over in 10 s.
      Object.assign(common, { RECONCILE_POLL_MS: '500', RECONCILE_LEASE_MS: '10000' });
    if (service === 'operator') {
      common.OPERATOR_TOKENS = `demo:admin:${this.adminToken},viewer:viewer:${this.viewerToken}`;
      // The `default` connections' names, sid and account for /api/connections: never their secrets.
      Object.assign(common, {
        WDT_GATEWAY: this.options.wdt?.gateway ?? 'native',
        WDT_BASE_URL: this.wdtUrl,
        WDT_SID: SANDBOX_CREDENTIALS.wdt.sid,
        WDT_APPKEY: SANDBOX_CREDENTIALS.wdt.appkey,
        ...(this.options.wdt?.gateway === 'qimen'
          ? {
              WDT_QIMEN_URL: `${this.wdtUrl}/router/qm`,
              WDT_QIMEN_APP_KEY: SANDBOX_CREDENTIALS.wdt.qimenAppKey,
              WDT_QIMEN_TARGET_APP_KEY: SANDBOX_CREDENTIALS.wdt.qimenTargetAppKey,
            }
          : {}),
        KINGDEE_SERVER_URL: `${this.kingdeeUrl}/k3cloud/`,
        KINGDEE_AUTH_MODE: 'sign',
        KINGDEE_ACCT_ID: SANDBOX_CREDENTIALS.kingdee.acctId,
        KINGDEE_USERNAME: SANDBOX_CREDENTIALS.kingdee.username,
        KINGDEE_APP_ID: SANDBOX_CREDENTIALS.kingdee.appId,
        ...this.options.env,
      });
    }
    return { ...common, ...(this.options.serviceEnv?.[service] ?? {}) };
  }

  /** The run's connections file (multi-shop runs), written when the sandboxes start. */
  get connectionsFile(): string {
    return join(this.logDir, 'connections.yaml');
  }

  private nodeFlags(service: StackService): string[] {
    return [...serviceNodeFlags(service), ...(this.options.nodeFlags ?? [])];
  }

  private add(
    name: string,
    script: string,
    env: Record<string, string>,
    readyPath: string,
    nodeFlags: string[] = [],
  ): ManagedProcess {
    const proc = new ManagedProcess({
      name,
      script: join(this.options.root, script),
      nodeFlags,
      env,
      logFile: join(this.logDir, `${name}.log`),
      readyUrl: `${this.url(name)}${readyPath}`,
    });
    this.processes.set(name, proc);
    return proc;
  }

  async startSandboxes(): Promise<void> {
    for (const name of ['wdt-sandbox', 'kingdee-sandbox']) this.ports.set(name, await freePort());
    const wdt = this.add(
      'wdt-sandbox',
      'dist/apps/wdt-sandbox/src/main.js',
      {
        WDT_SANDBOX_PORT: String(this.ports.get('wdt-sandbox')),
        WDT_SANDBOX_SID: SANDBOX_CREDENTIALS.wdt.sid,
        WDT_SANDBOX_APPKEY: SANDBOX_CREDENTIALS.wdt.appkey,
        WDT_SANDBOX_APPSECRET: SANDBOX_CREDENTIALS.wdt.appsecret,
        WDT_SANDBOX_QIMEN_APPKEY: SANDBOX_CREDENTIALS.wdt.qimenAppKey,
        WDT_SANDBOX_QIMEN_SECRET: SANDBOX_CREDENTIALS.wdt.qimenSecret,
        WDT_SANDBOX_QIMEN_TARGET_APPKEY: SANDBOX_CREDENTIALS.wdt.qimenTargetAppKey,
        WDT_SANDBOX_SEED_COUNT: String(this.options.wdt?.seedCount ?? 0),
        ...(this.options.connections
          ? {
              WDT_SANDBOX_ACCOUNTS: JSON.stringify(
                this.options.connections.shops.map((shop) => ({
                  sid: shop.sid,
                  ...shopCredentials(shop),
                  seedCount: shop.seedCount ?? 0,
                })),
              ),
            }
          : {}),
        LOG_LEVEL: 'warn',
      },
      '/admin/health',
    );
    const kingdee = this.add(
      'kingdee-sandbox',
      'dist/apps/kingdee-sandbox/src/main.js',
      {
        KINGDEE_SANDBOX_PORT: String(this.ports.get('kingdee-sandbox')),
        KINGDEE_SANDBOX_ACCT_ID: SANDBOX_CREDENTIALS.kingdee.acctId,
        KINGDEE_SANDBOX_USERNAME: SANDBOX_CREDENTIALS.kingdee.username,
        KINGDEE_SANDBOX_APP_ID: SANDBOX_CREDENTIALS.kingdee.appId,
        KINGDEE_SANDBOX_APP_SECRET: SANDBOX_CREDENTIALS.kingdee.appSecret,
        ...(this.options.kingdee?.switches
          ? { KINGDEE_SANDBOX_SWITCHES: JSON.stringify(this.options.kingdee.switches) }
          : {}),
        ...(this.options.kingdee?.knobs
          ? { KINGDEE_SANDBOX_KNOBS: JSON.stringify(this.options.kingdee.knobs) }
          : {}),
        ...(this.options.connections
          ? {
              KINGDEE_SANDBOX_ACCOUNTS: JSON.stringify(
                this.options.connections.accounts.map((a) => ({
                  acctId: a.acctId,
                  ...(a.orgs ? { baseData: { orgs: a.orgs } } : {}),
                })),
              ),
            }
          : {}),
        LOG_LEVEL: 'warn',
      },
      '/admin/health',
    );
    wdt.start();
    kingdee.start();
    await Promise.all([wdt.waitReady(), kingdee.waitReady()]);
    const multi = this.options.connections;
    if (multi) {
      // Each app key's limit is the real one here (the sandbox answers "too frequent" above it), so a
      // client that overshoots shows in the sandbox's per-app-key counters.
      await this.wdtAdmin('PATCH', '/knobs', {
        callsPerMinute: 0,
        appKeyCallsPerMinute: multi.callsPerMinute ?? 60,
        ...(this.options.wdt?.knobs ?? {}),
      });
      mkdirSync(this.logDir, { recursive: true });
      writeFileSync(
        this.connectionsFile,
        stackConnectionsFile(multi, { wdt: this.wdtUrl, kingdee: this.kingdeeUrl }).yaml,
      );
      return;
    }
    // The extractor's own limiter (WDT_CALLS_PER_MINUTE below) is what paces calls in the demo.
    await this.wdtAdmin('PATCH', '/knobs', { callsPerMinute: 600, ...(this.options.wdt?.knobs ?? {}) });
  }

  async startServices(services: StackService[] = this.options.services ?? PIPELINE_SERVICES): Promise<void> {
    for (const s of services) if (!this.ports.has(s)) this.ports.set(s, await freePort());
    const procs = services.map((s) =>
      this.add(s, `dist/apps/${s}/src/main.js`, this.serviceEnv(s), '/ready', this.nodeFlags(s)),
    );
    for (const p of procs) p.start();
    await Promise.all(procs.map((p) => p.waitReady(90_000)));
  }

  /** Starts another replica of a service (same group, own port), named e.g. `loader-2`. */
  async startReplica(service: StackService, name: string): Promise<ManagedProcess> {
    this.ports.set(name, await freePort());
    const proc = this.add(
      name,
      `dist/apps/${service}/src/main.js`,
      {
        ...this.serviceEnv(service),
        HTTP_PORT: String(this.ports.get(name)),
      },
      '/ready',
      this.nodeFlags(service),
    );
    proc.start();
    await proc.waitReady(90_000);
    return proc;
  }

  async restart(service: StackService, how: 'graceful' | 'kill' = 'graceful'): Promise<void> {
    const proc = this.processes.get(service);
    if (!proc) throw new Error(`${service} is not part of this stack`);
    if (how === 'kill') await proc.kill();
    else await proc.stop();
    proc.start();
    await proc.waitReady(90_000);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- sandbox admin replies are read ad hoc
  async wdtAdmin(method: string, path: string, body?: unknown): Promise<any> {
    return adminCall(`${this.wdtUrl}/admin${path}`, method, body);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- sandbox admin replies are read ad hoc
  async kingdeeAdmin(method: string, path: string, body?: unknown): Promise<any> {
    return adminCall(`${this.kingdeeUrl}/admin${path}`, method, body);
  }

  /** Stops services first (so they finish in-flight work), sandboxes last. */
  async stop(): Promise<void> {
    const order = [...PIPELINE_SERVICES, 'operator', 'wdt-sandbox', 'kingdee-sandbox'];
    const replicas = [...this.processes.keys()].filter((n) => !order.includes(n));
    for (const name of [...replicas, ...order]) await this.processes.get(name)?.stop();
  }

  /** Removes this run's topics and schema. */
  /**
   * A connection pool on this run's schema, for a test or a demo to read what the services wrote;
   * closed by `cleanup()` (or earlier by its caller).
   */
  async openDataSource(poolSize = 2): Promise<DataSource> {
    const ds = await initializeDataSource(
      createDataSource({ url: this.options.databaseUrl, schema: this.schema, poolSize }),
      this.options.databaseUrl,
    );
    this.dataSources.push(ds);
    return ds;
  }

  async cleanup(): Promise<void> {
    for (const ds of this.dataSources.splice(0)) if (ds.isInitialized) await ds.destroy();
    const kafka = createKafka({ brokers: this.options.brokers, clientId: `stack-${this.runId}` });
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(this.topics) }).catch(() => undefined);
    await admin.disconnect();
    const ds = await initializeDataSource(
      createDataSource({ url: this.options.databaseUrl, poolSize: 1 }),
      this.options.databaseUrl,
    );
    await ds.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`).catch(() => undefined);
    await ds.destroy();
  }
}

async function adminCall(url: string, method: string, body?: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}
