import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pino from 'pino';
import { formatShanghai } from '@libs/common';
import { decodeEvent, DeadLetterEnvelopeSchema, RawStockoutEvent } from '@libs/contracts';
import { LeaderLease } from '@libs/extraction';
import { loadSchemeFile } from '@libs/scheme';
import { ExtractorModule } from '../../apps/extractor/src/app.module';
import { KingdeeSandbox, startKingdeeSandbox } from '../../apps/kingdee-sandbox/src';
import { LoaderModule } from '../../apps/loader/src/app.module';
import { OperatorAppModule } from '../../apps/operator/src/app.module';
import { TransformerModule } from '../../apps/transformer/src/app.module';
import { startWdtSandbox, WdtSandbox } from '../../apps/wdt-sandbox/src';
import { documentFor, wdtRecord } from '../loader/loader-harness';
import { createTestEnv, eventually, readAll, TestEnv } from '../support/test-env';
import { startKafkaTransport } from '@libs/runtime';

/**
 * Operations: leadership per deployment, standby visibility, credential failures where operators
 * look (/api/schemes, /ready, /metrics), CONSUMER_MAX_ATTEMPTS, pause parking at every stage and a
 * lag gauge that does not depend on progress. Services run in this process (as Nest apps with their
 * production modules) on the real broker, real Postgres and the sandboxes over HTTP.
 */

const SCHEME = `ops-${randomBytes(3).toString('hex')}`;
const TOKEN = 'ops-operator-token-0123456789';
const WRONG = 'wrong-secret-0000000000';

/** Value of the first sample `name{labels…} value` whose labels include all of `labels`. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => m[2].includes(`${k}="${v}"`))) return Number(m[3]);
  }
  return undefined;
}

/** Sum of every sample of `name` whose labels include all of `labels`. */
function sum(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => m[2].includes(`${k}="${v}"`))) total += Number(m[3]);
  }
  return total;
}

/**
 * Info lines of every pino logger in this process (services run in-process here), kept for
 * assertions and not printed; warnings and errors are written as usual. pino's write method sits on
 * a prototype all its loggers share.
 */
function captureInfoLogs(): { lines: Array<Record<string, unknown>>; restore: () => void } {
  const write = pino.symbols.writeSym;
  let proto: object | null = pino({ enabled: false });
  while (proto && !Object.prototype.hasOwnProperty.call(proto, write)) proto = Object.getPrototypeOf(proto);
  if (!proto) throw new Error('pino write method not found');
  const shared = proto as Record<symbol, (obj: unknown, msg: unknown, num: number) => void>;
  const original = shared[write];
  const lines: Array<Record<string, unknown>> = [];
  shared[write] = function (this: unknown, obj: unknown, msg: unknown, num: number) {
    if (num >= 40) return original.call(this, obj, msg, num);
    lines.push({ ...(typeof obj === 'object' && obj !== null ? obj : {}), msg });
  };
  return { lines, restore: () => void (shared[write] = original) };
}

interface App {
  app: INestApplication;
  base: string;
}

/** A service as production wires it; its module reads `env` from process.env, as in production. */
async function boot(module: () => DynamicModule, env: Record<string, string>): Promise<App> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  let app: INestApplication;
  try {
    app = await NestFactory.create(module(), { logger: false });
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
  // As production starts it: the Kafka transport (its @EventPattern handlers) after the bootstrap hooks.
  await startKafkaTransport(app);
  await app.listen(0, '127.0.0.1');
  return { app, base: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}` };
}

async function get(base: string, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: await res.text() };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- operator replies are read field by field
async function schemeItem(operator: App): Promise<any> {
  const { status, body } = await get(operator.base, '/api/schemes');
  expect(status).toBe(200);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (JSON.parse(body).items as any[]).find((i) => i.id === SCHEME);
}

describe('operations: leadership, credentials, attempts, pause and lag', () => {
  let a: TestEnv; // deployment A
  let b: TestEnv; // deployment B: another schema of the same database
  let wdt: WdtSandbox;
  let kingdee: KingdeeSandbox;
  let schemesDir: string;
  const apps: App[] = [];
  let operatorA: App;
  let operatorB: App;
  let extractorA: App;

  const start = async (module: () => DynamicModule, env: Record<string, string>) => {
    const started = await boot(module, env);
    apps.push(started);
    return started;
  };
  const close = async (app: App) => {
    apps.splice(apps.indexOf(app), 1);
    await app.app.close();
  };
  const extractorEnv = (t: TestEnv, secret = wdt.account.appsecret) => ({
    ...t.env,
    SCHEMES_DIR: schemesDir,
    WDT_GATEWAY: 'native',
    WDT_BASE_URL: wdt.url,
    WDT_SID: wdt.account.sid,
    WDT_APPKEY: wdt.account.appkey,
    WDT_APPSECRET: secret,
    WDT_CALLS_PER_MINUTE: '6000',
    WDT_MAX_ATTEMPTS: '2',
  });
  const loaderEnv = (t: TestEnv, secret: string) => ({
    ...t.env,
    SCHEMES_DIR: schemesDir,
    KAFKA_GROUP_ID: `ops-loader-${t.suffix}`,
    KINGDEE_SERVER_URL: kingdee.url,
    KINGDEE_AUTH_MODE: 'sign',
    KINGDEE_ACCT_ID: kingdee.credentials.acctId,
    KINGDEE_USERNAME: kingdee.credentials.username,
    KINGDEE_APP_ID: kingdee.credentials.appId,
    KINGDEE_APP_SECRET: secret,
    KINGDEE_SESSIONS: '1',
    KINGDEE_TIMEOUT_MS: '30000',
    KINGDEE_SERVER_EXECUTION_TIMEOUT_MS: '1000',
    LOADER_LEASE_MS: '4000',
    LOADER_LEASE_SKEW_MS: '500',
    LOADER_SETTLE_POLL_MS: '250',
    LOADER_LINGER_MS: '50',
    LOADER_SHUTDOWN_GRACE_MS: '2000',
    CONSUMER_LAG_INTERVAL_MS: '300',
  });
  const operatorEnv = (t: TestEnv) => ({
    ...t.env,
    SCHEMES_DIR: schemesDir,
    OPERATOR_TOKENS: `ops:operator:${TOKEN}`,
  });

  beforeAll(async () => {
    [a, b] = await Promise.all([createTestEnv('opsa'), createTestEnv('opsb')]);
    wdt = await startWdtSandbox({ port: 0, knobs: { callsPerMinute: 0 } });
    kingdee = await startKingdeeSandbox({ port: 0 });
    const now = Date.now();
    await fetch(`${wdt.url}/admin/orders/seed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        count: 6,
        seed: 7,
        from: formatShanghai(now - 2 * 86_400_000),
        to: formatShanghai(now - 3_600_000),
        statusWeights: { '110': 1 },
      }),
    });
    // The shipped scheme under a test id, polling every second.
    schemesDir = mkdtempSync(join(tmpdir(), 'ops-schemes-'));
    const shipped = readFileSync('schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml', 'utf8');
    writeFileSync(
      join(schemesDir, `${SCHEME}.yaml`),
      shipped
        .replace(/^id: .*$/m, `id: ${SCHEME}`)
        .replace(/pollInterval: .*$/m, 'pollInterval: 1s')
        .replace(/^(\s+)cron: '30 2 \* \* \*'$/m, "$1cron: '30 2 1 1 *'"),
    );
    operatorA = await start(() => OperatorAppModule.create(operatorEnv(a)), {});
    operatorB = await start(() => OperatorAppModule.create(operatorEnv(b)), {});
  });

  afterAll(async () => {
    for (const app of apps.splice(0).reverse()) await app.app.close().catch(() => undefined);
    await wdt?.close();
    await kingdee?.close();
    await Promise.all([a?.cleanup(), b?.cleanup()]);
    if (schemesDir) rmSync(schemesDir, { recursive: true, force: true });
  });

  it('a standby replica (another replica of the deployment leads) shows as standby in /api/schemes and /metrics and stays ready', async () => {
    // Another replica of deployment A holds the scheme's lease.
    const other = new LeaderLease(a.ds, `extractor:${SCHEME}`);
    expect(await other.tryAcquire()).toBe(true);
    const logs = captureInfoLogs();
    const roleLines = (role: string) => logs.lines.filter((l) => l.scheme === SCHEME && l.role === role);
    try {
      extractorA = await start(() => ExtractorModule.create(), { ...extractorEnv(a), LOG_LEVEL: 'info' });
      const standby = await eventually('standby in /api/schemes', async () => {
        const item = await schemeItem(operatorA);
        return item?.extractor?.role === 'standby' ? item : undefined;
      });
      expect(standby.extractor.since).toEqual(expect.any(String));
      const metrics = (await get(extractorA.base, '/metrics')).body;
      expect(sample(metrics, 'extractor_leader', { scheme: SCHEME })).toBe(0);
      const ready = await get(extractorA.base, '/ready');
      expect([ready.status, JSON.parse(ready.body).status]).toEqual([200, 'ready']);
      expect(await a.topicSize(a.topics.rawStockout)).toBe(0);

      // The other replica goes: this one takes over and says so.
      await other.release();
      await eventually(
        'leader in /api/schemes',
        async () => (await schemeItem(operatorA))?.extractor?.role === 'leader',
      );
      await eventually(
        'extractor_leader 1',
        async () =>
          sample((await get(extractorA.base, '/metrics')).body, 'extractor_leader', { scheme: SCHEME }) === 1,
      );
      // The log says so, once per transition.
      expect(roleLines('standby').map((l) => l.msg)).toEqual([
        'extractor stands by: another replica of this deployment leads the scheme',
      ]);
      await eventually('the leader log line', async () => roleLines('leader').length > 0);
      expect(roleLines('leader').map((l) => l.msg)).toEqual(['extractor leads the scheme: polling WDT']);
    } finally {
      logs.restore();
    }
  });

  it('two deployments in two schemas of one database both poll', async () => {
    const extractorB = await start(() => ExtractorModule.create(), extractorEnv(b));
    await eventually(
      'records from both deployments',
      async () =>
        (await a.topicSize(a.topics.rawStockout)) >= 6 && (await b.topicSize(b.topics.rawStockout)) >= 6,
      30_000,
    );
    expect((await schemeItem(operatorB)).extractor.role).toBe('leader');
    await close(extractorB);
  });

  it('a wrong WDT secret shows in /api/schemes (system and code, no secret), makes /ready 503 and counts as a failure; a good call makes it ready again', async () => {
    const good = wdt.account.appsecret;
    wdt.account.appsecret = WRONG; // WDT no longer accepts the deployment's secret
    try {
      const failed = await eventually(
        'WDT auth error in /api/schemes',
        async () => {
          const item = await schemeItem(operatorA);
          return typeof item?.lastError === 'string' && /WDT/.test(item.lastError) ? item : undefined;
        },
        30_000,
      );
      expect(failed.lastError).toMatch(/auth/i);
      expect(failed.lastError).toMatch(/code/);
      expect(failed.lastError).not.toContain(good);
      const ready = await get(extractorA.base, '/ready');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatch(/WDT/);
      expect(ready.body).not.toContain(good);
      const metrics = (await get(extractorA.base, '/metrics')).body;
      expect(sum(metrics, 'wdt_api_request_duration_seconds_count', { outcome: 'auth' })).toBeGreaterThan(0);
      expect(sum(metrics, 'pipeline_errors_total', { stage: 'extractor' })).toBeGreaterThan(0);
    } finally {
      wdt.account.appsecret = good;
    }
    await eventually(
      'extractor ready again',
      async () => (await get(extractorA.base, '/ready')).status === 200,
      60_000,
    );
    await eventually(
      'lastError cleared',
      async () => (await schemeItem(operatorA)).lastError === null,
      30_000,
    );
  });

  it('CONSUMER_MAX_ATTEMPTS=N: a message that fails every time is dead-lettered after N attempts; the rest of its batch goes on', async () => {
    const transformer = await start(() => TransformerModule.create(), {
      ...a.env,
      SCHEMES_DIR: schemesDir,
      KAFKA_GROUP_ID: `ops-transformer-${a.suffix}`,
      CONSUMER_MAX_ATTEMPTS: '3',
    });
    const raw = (orderNo: string): RawStockoutEvent => ({
      eventType: 'wdt.stockout-return.raw',
      schemaVersion: 1,
      eventId: randomUUID(),
      schemeId: SCHEME,
      source: { system: 'wdt', sid: 'sid', gateway: 'native', method: 'wdt.stockout.order.query.return' },
      orderNo,
      extractedAt: new Date().toISOString(),
      sourceWindow: { axis: 'consign_time', start: '2026-11-28 00:00:00', end: '2026-11-28 02:00:00' },
      fingerprint: randomUUID(),
      trigger: 'poll',
      record: wdtRecord(orderNo),
    });
    // An order number Postgres cannot store (NUL): every attempt at this message fails.
    const poison = raw('CT-OPS-\u0000-1');
    const fine = raw('CT-OPS-FINE-1');
    const producer = a.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: a.topics.rawStockout,
      acks: -1,
      messages: [
        { key: 'CT-OPS-POISON', value: JSON.stringify(poison), partition: 0 },
        { key: fine.orderNo, value: JSON.stringify(fine), partition: 0 },
      ],
    });
    await producer.disconnect();
    const letters = await readAll(a, a.topics.deadLetter, 1, 60_000);
    const envelope = letters
      .map((m) => decodeEvent(DeadLetterEnvelopeSchema, m.value, 'dead letter'))
      .find((e) => e.origin.key === 'CT-OPS-POISON');
    expect(envelope).toMatchObject({ stage: 'transformer', attempts: 3 });
    const docs = await readAll(a, a.topics.kingdeeDocument, 1, 30_000);
    expect(docs.some((d) => d.key === fine.orderNo)).toBe(true);
    await close(transformer);
  });

  describe('loader (deployment B)', () => {
    let loader: App;
    const scheme = () => ({ ...loadSchemeFile(join(schemesDir, `${SCHEME}.yaml`)) });
    const send = async (orderNos: string[]) => {
      const producer = b.kafka.producer();
      await producer.connect();
      await producer.send({
        topic: b.topics.kingdeeDocument,
        acks: -1,
        messages: orderNos.map((no) => ({
          key: no,
          value: JSON.stringify(documentFor(scheme(), wdtRecord(no))),
        })),
      });
      await producer.disconnect();
    };
    const bills = (prefix: string) =>
      kingdee.store.all().filter((bill) => (bill.suppliedBillNo ?? '').startsWith(prefix));

    it('reports a wrong Kingdee secret at start, before any document: log, /api/schemes lastError, /ready 503, failed-login metric; ready once a login succeeds', async () => {
      expect(await b.topicSize(b.topics.kingdeeDocument)).toBe(0);
      loader = await start(() => LoaderModule.create(), loaderEnv(b, WRONG));
      const ready = await get(loader.base, '/ready');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatch(/Kingdee/);
      expect(ready.body).not.toContain(WRONG);
      const item = await eventually('Kingdee auth error in /api/schemes', async () => {
        const i = await schemeItem(operatorB);
        return typeof i?.lastError === 'string' && /Kingdee/.test(i.lastError) ? i : undefined;
      });
      expect(item.lastError).toMatch(/KD_LOGIN_FAILED/);
      expect(item.lastError).not.toContain(WRONG);
      const metrics = (await get(loader.base, '/metrics')).body;
      expect(sum(metrics, 'kingdee_api_request_duration_seconds_count', { outcome: 'auth' })).toBeGreaterThan(
        0,
      );
      expect(metrics).not.toMatch(/kingdee_api_request_duration_seconds_count\{[^}]*Login[^}]*outcome="ok"/);

      // Kingdee now accepts the deployment's secret: the loader's next login succeeds.
      const good = kingdee.credentials.appSecret;
      kingdee.credentials.appSecret = WRONG;
      try {
        await eventually(
          'loader ready',
          async () => (await get(loader.base, '/ready')).status === 200,
          30_000,
        );
        await eventually('lastError cleared', async () => (await schemeItem(operatorB)).lastError === null);
      } catch (err) {
        kingdee.credentials.appSecret = good;
        throw err;
      }
    });

    it("a paused scheme's documents wait (parked, no bill) and load after resume", async () => {
      const pause = await fetch(`${operatorB.base}/api/schemes/${SCHEME}/pause`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(pause.status).toBe(200);
      // Every stage sees the pause within a second (SchemeHolds).
      await new Promise((r) => setTimeout(r, 1500));
      const orders = ['PZ-1', 'PZ-2', 'PZ-3'].map((o) => `${o}-${b.suffix.slice(-6)}`);
      await send(orders);
      await eventually('documents parked', async () => {
        const [row] = await b.ds.query(
          `SELECT count(*)::int AS n FROM parked_messages WHERE stage = 'loader' AND scheme_id = $1`,
          [SCHEME],
        );
        return row.n >= orders.length;
      });
      expect(bills('PZ-')).toHaveLength(0);
      const resume = await fetch(`${operatorB.base}/api/schemes/${SCHEME}/resume`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(resume.status).toBe(200);
      await eventually('bills after resume', async () => bills('PZ-').length === orders.length, 30_000);
    });

    it('the consumer-lag gauge keeps rising while the loader is stuck mid-batch', async () => {
      const lagOf = async () =>
        sum((await get(loader.base, '/metrics')).body, 'kafka_consumer_lag', {
          group: `ops-loader-${b.suffix}`,
          topic: b.topics.kingdeeDocument,
        });
      kingdee.setKnobs({ latencyMs: 20_000 });
      try {
        await send([`LAG-0-${b.suffix.slice(-6)}`]);
        await eventually('a call held by Kingdee', async () => kingdee.stats.snapshot().inFlight > 0, 10_000);
        await send(Array.from({ length: 5 }, (_, i) => `LAG-${i + 1}-${b.suffix.slice(-6)}`));
        await eventually('lag ≥ 5 while stuck', async () => (await lagOf()) >= 5, 10_000);
      } finally {
        kingdee.setKnobs({ latencyMs: 0 });
      }
    });
  });
});
