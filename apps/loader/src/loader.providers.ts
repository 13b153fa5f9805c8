import { Provider } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AlertMonitor } from '@libs/alerts';
import { LoaderConfig } from '@libs/config';
import {
  ConnectionStatusRecorder,
  ConnectionTestWorker,
  testKingdeeConnection,
} from '@libs/connection-health';
import { ConnectionRegistry } from '@libs/connections';
import { TopicNames } from '@libs/contracts';
import { ServiceStatusStore } from '@libs/database';
import { EventProducer } from '@libs/kafka';
import { KingdeeSessionPool } from '@libs/kingdee-client';
import {
  createLoaderEngine,
  KingdeeHealth,
  LoaderEngine,
  LoaderRequests,
  LoadProcessor,
} from '@libs/loading';
import {
  alertMonitorProvider,
  CONFIG,
  connectionStatusProvider,
  CONNECTIONS,
  DATA_SOURCE,
  INSTANCE,
  KAFKA,
  LOGGER,
  PRODUCER,
  READINESS,
  Readiness,
  liveSchemesProvider,
  schemeWatcherProvider,
  TOPICS,
} from '@libs/runtime';
import { Scheme } from '@libs/scheme';
import { PostgresKingdeeSlotLeases } from '@libs/shared-limits';

/** The schemes the loader writes, by id: updated in place by the watcher, read by the engine per batch. */
export const LOADER_SCHEMES = Symbol('LOADER_SCHEMES');
type Schemes = Map<string, Scheme>;

/**
 * The loader's business objects, made by Nest (so a test can override any of them). Built here,
 * started and stopped by LoaderWorker in order.
 */
export const LOADER_PROVIDERS: Provider[] = [
  schemeWatcherProvider({
    identity: true,
    // A scheme writing to a connection this deployment does not have is refused (the last good
    // version, if any, stays); scheme:check says so before deploying.
    accept: (connections) => (next) =>
      connections?.hasKingdee(next.target.connection)
        ? undefined
        : `target.connection "${next.target.connection}" is not a Kingdee connection of this deployment (known: ${connections?.kingdeeNames().join(', ') || 'none'})`,
  }),
  // Target changes apply from the next batch. A changed idempotency key on a scheme with claims is
  // refused by the watcher (the old one stays).
  liveSchemesProvider(LOADER_SCHEMES),
  {
    // Session slots of capped Kingdee accounts, shared with every loader and reconciler.
    provide: PostgresKingdeeSlotLeases,
    inject: [DATA_SOURCE, INSTANCE, LOGGER],
    useFactory: (ds: DataSource, instance: string, logger: Logger) =>
      new PostgresKingdeeSlotLeases(ds, { instance, logger }),
  },
  alertMonitorProvider('loader'),
  // Per Kingdee connection: its health (circuit, logins) and operators' tests.
  connectionStatusProvider,
  {
    provide: KingdeeHealth,
    inject: [
      CONNECTIONS,
      READINESS,
      ServiceStatusStore,
      ConnectionStatusRecorder,
      AlertMonitor,
      CONFIG,
      LOGGER,
    ],
    useFactory: (
      registry: ConnectionRegistry,
      readiness: Readiness,
      statusRows: ServiceStatusStore,
      connectionStatus: ConnectionStatusRecorder,
      alerts: AlertMonitor,
      config: LoaderConfig,
      logger: Logger,
    ) =>
      new KingdeeHealth({
        registry,
        readiness,
        statusRows,
        connectionStatus,
        alerts,
        logger,
        loginRetryMs: Math.max(1000, config.LOADER_SETTLE_POLL_MS * 5),
      }),
  },
  {
    provide: LoaderEngine,
    inject: [
      CONFIG,
      CONNECTIONS,
      PostgresKingdeeSlotLeases,
      DATA_SOURCE,
      PRODUCER,
      TOPICS,
      LOADER_SCHEMES,
      INSTANCE,
      LOGGER,
      KingdeeHealth,
      AlertMonitor,
    ],
    useFactory: (
      config: LoaderConfig,
      registry: ConnectionRegistry,
      slots: PostgresKingdeeSlotLeases,
      ds: DataSource,
      producer: EventProducer,
      topics: TopicNames,
      schemes: Schemes,
      owner: string,
      logger: Logger,
      health: KingdeeHealth,
      alerts: AlertMonitor,
    ) => {
      const engine = createLoaderEngine({
        config,
        registry,
        slots,
        ds,
        producer,
        topics,
        schemes,
        owner,
        logger,
        onCircuitState: (connection, state, lastError) => health.onCircuitState(connection, state, lastError),
      });
      engine.holds.onStopped = (schemeId, reason) => alerts.onSchemeStopped(schemeId, reason);
      engine.baseData.onReport = (codes) => alerts.onBaseDataWaiting(codes);
      health.watch(() => engine.connections());
      return engine;
    },
  },
  { provide: LoadProcessor, inject: [LoaderEngine], useFactory: (engine: LoaderEngine) => engine.processor },
  {
    // Operators' replays of the load stage and the Kingdee check of live previews' codes.
    provide: LoaderRequests,
    inject: [DATA_SOURCE, KAFKA, LoaderEngine, TOPICS, LOADER_SCHEMES, INSTANCE, CONFIG, LOGGER],
    useFactory: (
      ds: DataSource,
      kafka: Kafka,
      engine: LoaderEngine,
      topics: TopicNames,
      schemes: Schemes,
      owner: string,
      config: LoaderConfig,
      logger: Logger,
    ) =>
      new LoaderRequests({
        ds,
        kafka,
        engine,
        documentTopic: topics.kingdeeDocument,
        schemes: (id) => schemes.get(id),
        owner,
        pollMs: config.WORK_REQUEST_POLL_MS,
        logger,
      }),
  },
  {
    // Operators' tests of Kingdee connections: a login and a one-row query, on the connection's own
    // pool when a scheme writes through it (else on a one-session pool made for the test).
    provide: ConnectionTestWorker,
    inject: [DATA_SOURCE, CONNECTIONS, LoaderEngine, ConnectionStatusRecorder, INSTANCE, CONFIG, LOGGER],
    useFactory: (
      ds: DataSource,
      registry: ConnectionRegistry,
      engine: LoaderEngine,
      status: ConnectionStatusRecorder,
      owner: string,
      config: LoaderConfig,
      logger: Logger,
    ) =>
      new ConnectionTestWorker({
        ds,
        kind: 'kingdee',
        names: () => registry.kingdeeNames(),
        test: async (name) => {
          const api =
            engine.connections().find((c) => c.id === name)?.api ??
            new KingdeeSessionPool(
              { ...registry.kingdee(name).clientOptions, sessions: 1 },
              { logger: logger.child({ connection: name }) },
            );
          const result = await testKingdeeConnection(api);
          status.report('kingdee', name, 'test', result.ok ? null : (result.error ?? 'failed'));
          return result;
        },
        owner,
        pollMs: config.WORK_REQUEST_POLL_MS,
        logger,
      }),
  },
];
