import { randomBytes } from 'node:crypto';
import { DynamicModule, INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { RawStockoutEventSchema } from '@libs/contracts';
import { SourcePage, SourceQuery, StockoutSource, WdtClients } from '@libs/extraction';
import { ConsumedMessage } from '@libs/kafka';
import { LoadProcessor } from '@libs/loading';
import { ReconcileScheduler } from '@libs/reconcile';
import { startKafkaTransport } from '@libs/runtime';
import { ExtractorModule } from '../../apps/extractor/src/app.module';
import { LoaderModule } from '../../apps/loader/src/app.module';
import { ReconcilerModule } from '../../apps/reconciler/src/app.module';
import { ReconcilerStatus } from '../../apps/reconciler/src/reconciler-status';
import { rawStockoutEvent, withEnv } from '../support/service-app';
import { createTestEnv, eventually, readAll, TestEnv } from '../support/test-env';

/** Nothing listens here: a Kingdee or WDT call would fail, and none is made by the overridden parts. */
const CLOSED = 'http://127.0.0.1:9';
const KINGDEE_ENV = {
  KINGDEE_SERVER_URL: `${CLOSED}/k3cloud/`,
  KINGDEE_ACCT_ID: 'acct',
  KINGDEE_USERNAME: 'user',
  KINGDEE_APP_ID: 'app',
  KINGDEE_APP_SECRET: 'secret-never-used',
};
const WDT_ENV = {
  WDT_GATEWAY: 'native',
  WDT_BASE_URL: CLOSED,
  WDT_SID: 'sid',
  WDT_APPKEY: 'key',
  WDT_APPSECRET: 'secret-never-used',
};

/**
 * The loader's, the extractor's and the reconciler's business objects are Nest providers: a test replaces one with
 * `overrideProvider` and the service (its own module, real broker, real Postgres) runs with it.
 */
describe('loader, extractor and reconciler business objects through DI', () => {
  let t: TestEnv;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    t = await createTestEnv('worker-di');
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await t?.cleanup();
  });

  /** The service's own module (made under `env`) with one provider replaced, started (bootstrap hooks run). */
  const startWith = async (
    module: () => DynamicModule,
    env: Record<string, string>,
    token: unknown,
    value: unknown,
  ) => {
    const app = await withEnv({ ...t.env, SCHEMES_DIR: 'schemes', ...env }, async () => {
      const moduleRef = await Test.createTestingModule({ imports: [module()] })
        .overrideProvider(token)
        .useValue(value)
        .compile();
      return moduleRef.createNestApplication({ logger: false });
    });
    apps.push(app);
    await app.init();
    expect(app.get(token as string)).toBe(value);
    return app;
  };

  it('feeds the documents of @EventPattern(kingdeeDocument) to the LoadProcessor provider, overridden here', async () => {
    const seen: string[] = [];
    const recorder = {
      handle: async (messages: ConsumedMessage[]) => {
        for (const m of messages) seen.push(m.key ?? '');
      },
    };
    const app = await startWith(
      () => LoaderModule.create(),
      { KAFKA_GROUP_ID: `worker-di-${randomBytes(4).toString('hex')}`, ...KINGDEE_ENV },
      LoadProcessor,
      recorder,
    );
    await startKafkaTransport(app);

    const key = `DI-LOAD-${randomBytes(4).toString('hex')}`;
    const producer = t.kafka.producer();
    await producer.connect();
    await producer.send({ topic: t.topics.kingdeeDocument, messages: [{ key, value: '{}' }] });
    await producer.disconnect();
    await eventually('the overriding processor to get the document', async () => seen.includes(key));
  });

  it('polls WDT through the WdtClients provider, overridden here, and publishes what it returned', async () => {
    const orderNo = `DI-EXT-${randomBytes(4).toString('hex')}`;
    const record = rawStockoutEvent(orderNo).record;
    const queries: SourceQuery[] = [];
    const source: StockoutSource = {
      gateway: 'native',
      async *queryPages(query: SourceQuery): AsyncIterable<SourcePage> {
        queries.push(query);
        yield {
          items:
            queries.length === 1
              ? [{ record: { ...record, consign_time: query.startTime }, pageNo: 0, position: 0 }]
              : [],
          pageNo: 0,
          pageSize: 100,
          totalCount: queries.length === 1 ? 1 : 0,
          httpCalls: 1,
          last: true,
        };
      },
      queryAll: async () => {
        throw new Error('not used by polling');
      },
    };
    const clients = { clientFor: () => source, names: () => ['default'], stop: async () => undefined };
    await startWith(() => ExtractorModule.create(), WDT_ENV, WdtClients, clients);

    const [message] = await readAll(t, t.topics.rawStockout, 1, 60_000);
    const event = RawStockoutEventSchema.parse(JSON.parse(message.value));
    expect([message.key, event.orderNo]).toEqual([orderNo, orderNo]);
    expect(queries.length).toBeGreaterThan(0);
  });

  it('runs the reconciler with its ReconcilerStatus provider overridden here', async () => {
    const reports: Array<Record<string, unknown>> = [];
    const status = {
      report: async (extra: Record<string, unknown>) => {
        reports.push(extra);
      },
      remove: async () => undefined,
    };
    const app = await startWith(
      () => ReconcilerModule.create(),
      { RECONCILE_SCHEDULE_ENABLED: 'false', ...WDT_ENV, ...KINGDEE_ENV },
      ReconcilerStatus,
      status,
    );
    // The worker reports its start through the provider; without a schedule there is no scheduler.
    expect(reports).toEqual([{}]);
    expect(app.get(ReconcileScheduler, { strict: false })).toBeNull();
  });
});
