import { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { formatShanghai, parseTimeInput } from '@libs/common';
import { CommonConfig, loadServiceEnvironment, ServiceConfig, ServiceName } from '@libs/config';
import { topicNamesFromEnv } from '@libs/contracts';
import { createDataSource, initializeDataSource, migrate } from '@libs/database';
import { assertBrokerReachable, assertTopicsExist, createKafkaFromConfig, EventProducer } from '@libs/kafka';
import { findScheme, loadSchemesFromDir, Scheme } from '@libs/scheme';

/**
 * A CLI's configuration, read as the services read theirs: the environment over `.env` of the
 * working directory, validated by the schema of the service whose work the CLI does.
 */
export async function loadCliConfig<S extends ServiceName>(service: S): Promise<ServiceConfig<S>> {
  return (await loadServiceEnvironment(service)).config;
}

/**
 * Kafka, producer and Postgres for a command-line tool, from a validated service config. Fails at
 * once, naming them and `npm run topics:provision`, when the catalogue's topics are missing.
 */
export async function openCliRuntime(
  config: CommonConfig,
  clientId: string,
): Promise<{ kafka: Kafka; producer: EventProducer; ds: DataSource; close(): Promise<void> }> {
  const kafka = createKafkaFromConfig(config, { clientId });
  await assertBrokerReachable(kafka, config.KAFKA_BROKERS, 10_000);
  await assertTopicsExist(kafka, Object.values(topicNamesFromEnv()), config.KAFKA_BROKERS);
  const ds = await initializeDataSource(
    createDataSource({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, poolSize: 4 }),
    config.DATABASE_URL,
  );
  await migrate(ds, config.DATABASE_SCHEMA);
  const producer = new EventProducer(kafka, config.KAFKA_MAX_MESSAGE_BYTES, undefined, {
    sendTimeoutMs: config.KAFKA_SEND_TIMEOUT_MS,
  });
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

/** The scheme files of SCHEMES_DIR; with `id`, only that one — unknown ids list the known ones. */
export function selectSchemes(config: CommonConfig, id?: string): Scheme[] {
  const schemes = loadSchemesFromDir(config.SCHEMES_DIR);
  if (id === undefined) return schemes;
  return [findScheme(schemes, id, `scheme files in ${config.SCHEMES_DIR}`)];
}

/** `2026-11-28T00:00:00+08:00`, `2026-11-28 00:00:00` (Shanghai), or an offset number. */
export function parseBound(text: string): { timestamp: number } | { offset: bigint } {
  if (/^\d+$/.test(text)) return { offset: BigInt(text) };
  if (text === 'beginning') return { offset: 0n };
  const ms = parseTimeInput(text);
  if (ms === undefined)
    throw new Error(
      `"${text}" is neither an offset nor a time (ISO 8601, or "yyyy-MM-dd HH:mm:ss" in Shanghai time)`,
    );
  return { timestamp: ms };
}

/** A Shanghai wall-clock time for the extractor (`yyyy-MM-dd HH:mm:ss`), from any accepted input. */
export function parseWallClock(option: string, text: string): string {
  const ms = parseTimeInput(text);
  if (ms === undefined)
    throw new Error(`${option} "${text}" is not a time: "yyyy-MM-dd HH:mm:ss" (Shanghai) or ISO 8601`);
  return formatShanghai(ms);
}

/** Refuses `--from` after `--to` (both times, or both offsets) before anything is read. */
export function assertOrderedRange(
  from: { text: string; bound: { timestamp: number } | { offset: bigint } },
  to: { text: string; bound: { timestamp: number } | { offset: bigint } } | undefined,
): void {
  if (!to) return;
  const a = from.bound;
  const b = to.bound;
  const after =
    'timestamp' in a && 'timestamp' in b
      ? a.timestamp > b.timestamp
      : 'offset' in a && 'offset' in b
        ? a.offset > b.offset
        : false;
  if (after)
    throw new Error(`--from (${from.text}) is after --to (${to.text}): nothing to read; swap the two`);
}
