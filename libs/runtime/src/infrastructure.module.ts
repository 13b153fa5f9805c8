import { hostname } from 'node:os';
import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { DataSource } from 'typeorm';
import { AuditPublisher } from '@libs/audit';
import { CommonConfig, loadServiceEnvironment, ServiceName } from '@libs/config';
import { ConnectionKind, loadConnections } from '@libs/connections';
import { topicNamesFromEnv, TopicNames } from '@libs/contracts';
import {
  createDataSource,
  initializeDataSource,
  assertSchemaCurrent,
  PostgresPayloadStore,
  ServiceStatusStore,
} from '@libs/database';
import {
  assertBrokerReachable,
  assertTopicsExist,
  createKafkaFromConfig,
  DeadLetterPublisher,
  EventProducer,
  KafkaBatchTransport,
} from '@libs/kafka';
import { ServiceConsumers } from './service-consumers';
import { LoggerModule } from 'nestjs-pino';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health/health.controller';
import { KafkaHealthIndicator } from './health/kafka.health';
import { PostgresHealthIndicator } from './health/postgres.health';
import { ConsumerProgressHealthIndicator, WorkHealthIndicator } from './health/work.health';
import { ErpCircuitHealthIndicator } from './health/erp-circuit.health';
import { requestLoggingParams } from './request-logging';
import { createLogger } from './logger';
import { Readiness } from './health/readiness';
import { Liveness } from './health/liveness';
import {
  AUDIT_PUBLISHER,
  CONFIG,
  CONNECTIONS,
  DATA_SOURCE,
  DEAD_LETTERS,
  KAFKA,
  LOGGER,
  PRODUCER,
  READINESS,
  LIVENESS,
  SERVICE_NAME,
  TOPICS,
  INSTANCE,
} from './tokens';

class InfrastructureLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(PRODUCER) private readonly producer: EventProducer,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
  ) {}

  /** Runs after every worker's beforeApplicationShutdown (consumers stopped, offsets committed). */
  async onApplicationShutdown(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}

/**
 * Shared infrastructure every service needs: validated config (environment over `.env`, through
 * @nestjs/config), logger, Kafka client and producer, Postgres (its schema checked current: only the migration Job migrates),
 * dead-letter and audit publishers, health endpoints. Boot fails fast with a message naming the bad
 * variable, the unreachable address or the missing topics (and `npm run topics:provision`).
 */
/**
 * The connections each service uses, whose secrets it reads at boot. The operator reads names, sids
 * and accounts only (its connection tests run in the services that hold the secrets).
 */
export const SERVICE_CONNECTION_KINDS: Partial<Record<ServiceName, ConnectionKind[]>> = {
  extractor: ['wdt'],
  loader: ['kingdee'],
  reconciler: ['wdt', 'kingdee'],
  operator: [],
};

/** How a command-line tool borrows a service's infrastructure (see `openCliContext`). */
export interface InfrastructureOptions {
  /** Logger name (default: the service's). */
  name?: string;
  /** Log level when LOG_LEVEL is not set (CLIs: `warn`, so their output stays readable). */
  logLevel?: string;
  clientId?: string;
  poolSize?: number;
}

@Global()
@Module({})
export class InfrastructureModule {
  static async forService(
    service: ServiceName,
    env: Record<string, string | undefined> = process.env,
    options: InfrastructureOptions = {},
  ): Promise<DynamicModule> {
    const environment = await loadServiceEnvironment(service, { env });
    const config = environment.config as CommonConfig;
    const logger = createLogger(
      options.name ?? service,
      (options.logLevel && env.LOG_LEVEL === undefined ? options.logLevel : undefined) ?? config.LOG_LEVEL,
    );
    // After loadServiceEnvironment: topic names from .env are in process.env by now.
    const topics = topicNamesFromEnv(env);
    const kinds = SERVICE_CONNECTION_KINDS[service];
    const connections = kinds ? loadConnections({ env, kinds }) : undefined;
    if (connections) logger.info({ connections: connections.describe() }, 'connections');
    return {
      module: InfrastructureModule,
      imports: [
        environment.module,
        LoggerModule.forRoot(requestLoggingParams(logger)),
        TerminusModule.forRoot({ errorLogStyle: 'json' }),
      ],
      controllers: [HealthController],
      providers: [
        { provide: SERVICE_NAME, useValue: service },
        { provide: INSTANCE, useValue: `${hostname()}-${process.pid}` },
        {
          // This instance's rows in service_status (what operators read per replica).
          provide: ServiceStatusStore,
          inject: [DATA_SOURCE, SERVICE_NAME, INSTANCE],
          useFactory: (ds: DataSource, name: string, instance: string) =>
            new ServiceStatusStore(ds, name, instance),
        },
        { provide: CONFIG, useValue: config },
        { provide: CONNECTIONS, useValue: connections ?? null },
        { provide: LOGGER, useValue: logger },
        { provide: TOPICS, useValue: topics },
        { provide: READINESS, useValue: new Readiness() },
        { provide: LIVENESS, useValue: new Liveness(config.LIVENESS_STALL_SECONDS * 1000) },
        {
          provide: KAFKA,
          useFactory: async (): Promise<Kafka> => {
            const kafka = createKafkaFromConfig(config, {
              clientId: options.clientId ?? `wdt-kingdee-${service}`,
              logger,
            });
            await assertBrokerReachable(
              kafka,
              config.KAFKA_BROKERS,
              Math.max(config.KAFKA_CONNECTION_TIMEOUT_MS, 5000),
            );
            await assertTopicsExist(kafka, Object.values(topics), config.KAFKA_BROKERS);
            return kafka;
          },
        },
        {
          provide: PRODUCER,
          inject: [KAFKA],
          useFactory: async (kafka: Kafka) => {
            const producer = new EventProducer(kafka, config.KAFKA_MAX_MESSAGE_BYTES, undefined, {
              sendTimeoutMs: config.KAFKA_SEND_TIMEOUT_MS,
            });
            await producer.connect();
            return producer;
          },
        },
        {
          provide: DATA_SOURCE,
          useFactory: async () => {
            const ds = await initializeDataSource(
              createDataSource({
                url: config.DATABASE_URL,
                schema: config.DATABASE_SCHEMA,
                poolSize: options.poolSize,
              }),
              config.DATABASE_URL,
            );
            await assertSchemaCurrent(ds, config.DATABASE_SCHEMA);
            return ds;
          },
        },
        {
          provide: DEAD_LETTERS,
          inject: [PRODUCER, TOPICS, DATA_SOURCE],
          useFactory: (producer: EventProducer, t: TopicNames, ds: DataSource) =>
            new DeadLetterPublisher(
              producer,
              t,
              new PostgresPayloadStore(ds),
              config.KAFKA_MAX_MESSAGE_BYTES,
            ),
        },
        {
          provide: AUDIT_PUBLISHER,
          inject: [PRODUCER, TOPICS],
          useFactory: (producer: EventProducer, t: TopicNames) => new AuditPublisher(producer, t),
        },
        InfrastructureLifecycle,
        KafkaHealthIndicator,
        PostgresHealthIndicator,
        WorkHealthIndicator,
        ConsumerProgressHealthIndicator,
        ErpCircuitHealthIndicator,
        // The services' Kafka transport (see KafkaBatchTransport); bootstrap connects it to the app.
        { provide: KafkaBatchTransport, useFactory: () => new KafkaBatchTransport() },
        ServiceConsumers,
      ],
      exports: [
        SERVICE_NAME,
        INSTANCE,
        CONFIG,
        CONNECTIONS,
        LOGGER,
        TOPICS,
        KAFKA,
        PRODUCER,
        DATA_SOURCE,
        DEAD_LETTERS,
        AUDIT_PUBLISHER,
        READINESS,
        LIVENESS,
        KafkaBatchTransport,
        ServiceConsumers,
        ServiceStatusStore,
      ],
    };
  }
}
