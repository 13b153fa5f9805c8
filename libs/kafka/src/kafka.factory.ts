import { Kafka, KafkaConfig, logLevel, LogEntry, SASLOptions } from 'kafkajs';
import { AppLogger } from '@libs/common';

export interface KafkaConnectionOptions {
  brokers: string[];
  clientId: string;
  connectionTimeoutMs?: number;
  ssl?: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  logger?: AppLogger;
}

const LEVELS: Record<number, keyof AppLogger> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'debug',
  [logLevel.DEBUG]: 'debug',
};

/** Builds the kafkajs client; the only place broker/SASL settings are interpreted. */
export function createKafka(options: KafkaConnectionOptions): Kafka {
  const logger = options.logger;
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: 30000,
    ssl: options.ssl ?? false,
    sasl: options.sasl as SASLOptions | undefined,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10000 },
    logLevel: logger ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (entry: LogEntry) => {
      if (!logger) return;
      const { message, ...rest } = entry.log;
      // kafkajs log payloads carry broker addresses and error text, never credentials.
      logger[LEVELS[entry.level] ?? 'debug']({ kafka: entry.namespace, ...rest }, String(message));
    },
  };
  return new Kafka(config);
}

export class BrokerUnreachableError extends Error {
  override readonly name = 'BrokerUnreachableError';
}

/**
 * Fails within the timeout, naming the addresses, instead of letting kafkajs retry for minutes —
 * used at boot and by readiness checks.
 */
export async function assertBrokerReachable(
  kafka: Kafka,
  brokers: string[],
  timeoutMs = 5000,
): Promise<void> {
  const admin = kafka.admin({ retry: { retries: 0 } });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new BrokerUnreachableError(
            `Kafka broker unreachable at ${brokers.join(',')}: no answer within ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    await Promise.race([
      (async () => {
        await admin.connect();
        await admin.describeCluster();
      })(),
      timeout,
    ]);
  } catch (err) {
    if (err instanceof BrokerUnreachableError) throw err;
    throw new BrokerUnreachableError(
      `Kafka broker unreachable at ${brokers.join(',')}: ${(err as Error).message}`,
    );
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}
