import { randomBytes } from 'node:crypto';
import { Admin, Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { TOPIC_CATALOGUE, TopicNames, TopicRole } from '@libs/contracts';
import { createDataSource, initializeDataSource, migrate } from '@libs/database';
import { createKafka, provisionTopics } from '@libs/kafka';

export interface TestEnv {
  suffix: string;
  brokers: string[];
  databaseUrl: string;
  schema: string;
  topics: TopicNames;
  kafka: Kafka;
  admin: Admin;
  ds: DataSource;
  /** Environment for a service process/module pointed at this test's topics and schema. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

/**
 * Isolation for integration tests against the real broker and database: unique topic names and a
 * throw-away Postgres schema (migrated like production) per test file, removed afterwards, so runs
 * never collide and can run twice in a row.
 */
export async function createTestEnv(
  label: string,
  options: { partitions?: number; maxMessageBytes?: number } = {},
): Promise<TestEnv> {
  const suffix = `${label.replace(/[^a-z0-9]/gi, '').toLowerCase()}_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
  const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/wdt_kingdee';
  const schema = `t_${suffix}`;
  const topics = Object.fromEntries(
    (Object.keys(TOPIC_CATALOGUE) as TopicRole[]).map((role) => [
      role,
      `test.${suffix}.${TOPIC_CATALOGUE[role].defaultName}`,
    ]),
  ) as TopicNames;
  const maxMessageBytes = options.maxMessageBytes ?? 1_048_576;
  const kafka = createKafka({ brokers, clientId: `test-${suffix}` });
  const admin = kafka.admin();
  await admin.connect();
  await provisionTopics(
    admin,
    Object.values(topics).map((name) => ({
      name,
      partitions: options.partitions ?? 2,
      replicationFactor: 1,
      retentionMs: 86_400_000,
      maxMessageBytes,
    })),
  );
  const ds = await initializeDataSource(
    createDataSource({ url: databaseUrl, schema, poolSize: 4 }),
    databaseUrl,
  );
  await migrate(ds, schema);
  const env: Record<string, string> = {
    APP_MODE: 'sandbox',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL || 'warn',
    KAFKA_BROKERS: brokers.join(','),
    DATABASE_URL: databaseUrl,
    DATABASE_SCHEMA: schema,
    KAFKA_MAX_MESSAGE_BYTES: String(maxMessageBytes),
    CONSUMER_SESSION_TIMEOUT_MS: '10000',
    TOPIC_RAW_STOCKOUT: topics.rawStockout,
    TOPIC_KINGDEE_DOCUMENT: topics.kingdeeDocument,
    TOPIC_AUDIT: topics.audit,
    TOPIC_DEAD_LETTER: topics.deadLetter,
  };
  return {
    suffix,
    brokers,
    databaseUrl,
    schema,
    topics,
    kafka,
    admin,
    ds,
    env,
    async cleanup() {
      await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
      await admin.disconnect();
      await ds.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await ds.destroy();
    },
  };
}

/** Polls `probe` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false | null>,
  timeoutMs = 60000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/**
 * Reads every message currently on a topic (from the beginning) with a throw-away group, on a client
 * of its own: sharing the kafkajs client of a running consumer starved the reader in practice.
 */
export async function readAll(
  env: { brokers: string[] },
  topic: string,
  expectAtLeast: number,
  timeoutMs = 30000,
): Promise<
  Array<{
    key: string | null;
    value: string;
    headers: Record<string, string>;
    partition: number;
    offset: string;
  }>
> {
  const kafka = createKafka({ brokers: env.brokers, clientId: `reader-${randomBytes(3).toString('hex')}` });
  const consumer = kafka.consumer({
    groupId: `reader-${topic}-${randomBytes(4).toString('hex')}`,
    sessionTimeout: 10000,
    maxWaitTimeInMs: 100,
  });
  const out: Array<{
    key: string | null;
    value: string;
    headers: Record<string, string>;
    partition: number;
    offset: string;
  }> = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      out.push({
        key: message.key?.toString() ?? null,
        value: message.value?.toString() ?? '',
        headers,
        partition,
        offset: message.offset,
      });
    },
  });
  try {
    await eventually(
      `${expectAtLeast} messages on ${topic}`,
      async () => out.length >= expectAtLeast,
      timeoutMs,
    ).catch((err: Error) => {
      throw new Error(`${err.message} (have ${out.length})`);
    });
    // Give stragglers a moment, so "at least" reads do not miss a duplicate.
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await consumer.disconnect();
  }
  return out;
}
