import { randomBytes } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { StackRunner } from '@tools/devstack';
import { TransformerModule } from '../../apps/transformer/src/app.module';
import { rawStockoutEvent, startServiceApp } from '../support/service-app';
import { docs, SHIPPED } from '../loader/loader-harness';
import { stackFixtures } from '../support/stack-fixtures';
import { createTestEnv, eventually, TestEnv } from '../support/test-env';

/** Short enough for a test, long enough that ordinary batches never look stuck. */
const STALL_SECONDS = 2;

interface Health {
  status: string;
  waiting?: string;
  consumers: Array<{ name: string; stalled: boolean; lag?: number }>;
}

async function health(base: string): Promise<{ code: number; body: Health }> {
  const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(5000) });
  return { code: res.status, body: (await res.json()) as Health };
}

describe('liveness: /health fails only for a consumer that is stuck with work to do', () => {
  describe('a wedged handler (its Postgres write waits on a lock)', () => {
    let t: TestEnv;
    let app: INestApplication;
    let base: string;

    beforeAll(async () => {
      t = await createTestEnv('liveness');
      ({ app, base } = await startServiceApp(() => TransformerModule.create(), {
        ...t.env,
        SCHEMES_DIR: 'schemes',
        KAFKA_GROUP_ID: `liveness-${randomBytes(4).toString('hex')}`,
        LIVENESS_STALL_SECONDS: String(STALL_SECONDS),
        CONSUMER_LAG_INTERVAL_MS: '300',
      }));
    });

    afterAll(async () => {
      await app?.close();
      await t?.cleanup();
    });

    it('turns /health 503 naming the consumer, and 200 again once the handler moves', async () => {
      expect((await health(base)).code).toBe(200);
      const lock = new Client({ connectionString: t.databaseUrl });
      await lock.connect();
      try {
        await lock.query(`SET search_path = "${t.schema}"`);
        await lock.query('BEGIN');
        await lock.query('LOCK TABLE source_versions IN ACCESS EXCLUSIVE MODE');
        const producer = t.kafka.producer();
        await producer.connect();
        const event = rawStockoutEvent(`CT-LIVE-${randomBytes(3).toString('hex')}`);
        await producer.send({
          topic: t.topics.rawStockout,
          acks: -1,
          messages: [{ key: event.orderNo, value: JSON.stringify(event) }],
        });
        await producer.disconnect();
        // Bound: STALL_SECONDS after the last progress plus a lag measurement; waited ≥ 3× that.
        const stuck = await eventually(
          '/health 503',
          async () => {
            const h = await health(base);
            return h.code === 503 ? h : undefined;
          },
          30_000,
        );
        expect(stuck.body.status).toBe('stalled');
        expect(stuck.body.consumers).toEqual([
          expect.objectContaining({ name: 'transformer', stalled: true }),
        ]);
      } finally {
        await lock.query('COMMIT').catch(() => undefined);
        await lock.end();
      }
      await eventually('/health 200 again', async () => (await health(base)).code === 200, 30_000);
    }, 90_000);
  });

  describe('Kingdee down: the loader waits behind its circuit', () => {
    const fx = stackFixtures('liveness');
    let stack: StackRunner;

    it('keeps /health 200 while its consumer cannot progress, saying why it waits', async () => {
      stack = await fx.start({
        services: ['loader'],
        env: { LOG_LEVEL: 'warn' },
        serviceEnv: {
          loader: {
            LIVENESS_STALL_SECONDS: String(STALL_SECONDS),
            CONSUMER_LAG_INTERVAL_MS: '300',
            KINGDEE_TIMEOUT_MS: '3000',
            KINGDEE_SERVER_EXECUTION_TIMEOUT_MS: '9000',
          },
        },
      });
      await stack.startServices();
      // Kingdee hangs: every call times out (3 s), the circuit opens, the writes in flight settle (their
      // offsets held for the settle window) and new documents park: the consumer cannot progress.
      await stack.kingdeeAdmin('PATCH', '/knobs', { latencyMs: 30_000 });
      await fx.publish(docs(SHIPPED, 'LIVE', 200));
      const base = stack.url('loader');
      const answers: Array<{ code: number; body: Health }> = [];
      let circuitOpened = false;
      await eventually(
        'the circuit open and a moment where the consumer is past the stall limit, waiting',
        async () => {
          const h = await health(base);
          answers.push(h);
          const metrics = await (await fetch(`${base}/metrics`)).text();
          if (/^loader_kingdee_circuit_open\{[^}]*\} 1$/m.test(metrics)) circuitOpened = true;
          return (
            circuitOpened && answers.some((a) => a.body.waiting && a.body.consumers.some((c) => c.stalled))
          );
        },
        120_000,
      );
      // Every answer during the outage was 200: the liveness probe never asked for a restart, although
      // the consumer was past its stall limit with lag (exempted: circuit open or writes settling).
      expect(answers.filter((a) => a.code !== 200)).toEqual([]);
      expect(answers.some((a) => a.body.waiting !== undefined)).toBe(true);
      await stack.kingdeeAdmin('PATCH', '/knobs', { latencyMs: 0 });
    }, 180_000);
  });
});
