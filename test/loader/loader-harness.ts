import { loadConnections } from '@libs/connections';
import { createHash, randomUUID } from 'node:crypto';
import { AppLogger, silentLogger } from '@libs/common';
import { createLogger } from '@libs/runtime';
import { loadServiceConfig } from '@libs/config';
import { AuditEvent, AuditEventSchema, decodeEvent, KingdeeDocument } from '@libs/contracts';
import { ConsumedMessage, EventProducer } from '@libs/kafka';
import { KingdeeSessionPool } from '@libs/kingdee-client';
import {
  CircuitStateName,
  ClaimState,
  ClaimStore,
  ConnectionCircuit,
  createLoaderEngine,
  KingdeeConnection,
  LoadContext,
  LoaderEngine,
  LoadProcessor,
  Settler,
} from '@libs/loading';
import { compileScheme } from '@libs/mapping';
import { loadSchemeFile, Scheme } from '@libs/scheme';
import { KingdeeSandbox, startKingdeeSandbox } from '../../apps/kingdee-sandbox/src';
import { createTestEnv, eventually, readAll, TestEnv } from '../support/test-env';

export const SHIPPED = loadSchemeFile('schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml');

export function schemeVariant(id: string, patch: (s: Scheme) => Scheme = (s) => s): Scheme {
  return patch({ ...SHIPPED, id });
}

/** The shipped scheme with the idempotency key in FDESCRIPTION (for accounts with a numbering rule). */
export function descriptionKeyed(id: string, patch: (s: Scheme) => Scheme = (s) => s): Scheme {
  return schemeVariant(id, (s) =>
    patch({
      ...s,
      target: { ...s.target, idempotencyKey: { field: 'FDESCRIPTION', source: '{{order_no}}' } },
      mapping: {
        ...s.mapping,
        header: {
          ...s.mapping.header,
          FDESCRIPTION: { template: '{{order_no}}', type: 'string', required: true },
        },
      },
    }),
  );
}

/** A WDT-like record with the fields the shipped mapping reads. */
export function wdtRecord(
  orderNo: string,
  opts: { spec?: string; qty?: string; remark?: string; provider?: string } = {},
): Record<string, unknown> {
  return {
    stockout_id: String(Math.floor(Math.random() * 1e9)),
    order_no: orderNo,
    status: '110',
    consign_time: '2026-11-28 01:30:00',
    modified: '2026-11-28 01:31:07',
    warehouse_no: 'SH01',
    provider_no: opts.provider ?? 'GYS001',
    remark: opts.remark ?? '',
    details_list: [
      { rec_id: '1', spec_no: opts.spec ?? 'BWB-500-W', goods_count: opts.qty ?? '2.0000' },
      { rec_id: '2', spec_no: 'FH-L', goods_count: '0.5000' },
    ],
  };
}

/** What the transformer would emit for `record` under `scheme`. */
export function documentFor(scheme: Scheme, record: Record<string, unknown>): KingdeeDocument {
  const result = compileScheme(scheme).mapSync(record);
  if (result.outcome !== 'document') throw new Error(`record skipped: ${result.reason}`);
  return {
    eventType: 'kingdee.document',
    schemaVersion: 1,
    eventId: randomUUID(),
    schemeId: scheme.id,
    sourceKey: String(record.order_no),
    billKey: result.billKey,
    idempotencyField: scheme.target.idempotencyKey.field,
    formId: scheme.target.formId,
    correlationId: String(record.order_no),
    sourceEventId: randomUUID(),
    sourceFingerprint: 'fp',
    contentHash: createHash('sha256').update(JSON.stringify(result.model)).digest('hex'),
    transformedAt: new Date().toISOString(),
    model: result.model,
  };
}

export function docs(scheme: Scheme, prefix: string, n: number): KingdeeDocument[] {
  return Array.from({ length: n }, (_, i) => documentFor(scheme, wdtRecord(`${prefix}-${i + 1}`)));
}

let offset = 0;
export function asMessages(list: KingdeeDocument[], partition = 0): ConsumedMessage[] {
  return list.map((d) => ({
    topic: 'docs',
    partition,
    offset: String(offset++),
    key: d.sourceKey,
    value: Buffer.from(JSON.stringify(d)),
    headers: {},
    timestamp: '0',
  }));
}

export const running: LoadContext = { isRunning: () => true, signal: new AbortController().signal };

/** Timings short enough for CI: client timeout 3 s, server execution 9 s → settle window 12 s. */
export const TEST_TIMINGS = {
  KINGDEE_TIMEOUT_MS: '3000',
  KINGDEE_SERVER_EXECUTION_TIMEOUT_MS: '9000',
  LOADER_LEASE_MS: '4000',
  LOADER_LEASE_SKEW_MS: '500',
  LOADER_SETTLE_POLL_MS: '250',
};

export interface RigOptions {
  owner?: string;
  sessions?: number;
  env?: Record<string, string>;
  /** One Kingdee connection per scheme (default: every scheme on `sandbox`). */
  sandboxFor?: (scheme: Scheme) => KingdeeSandbox;
  /** Run the settler's loop and the lease renewals (default true; false = drive `settle()` by hand). */
  background?: boolean;
  /** Replaces the Postgres claim store (e.g. one that dies mid-way). */
  claims?: ClaimStore;
}

export interface LoaderRig {
  engine: LoaderEngine;
  processor: LoadProcessor;
  settler: Settler;
  circuitStates: Map<string, CircuitStateName[]>;
  load(list: KingdeeDocument[], ctx?: LoadContext): Promise<void>;
  /** Runs settler rounds until `done` holds (or fails after `timeoutMs`). */
  settleUntil(what: string, done: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
  /** Runs settler rounds until every document's claim is `loaded`. */
  settleLoaded(list: KingdeeDocument[], timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A loader engine as the service wires it (validated config, real Postgres claims, audit on the real
 * broker, Kingdee sandboxes over HTTP), with the test timings above.
 */
export async function loaderRig(
  t: TestEnv,
  producer: EventProducer,
  sandbox: KingdeeSandbox,
  schemes: Scheme[],
  opts: RigOptions = {},
): Promise<LoaderRig> {
  const env = {
    APP_MODE: 'sandbox',
    KAFKA_BROKERS: t.brokers.join(','),
    DATABASE_URL: t.databaseUrl,
    DATABASE_SCHEMA: t.schema,
    KINGDEE_SERVER_URL: sandbox.url,
    KINGDEE_AUTH_MODE: 'sign',
    KINGDEE_ACCT_ID: sandbox.credentials.acctId,
    KINGDEE_USERNAME: sandbox.credentials.username,
    KINGDEE_APP_ID: sandbox.credentials.appId,
    KINGDEE_APP_SECRET: sandbox.credentials.appSecret,
    KINGDEE_SESSIONS: String(opts.sessions ?? 2),
    ...TEST_TIMINGS,
    ...opts.env,
  };
  const config = loadServiceConfig('loader', env);
  const registry = loadConnections({ env, kinds: ['kingdee'] });
  const circuitStates = new Map<string, CircuitStateName[]>();
  const connections = new Map<KingdeeSandbox, KingdeeConnection>();
  const connectionOf = (sb: KingdeeSandbox, id: string): KingdeeConnection => {
    let c = connections.get(sb);
    if (!c) {
      circuitStates.set(id, []);
      c = {
        id,
        api: new KingdeeSessionPool({
          serverUrl: sb.url,
          acctId: sb.credentials.acctId,
          username: sb.credentials.username,
          appId: sb.credentials.appId,
          appSecret: sb.credentials.appSecret,
          authMode: 'sign',
          sessions: opts.sessions ?? 2,
          timeoutMs: config.KINGDEE_TIMEOUT_MS,
        }),
        circuit: new ConnectionCircuit(id, {
          threshold: 3,
          halfOpenAfterMs: 500,
          onStateChange: (s) => circuitStates.get(id)?.push(s),
        }),
      };
      connections.set(sb, c);
    }
    return c;
  };
  const engine = createLoaderEngine({
    config,
    registry,
    ds: t.ds,
    producer,
    topics: t.topics,
    schemes: new Map(schemes.map((s) => [s.id, s])),
    owner: opts.owner ?? `replica-${randomUUID().slice(0, 8)}`,
    logger: testLogger(),
    connections: (scheme) => {
      const sb = opts.sandboxFor?.(scheme) ?? sandbox;
      return connectionOf(sb, sb === sandbox ? 'default' : `connection-${connections.size}`);
    },
    claims: opts.claims,
  });
  if (opts.background ?? true) await engine.start();
  else await engine.holds.start();
  const rig: LoaderRig = {
    engine,
    processor: engine.processor,
    settler: engine.settler,
    circuitStates,
    load: (list, ctx = running) => engine.processor.handle(asMessages(list), ctx),
    settleUntil: async (what, done, timeoutMs = 60_000) => {
      await eventually(
        what,
        async () => {
          if (!(opts.background ?? true)) await engine.settler.runOnce();
          await engine.holds.refresh();
          return done();
        },
        timeoutMs,
      );
    },
    settleLoaded: async (list, timeoutMs = 60_000) => {
      const bySchemes = new Map<string, string[]>();
      for (const d of list) bySchemes.set(d.schemeId, [...(bySchemes.get(d.schemeId) ?? []), d.billKey]);
      await rig.settleUntil(
        `${list.length} bills loaded`,
        async () => {
          for (const [schemeId, keys] of bySchemes)
            if (!(await allIn(t, schemeId, keys, ['loaded']))) return false;
          return true;
        },
        timeoutMs,
      );
    },
    stop: async () => {
      if (opts.background ?? true) await engine.stop();
      else engine.holds.stop();
    },
  };
  return rig;
}

export interface LoaderFixtures {
  readonly t: TestEnv;
  readonly sandbox: KingdeeSandbox;
  readonly producer: EventProducer;
  /** A loader rig on the file's sandbox, stopped after the test. */
  rig(schemes: Scheme[], opts?: RigOptions): Promise<LoaderRig>;
}

/**
 * One test file's loader fixtures (call inside its describe): isolated topics and schema, a Kingdee
 * sandbox reset before each test, a producer, and rigs stopped after each test.
 */
export function loaderFixtures(label: string): LoaderFixtures {
  let t: TestEnv;
  let sandbox: KingdeeSandbox;
  let producer: EventProducer;
  const rigs: LoaderRig[] = [];
  beforeAll(async () => {
    t = await createTestEnv(label);
    sandbox = await startKingdeeSandbox({ port: 0 });
    producer = new EventProducer(t.kafka, 1_048_576);
    await producer.connect();
  });
  beforeEach(() => sandbox.reset({ bills: true, sessions: true, stats: true, knobs: true, switches: true }));
  afterEach(async () => {
    for (const r of rigs.splice(0)) await r.stop();
  });
  afterAll(async () => {
    await producer.disconnect();
    await sandbox.close();
    await t.cleanup();
  });
  return {
    get t() {
      return t;
    },
    get sandbox() {
      return sandbox;
    },
    get producer() {
      return producer;
    },
    rig: async (schemes, opts) => {
      const r = await loaderRig(t, producer, sandbox, schemes, opts);
      rigs.push(r);
      return r;
    },
  };
}

/** Silent unless LOADER_TEST_LOG names a level (debugging a failing test). */
function testLogger(): AppLogger {
  const level = process.env.LOADER_TEST_LOG;
  return level ? createLogger('loader-test', level) : silentLogger;
}

/** Claim states of a scheme's bills. */
export async function claimStates(t: TestEnv, schemeId: string): Promise<Map<string, ClaimState>> {
  const rows: Array<{ bill_key: string; state: ClaimState }> = await t.ds.query(
    `SELECT bill_key, state FROM bill_claims WHERE scheme_id = $1`,
    [schemeId],
  );
  return new Map(rows.map((r) => [r.bill_key, r.state]));
}

/** True when every key has one of the given states. */
export async function allIn(
  t: TestEnv,
  schemeId: string,
  keys: string[],
  states: ClaimState[],
): Promise<boolean> {
  const s = await claimStates(t, schemeId);
  return keys.every((k) => states.includes(s.get(k) as ClaimState));
}

/** Audit events of one scheme currently on the audit topic. */
export async function auditsOf(t: TestEnv, schemeId: string, atLeast: number): Promise<AuditEvent[]> {
  const read = async () =>
    (await readAll(t, t.topics.audit, 1))
      .map((m) => decodeEvent(AuditEventSchema, m.value, 'audit'))
      .filter((e) => e.schemeId === schemeId);
  let events = await read();
  if (events.length < atLeast) {
    await new Promise((r) => setTimeout(r, 1000));
    events = await read();
  }
  return events;
}

/** The last status per order on the audit topic (as the audit trail would show it). */
export async function lastStatus(
  t: TestEnv,
  schemeId: string,
  atLeast = 1,
): Promise<Map<string, AuditEvent>> {
  const out = new Map<string, AuditEvent>();
  for (const e of await auditsOf(t, schemeId, atLeast)) out.set(e.sourceKey, e);
  return out;
}

/** Bills in the sandbox per idempotency key. */
export function billsPerKey(sandbox: KingdeeSandbox, field = 'FBillNo'): Map<string, number> {
  const counts = new Map<string, number>();
  for (const bill of sandbox.store.all()) {
    const key = field === 'FBillNo' ? (bill.suppliedBillNo ?? bill.billNo) : String(bill.header[field] ?? '');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Fails unless every key has exactly one bill. */
export function expectOneBillEach(sandbox: KingdeeSandbox, keys: string[], field = 'FBillNo'): void {
  const counts = billsPerKey(sandbox, field);
  expect(keys.map((k) => [k, counts.get(k) ?? 0])).toEqual(keys.map((k) => [k, 1]));
}
