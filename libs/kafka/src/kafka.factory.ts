import { readFileSync } from 'node:fs';
import { Admin, Kafka, KafkaConfig, logLevel, LogEntry, SASLOptions } from 'kafkajs';
import { AppLogger } from '@libs/common';
import type { KafkaClientConfig } from '@libs/config';

export interface KafkaConnectionOptions {
  brokers: string[];
  clientId: string;
  connectionTimeoutMs?: number;
  /** true: TLS with the system's CAs; `{ ca }`: TLS trusting these PEM CAs. Verification is always on. */
  ssl?: boolean | { ca: string[] };
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  logger?: AppLogger;
}

export class KafkaClientConfigError extends Error {
  override readonly name = 'KafkaClientConfigError';
}

/**
 * What a client was built with, remembered so its errors can name it: bootstrap addresses, who it
 * authenticates as, and the last connection-level error kafkajs reported (it retries out of sight).
 */
const CLIENTS = new WeakMap<
  Kafka,
  { brokers: string[]; auth?: { mechanism: string; username: string }; lastError?: string }
>();

/**
 * The one way services, CLIs and the setup Job build their Kafka client: from the validated
 * `kafkaEnv` slice. Reads the CA file now, so a wrong path stops the process at boot naming it.
 */
export function createKafkaFromConfig(
  config: KafkaClientConfig,
  defaults: { clientId: string; logger?: AppLogger },
): Kafka {
  let ssl: KafkaConnectionOptions['ssl'] = config.KAFKA_SSL;
  if (config.KAFKA_SSL_CA_FILE) {
    try {
      ssl = { ca: [readFileSync(config.KAFKA_SSL_CA_FILE, 'utf8')] };
    } catch (err) {
      throw new KafkaClientConfigError(
        `KAFKA_SSL_CA_FILE: cannot read the CA certificate at ${config.KAFKA_SSL_CA_FILE}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    if (!/-----BEGIN CERTIFICATE-----/.test(ssl.ca[0]))
      throw new KafkaClientConfigError(
        `KAFKA_SSL_CA_FILE: ${config.KAFKA_SSL_CA_FILE} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
      );
  }
  const sasl =
    config.KAFKA_SASL_MECHANISM && config.KAFKA_SASL_USERNAME && config.KAFKA_SASL_PASSWORD
      ? {
          mechanism: config.KAFKA_SASL_MECHANISM,
          username: config.KAFKA_SASL_USERNAME,
          password: config.KAFKA_SASL_PASSWORD,
        }
      : undefined;
  return createKafka({
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID ?? defaults.clientId,
    connectionTimeoutMs: config.KAFKA_CONNECTION_TIMEOUT_MS,
    ssl,
    sasl,
    logger: defaults.logger,
  });
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
  const info: { brokers: string[]; auth?: { mechanism: string; username: string }; lastError?: string } = {
    brokers: options.brokers,
    auth: options.sasl && { mechanism: options.sasl.mechanism, username: options.sasl.username },
  };
  const config: KafkaConfig = {
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: 30000,
    ssl: options.ssl ?? false,
    sasl: options.sasl as SASLOptions | undefined,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10000 },
    // Errors are always seen (not always logged): a connection that keeps failing, e.g. on an
    // untrusted certificate, is retried silently and would otherwise end as a bare timeout.
    logLevel: logger ? logLevel.WARN : logLevel.ERROR,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...rest } = entry.log;
      if (entry.level === logLevel.ERROR)
        info.lastError = typeof rest.error === 'string' ? rest.error : String(message);
      if (!logger) return;
      // kafkajs log payloads carry broker addresses and error text, never credentials.
      logger[LEVELS[entry.level] ?? 'debug']({ kafka: entry.namespace, ...rest }, String(message));
    },
  };
  const kafka = new Kafka(config);
  CLIENTS.set(kafka, info);
  return kafka;
}

/** The bootstrap addresses a client was built with (for errors that must name them). */
export function brokersOf(kafka: Kafka): string[] {
  return CLIENTS.get(kafka)?.brokers ?? [];
}

export class BrokerUnreachableError extends Error {
  override readonly name = 'BrokerUnreachableError';
}

/**
 * Fails within the timeout, naming the addresses, instead of letting kafkajs retry for minutes —
 * used at boot (a throw-away admin client; the readiness probe keeps its own, see
 * {@link probeBroker}).
 */
export async function assertBrokerReachable(
  kafka: Kafka,
  brokers: string[],
  timeoutMs = 5000,
): Promise<void> {
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await probeBroker(kafka, admin, brokers, timeoutMs);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * One round trip to the cluster on `admin` (connected if it is not), within the timeout; the error
 * names the addresses, a SASL failure its mechanism and user (never the password), else kafkajs'
 * last error. The admin stays connected for the next probe.
 */
export async function probeBroker(
  kafka: Kafka,
  admin: Admin,
  brokers: string[],
  timeoutMs: number,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new BrokerUnreachableError(
            `Kafka broker unreachable at ${brokers.join(',')}: no answer within ${timeoutMs} ms${
              CLIENTS.get(kafka)?.lastError ? ` (last error: ${CLIENTS.get(kafka)?.lastError})` : ''
            }`,
          ),
        ),
      timeoutMs,
    );
  });
  const roundTrip = (async () => {
    await admin.connect();
    await admin.describeCluster();
  })();
  roundTrip.catch(() => undefined);
  try {
    await Promise.race([roundTrip, timeout]);
  } catch (err) {
    if (err instanceof BrokerUnreachableError) throw err;
    const auth = CLIENTS.get(kafka)?.auth;
    if (auth && findInErrorChain(err, (e) => e.name === 'KafkaJSSASLAuthenticationError'))
      throw new BrokerUnreachableError(
        `Kafka SASL authentication failed at ${brokers.join(',')} (mechanism ${auth.mechanism}, user ${auth.username}): check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD — ${(err as Error).message}`,
      );
    throw new BrokerUnreachableError(
      `Kafka broker unreachable at ${brokers.join(',')}: ${(err as Error).message}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/** kafkajs wraps causes (`originalError`, `cause`): the error looked for may sit a few levels down. */
export function findInErrorChain(
  err: unknown,
  match: (e: { name?: string; type?: string }) => boolean,
): unknown {
  let current = err as { name?: string; type?: string; originalError?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; current && depth < 5; depth++) {
    if (match(current)) return current;
    current = (current.originalError ?? current.cause) as typeof current;
  }
  return undefined;
}
