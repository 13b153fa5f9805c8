import { randomBytes } from 'node:crypto';
import { Admin, Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { TOPIC_CATALOGUE, TopicNames, TopicRole } from '@libs/contracts';
import { createDataSource, initializeDataSource, migrate } from '@libs/database';
import { createKafka, provisionTopics } from '@libs/kafka';

export interface IsolatedEnv {
  suffix: string;
  brokers: string[];
  databaseUrl: string;
  schema: string;
  topics: TopicNames;
  kafka: Kafka;
  admin: Admin;
  ds: DataSource;
  /** Environment for a service pointed at these topics and this schema. */
  env: Record<string, string>;
  /** Messages currently on a topic (sum over partitions). */
  topicSize(topic: string): Promise<number>;
  cleanup(): Promise<void>;
}

export interface IsolatedEnvOptions {
  /** Name prefix of topics and schema: `test`, `bench`, … */
  prefix?: string;
  partitions?: number;
  maxMessageBytes?: number;
  poolSize?: number;
}

/**
 * Throw-away topics and Postgres schema on the real broker and database — created like production
 * (provisioning, migrations), unique per run, removed by `cleanup()` — so tests and benchmarks never
 * collide and can run twice in a row.
 */
export async function createIsolatedEnv(
  label: string,
  options: IsolatedEnvOptions = {},
): Promise<IsolatedEnv> {
  const prefix = options.prefix ?? 'test';
  const suffix = `${label.replace(/[^a-z0-9]/gi, '').toLowerCase()}_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
  const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/wdt_kingdee';
  const schema = `${prefix === 'test' ? 't' : prefix}_${suffix}`;
  const topics = Object.fromEntries(
    (Object.keys(TOPIC_CATALOGUE) as TopicRole[]).map((role) => [
      role,
      `${prefix}.${suffix}.${TOPIC_CATALOGUE[role].defaultName}`,
    ]),
  ) as TopicNames;
  const maxMessageBytes = options.maxMessageBytes ?? 1_048_576;
  const kafka = createKafka({ brokers, clientId: `${prefix}-${suffix}` });
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
    createDataSource({ url: databaseUrl, schema, poolSize: options.poolSize ?? 4 }),
    databaseUrl,
  );
  await migrate(ds, schema);
  return {
    suffix,
    brokers,
    databaseUrl,
    schema,
    topics,
    kafka,
    admin,
    ds,
    env: {
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
    },
    async topicSize(topic: string) {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    },
    async cleanup() {
      await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
      await admin.disconnect();
      await ds.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await ds.destroy();
    },
  };
}
