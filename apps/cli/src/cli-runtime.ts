import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Kafka } from 'kafkajs';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { formatShanghai, parseTimeInput } from '@libs/common';
import { CommonConfig, loadServiceEnvironment, ServiceConfig, ServiceName } from '@libs/config';
import { ConnectionRegistry } from '@libs/connections';
import { TopicNames } from '@libs/contracts';
import { EventProducer } from '@libs/kafka';
import {
  CONNECTIONS,
  DATA_SOURCE,
  InfrastructureModule,
  KAFKA,
  LOGGER,
  PRODUCER,
  TOPICS,
} from '@libs/runtime';
import { findScheme, loadSchemesFromDir, Scheme } from '@libs/scheme';

/**
 * A CLI's configuration, read as the services read theirs: the environment over `.env` of the
 * working directory, validated by the schema of the service whose work the CLI does.
 */
export async function loadCliConfig<S extends ServiceName>(service: S): Promise<ServiceConfig<S>> {
  return (await loadServiceEnvironment(service)).config;
}

/** What a command-line tool works with: the infrastructure of the service whose work it does. */
export interface CliRuntime {
  app: INestApplicationContext;
  kafka: Kafka;
  producer: EventProducer;
  ds: DataSource;
  logger: Logger;
  topics: TopicNames;
  /** The service's connections (WDT and/or Kingdee), when it has any. */
  connections: ConnectionRegistry | null;
  close(): Promise<void>;
}

/**
 * Kafka, producer, Postgres and logger for a command-line tool: a Nest application context of the
 * same InfrastructureModule the service runs on (configuration validated by the service's schema,
 * schema checked current), named after the tool, logging warnings only unless LOG_LEVEL says
 * otherwise. Fails at once, naming them and `npm run topics:provision`, when the catalogue's topics
 * are missing; `close()` disconnects the producer and closes Postgres.
 */
export async function openCliRuntime(service: ServiceName, clientId: string): Promise<CliRuntime> {
  const app = await NestFactory.createApplicationContext(
    InfrastructureModule.forService(service, process.env, {
      name: clientId,
      logLevel: 'warn',
      clientId,
      poolSize: 4,
    }),
    // The tool prints its own one-line error; Nest's boot lines and stack traces would bury it.
    { logger: false, abortOnError: false },
  );
  return {
    app,
    kafka: app.get<Kafka>(KAFKA),
    producer: app.get<EventProducer>(PRODUCER),
    ds: app.get<DataSource>(DATA_SOURCE),
    logger: app.get<Logger>(LOGGER),
    topics: app.get<TopicNames>(TOPICS),
    connections: app.get<ConnectionRegistry | null>(CONNECTIONS),
    close: () => app.close(),
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
