import { randomBytes } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { decodeEvent, HEADER, KingdeeDocumentSchema } from '@libs/contracts';
import { TransformerModule } from '../../apps/transformer/src/app.module';
import { rawStockoutEvent, startServiceApp } from '../support/service-app';
import { createTestEnv, eventually, readAll, TestEnv } from '../support/test-env';

const ORDER = `CT-OBS-${randomBytes(4).toString('hex')}`;

/** Value of the first sample line `name{labels…} value` whose labels include all of `labels`. */
function valueOf(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => m[2].includes(`${k}="${v}"`))) return Number(m[3]);
  }
  return undefined;
}

describe('observability: the transformer service serves its pipeline metrics over HTTP', () => {
  let t: TestEnv;
  let app: INestApplication;
  let base: string;
  const groupId = `obs-transformer-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    t = await createTestEnv('observability');
    ({ app, base } = await startServiceApp(() => TransformerModule.create(), {
      ...t.env,
      SCHEMES_DIR: 'schemes',
      KAFKA_GROUP_ID: groupId,
    }));
  });

  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
  });

  it('counts a transformed record, its batch and the consumer lag; health and readiness answer', async () => {
    const producer = t.kafka.producer();
    await producer.connect();
    await producer.send({
      topic: t.topics.rawStockout,
      acks: -1,
      messages: [
        { key: ORDER, value: Buffer.from(JSON.stringify(rawStockoutEvent(ORDER))) },
        { key: 'poison', value: Buffer.from('{"eventType": "wdt.') },
      ],
    });
    await producer.disconnect();

    const [doc] = await readAll(t, t.topics.kingdeeDocument, 1, 60000);
    expect(decodeEvent(KingdeeDocumentSchema, doc.value, 'doc').sourceKey).toBe(ORDER);
    // The order number travels as the correlation id.
    expect(doc.headers[HEADER.correlationId]).toBe(ORDER);

    const text = await eventually('transformer metrics after the batch', async () => {
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      const body = await res.text();
      const documents = valueOf(body, 'pipeline_records_total', {
        stage: 'transformer',
        outcome: 'document',
      });
      const poisoned = valueOf(body, 'pipeline_records_total', {
        stage: 'transformer',
        outcome: 'dead_lettered',
      });
      const lag = valueOf(body, 'kafka_consumer_lag', { group: groupId, topic: t.topics.rawStockout });
      return (documents ?? 0) >= 1 && (poisoned ?? 0) >= 1 && lag !== undefined ? body : undefined;
    });

    expect(
      valueOf(text, 'pipeline_records_total', { stage: 'transformer', outcome: 'in' }),
    ).toBeGreaterThanOrEqual(2);
    expect(text).toContain('# TYPE pipeline_batch_size histogram');
    expect(valueOf(text, 'pipeline_batch_size_count', { stage: 'transformer' })).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^pipeline_errors_total\{stage="transformer",error_class="[A-Za-z]+"\} [1-9]/m);
    expect(text).toContain('# TYPE kafka_consumer_lag gauge');
    // Every partition this consumer processed is fully caught up.
    const lags = text
      .split('\n')
      .filter((l) => l.startsWith('kafka_consumer_lag{') && l.includes(`group="${groupId}"`));
    expect(lags.length).toBeGreaterThanOrEqual(1);
    for (const l of lags) expect(l).toMatch(/ 0$/);
    // Labels are bounded: no order number, no personal data.
    expect(text).not.toContain(ORDER);
    expect(text).not.toContain('13812345678');

    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: 'ok',
      service: 'transformer',
      consumers: [expect.objectContaining({ name: 'transformer', stalled: false })],
    });
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { kafka: 'ok', postgres: 'ok' } });
  });
});
