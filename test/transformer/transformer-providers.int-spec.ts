import { randomBytes } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConsumedMessage } from '@libs/kafka';
import { startKafkaTransport } from '@libs/runtime';
import { TransformProcessor } from '@libs/transform';
import { TransformerModule } from '../../apps/transformer/src/app.module';
import { rawStockoutEvent, withEnv } from '../support/service-app';
import { createTestEnv, eventually, TestEnv } from '../support/test-env';

/**
 * The transformer's business objects are Nest providers: a test replaces one with
 * `overrideProvider` and the service's Kafka handler uses the replacement (real broker, real
 * Postgres, the service's own module).
 */
describe('transformer business objects through DI', () => {
  let t: TestEnv;
  let app: INestApplication;

  beforeAll(async () => {
    t = await createTestEnv('providers');
  });

  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
  });

  it('feeds the batches of @EventPattern(rawStockout) to the TransformProcessor provider, overridden here', async () => {
    const seen: string[] = [];
    const recorder = {
      handle: async (messages: ConsumedMessage[]) => {
        for (const m of messages) seen.push(m.key ?? '');
        return { documents: 0, skipped: 0, deadLettered: 0, parked: 0 };
      },
      handleParked: async () => [],
    };
    app = await withEnv(
      { ...t.env, SCHEMES_DIR: 'schemes', KAFKA_GROUP_ID: `providers-${randomBytes(4).toString('hex')}` },
      async () => {
        const moduleRef = await Test.createTestingModule({ imports: [TransformerModule.create()] })
          .overrideProvider(TransformProcessor)
          .useValue(recorder)
          .compile();
        return moduleRef.createNestApplication({ logger: false });
      },
    );
    await startKafkaTransport(app);
    expect(app.get(TransformProcessor)).toBe(recorder);

    const order = `CT-DI-${randomBytes(4).toString('hex')}`;
    const producer = t.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: t.topics.rawStockout,
      messages: [{ key: order, value: JSON.stringify(rawStockoutEvent(order)) }],
    });
    await producer.disconnect();

    await eventually('the overriding processor to get the record', async () => seen.includes(order));
    // The real processor never ran: nothing was mapped onto the document topic.
    const [offsets] = await t.admin.fetchTopicOffsets(t.topics.kingdeeDocument).then((p) => [p]);
    expect(offsets.every((p) => p.high === '0')).toBe(true);
  });
});
