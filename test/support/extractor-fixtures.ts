import { AppLogger, Clock, silentLogger } from '@libs/common';
import { decodeEvent, RawStockoutEvent, RawStockoutEventSchema } from '@libs/contracts';
import { PostgresPayloadStore } from '@libs/database';
import {
  ExtractionService,
  ExtractionStore,
  KafkaRawEventSink,
  PostgresExtractionStore,
  StockoutSource,
} from '@libs/extraction';
import { DeadLetterPublisher, EventProducer } from '@libs/kafka';
import { loadSchemeFile, Scheme } from '@libs/scheme';
import {
  WdtClientDeps,
  WdtClientOptions,
  WdtLimiterRegistry,
  WdtStockoutReturnClient,
} from '@libs/wdt-client';
import { startWdtSandbox, WdtSandbox } from '../../apps/wdt-sandbox/src';
import { createTestEnv, readAll, TestEnv } from './test-env';

/** The shipped scheme: what the extractor tests vary. */
export const SHIPPED_SCHEME = loadSchemeFile('schemes/wdt-stockout-return-to-kingdee-pur-mrb.yaml');

export type SourcePatch = Partial<Omit<Scheme['source'], 'cursor'>> & {
  cursor?: Partial<Scheme['source']['cursor']>;
};

/** The shipped scheme under another id, its `source` (and the source's `cursor`) patched. */
export function schemeWith(id: string, source: SourcePatch): Scheme {
  return {
    ...SHIPPED_SCHEME,
    id,
    source: {
      ...SHIPPED_SCHEME.source,
      ...source,
      cursor: { ...SHIPPED_SCHEME.source.cursor, ...(source.cursor ?? {}) },
    },
  };
}

/** Calls the WDT sandbox's admin API; throws on a reply that is not 2xx, else returns its JSON body. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- admin replies are read field by field in assertions
export async function admin(sandbox: WdtSandbox, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${sandbox.url}/admin${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export interface ExtractorFixtures {
  readonly t: TestEnv;
  readonly sandbox: WdtSandbox;
  readonly producer: EventProducer;
  readonly store: PostgresExtractionStore;
  readonly sink: KafkaRawEventSink;
  /**
   * A native-gateway client of the sandbox's account (100,000 calls/min, its own limiter registry),
   * `options` and `deps` over those.
   */
  client(options?: Partial<WdtClientOptions>, deps?: WdtClientDeps): WdtStockoutReturnClient;
  /** An `ExtractionService` wired like the extractor's: the file's sink and clock, its store unless given. */
  service(
    scheme: Scheme,
    source: StockoutSource,
    opts?: { store?: ExtractionStore; logger?: AppLogger; maxRecordsPerWindow?: number },
  ): ExtractionService;
  /** The raw events of one scheme on the file's raw topic (read until at least `expectAtLeast` in all). */
  rawEvents(schemeId: string, expectAtLeast?: number): Promise<RawStockoutEvent[]>;
}

/**
 * One test file's extractor fixtures (call inside its describe): isolated topics and schema, a WDT
 * sandbox (its rate limit off) reset before each test, a producer, the Postgres extraction store and
 * the Kafka raw-event sink with its dead-letter publisher.
 */
export function extractorFixtures(
  label: string,
  options: { partitions: number; clock: Clock },
): ExtractorFixtures {
  // The environment's fields are set by the beforeAll below (read them in tests and hooks, not before).
  const fx = {
    client: (overrides = {}, deps = {}) =>
      new WdtStockoutReturnClient(
        {
          gateway: 'native',
          sid: fx.sandbox.account.sid,
          baseUrl: fx.sandbox.url,
          appkey: fx.sandbox.account.appkey,
          appsecret: fx.sandbox.account.appsecret,
          callsPerMinute: 100_000,
          ...overrides,
        },
        { limiterRegistry: new WdtLimiterRegistry(), ...deps },
      ),
    service: (scheme, source, opts = {}) =>
      new ExtractionService(
        scheme,
        source,
        opts.store ?? fx.store,
        fx.sink,
        options.clock,
        { sid: fx.sandbox.account.sid, method: scheme.source.method },
        opts.logger ?? silentLogger,
        opts.maxRecordsPerWindow,
      ),
    rawEvents: async (schemeId, expectAtLeast = 1) =>
      (await readAll(fx.t, fx.t.topics.rawStockout, expectAtLeast))
        .map((m) => decodeEvent(RawStockoutEventSchema, m.value, 'raw'))
        .filter((e) => e.schemeId === schemeId),
  } as ExtractorFixtures;
  beforeAll(async () => {
    const t = await createTestEnv(label, { partitions: options.partitions });
    const sandbox = await startWdtSandbox({ port: 0, knobs: { callsPerMinute: 0 } });
    const producer = new EventProducer(t.kafka, 1_048_576);
    await producer.connect();
    const store = new PostgresExtractionStore(t.ds);
    const sink = new KafkaRawEventSink(
      producer,
      new DeadLetterPublisher(producer, t.topics, new PostgresPayloadStore(t.ds), 1_048_576),
      t.topics,
    );
    Object.assign(fx, { t, sandbox, producer, store, sink });
  });
  afterAll(async () => {
    await fx.producer.disconnect();
    await fx.sandbox.close();
    await fx.t.cleanup();
  });
  beforeEach(async () => {
    await admin(fx.sandbox, 'POST', '/reset', { keepKnobs: false });
    await admin(fx.sandbox, 'PATCH', '/knobs', { callsPerMinute: 0 });
  });
  return fx;
}
