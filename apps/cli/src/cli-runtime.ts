import { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { CommonConfig } from '@libs/config';
import { createDataSource, initializeDataSource, migrate } from '@libs/database';
import { assertBrokerReachable, createKafka, EventProducer } from '@libs/kafka';

/** Kafka, producer and Postgres for a command-line tool, from a validated service config. */
export async function openCliRuntime(
  config: CommonConfig,
  clientId: string,
): Promise<{ kafka: Kafka; producer: EventProducer; ds: DataSource; close(): Promise<void> }> {
  const kafka = createKafka({
    brokers: config.KAFKA_BROKERS,
    clientId,
    connectionTimeoutMs: config.KAFKA_CONNECTION_TIMEOUT_MS,
  });
  await assertBrokerReachable(kafka, config.KAFKA_BROKERS, 10_000);
  const ds = await initializeDataSource(
    createDataSource({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, poolSize: 4 }),
    config.DATABASE_URL,
  );
  await migrate(ds, config.DATABASE_SCHEMA);
  const producer = new EventProducer(kafka, config.KAFKA_MAX_MESSAGE_BYTES);
  await producer.connect();
  return {
    kafka,
    producer,
    ds,
    async close() {
      await producer.disconnect();
      await ds.destroy();
    },
  };
}

/** `2026-11-28T00:00:00+08:00`, `2026-11-28 00:00:00` (Shanghai), or an offset number. */
export function parseBound(text: string): { timestamp: number } | { offset: bigint } {
  if (/^\d+$/.test(text)) return { offset: BigInt(text) };
  if (text === 'beginning') return { offset: 0n };
  const shanghai = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$/.test(text)
    ? `${text.replace(' ', 'T')}+08:00`
    : text;
  const ms = Date.parse(shanghai);
  if (Number.isNaN(ms))
    throw new Error(
      `"${text}" is neither an offset nor a time (ISO 8601, or "yyyy-MM-dd HH:mm:ss" in Shanghai time)`,
    );
  return { timestamp: ms };
}
