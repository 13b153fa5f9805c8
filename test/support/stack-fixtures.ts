import { resolve } from 'node:path';
import { KingdeeDocument, KingdeeDocumentSchema } from '@libs/contracts';

import { PIPELINE_SERVICES, StackOptions, StackRunner, StackService } from '@tools/devstack';
import { createKafka, EventProducer } from '@libs/kafka';
import { DataSource } from 'typeorm';
import { publishKeyed } from './test-env';

const root = resolve(__dirname, '../..');

/** Every service, each as its own process: the pipeline and the operator. */
export const FULL_STACK: StackService[] = [...PIPELINE_SERVICES, 'operator'];

/** A stack of this checkout's dist/ on the test broker and database (KAFKA_BROKERS, DATABASE_URL). */
export function testStack(options: Omit<StackOptions, 'root' | 'brokers' | 'databaseUrl'>): StackRunner {
  return new StackRunner({
    root,
    brokers: (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(','),
    databaseUrl: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/wdt_kingdee',
    ...options,
  });
}

/** A bill's claim row, as the loader leaves it. */
export interface BillClaimRow {
  bill_key: string;
  state: string;
  owner: string | null;
  last_write_at: Date | null;
}

export interface StackFixtures {
  /**
   * Prepares a stack of the services from dist/ on the real broker and Postgres (`options` over
   * those), starts its sandboxes, opens a pool on its schema and connects a producer. The services
   * are not started.
   */
  start(options: Omit<StackOptions, 'root' | 'brokers' | 'databaseUrl'>): Promise<StackRunner>;
  /** Publishes documents on the stack's Kingdee document topic, keyed by source key; their bill keys. */
  publish(list: KingdeeDocument[]): Promise<string[]>;
  /** The claim rows of these bills, by bill key. */
  states(keys: string[]): Promise<Map<string, BillClaimRow>>;
  /** Bills in the Kingdee sandbox with this number. */
  billCount(key: string): Promise<number>;
}

/**
 * A test file's spawned stack (call inside its describe; one `start` a test): stopped, its pool and
 * producer closed and its topics and schema removed after each test. `label` names the producer.
 */
export function stackFixtures(label: string): StackFixtures {
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
  const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/wdt_kingdee';
  let stack: StackRunner;
  let ds: DataSource;
  let producer: EventProducer;
  afterEach(async () => {
    await producer?.disconnect();
    await stack?.stop();
    await stack?.cleanup();
  });
  return {
    start: async (options) => {
      stack = new StackRunner({ root, brokers, databaseUrl, ...options });
      await stack.prepare();
      await stack.startSandboxes();
      ds = await stack.openDataSource();
      producer = new EventProducer(createKafka({ brokers, clientId: `${label}-${stack.runId}` }), 1_048_576);
      await producer.connect();
      return stack;
    },
    publish: async (list) => {
      await publishKeyed(
        producer,
        stack.topics.kingdeeDocument,
        KingdeeDocumentSchema,
        list,
        (d) => d.sourceKey,
      );
      return list.map((d) => d.billKey);
    },
    states: async (keys) =>
      new Map(
        (
          (await ds.query(
            `SELECT bill_key, state, owner, last_write_at FROM bill_claims WHERE bill_key = ANY($1::text[])`,
            [keys],
          )) as BillClaimRow[]
        ).map((r) => [r.bill_key, r]),
      ),
    billCount: async (key) =>
      (await stack.kingdeeAdmin('GET', `/bills/count?billNo=${encodeURIComponent(key)}`)).count,
  };
}
