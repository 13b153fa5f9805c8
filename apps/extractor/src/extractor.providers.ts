import { Provider } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { systemClock } from '@libs/common';
import { ExtractorConfig } from '@libs/config';
import { ConnectionStatusRecorder, ConnectionTestWorker, testWdtConnection } from '@libs/connection-health';
import { ConnectionRegistry } from '@libs/connections';
import { TopicNames } from '@libs/contracts';
import { ServiceStatusStore } from '@libs/database';
import {
  ExtractorRequests,
  KafkaRawEventSink,
  PostgresExtractionStore,
  SchemeSchedules,
  WdtClients,
} from '@libs/extraction';
import { DeadLetterPublisher, EventProducer } from '@libs/kafka';
import {
  CONFIG,
  connectionStatusProvider,
  CONNECTIONS,
  DATA_SOURCE,
  DEAD_LETTERS,
  INSTANCE,
  LOGGER,
  PRODUCER,
  READINESS,
  Readiness,
  schemeWatcherProvider,
  TOPICS,
} from '@libs/runtime';
import { draftSchemePath, SchemeWatcher } from '@libs/scheme';

/**
 * The extractor's business objects, made by Nest (so a test can override any of them). Built here,
 * started and stopped by ExtractorWorker in order.
 */
export const EXTRACTOR_PROVIDERS: Provider[] = [
  schemeWatcherProvider({ identity: true }),
  {
    provide: WdtClients,
    inject: [DATA_SOURCE, INSTANCE, LOGGER],
    useFactory: (ds: DataSource, instance: string, logger: Logger) => new WdtClients(ds, instance, logger),
  },
  {
    provide: PostgresExtractionStore,
    inject: [DATA_SOURCE],
    useFactory: (ds: DataSource) => new PostgresExtractionStore(ds),
  },
  {
    provide: KafkaRawEventSink,
    inject: [PRODUCER, DEAD_LETTERS, TOPICS],
    useFactory: (producer: EventProducer, deadLetters: DeadLetterPublisher, topics: TopicNames) =>
      new KafkaRawEventSink(producer, deadLetters, topics),
  },
  // Per WDT connection: its health from the polls and operators' tests.
  connectionStatusProvider,
  {
    provide: SchemeSchedules,
    inject: [
      CONFIG,
      CONNECTIONS,
      SchemeWatcher,
      WdtClients,
      PostgresExtractionStore,
      KafkaRawEventSink,
      DATA_SOURCE,
      READINESS,
      ServiceStatusStore,
      ConnectionStatusRecorder,
      INSTANCE,
      LOGGER,
    ],
    useFactory: (
      config: ExtractorConfig,
      registry: ConnectionRegistry,
      watcher: SchemeWatcher,
      clients: WdtClients,
      store: PostgresExtractionStore,
      sink: KafkaRawEventSink,
      ds: DataSource,
      readiness: Readiness,
      statusRows: ServiceStatusStore,
      connectionStatus: ConnectionStatusRecorder,
      instance: string,
      logger: Logger,
    ) =>
      new SchemeSchedules({
        registry,
        watcher,
        clients,
        store,
        sink,
        ds,
        readiness,
        statusRows,
        connectionStatus,
        clock: systemClock,
        instance,
        logger,
        recordRereads: config.EXTRACTOR_RECORD_REREADS,
      }),
  },
  {
    // Operators' backfills and previews of the schemes this replica leads (it holds their WDT budget).
    provide: ExtractorRequests,
    inject: [
      DATA_SOURCE,
      CONNECTIONS,
      WdtClients,
      PostgresExtractionStore,
      SchemeSchedules,
      INSTANCE,
      CONFIG,
      LOGGER,
    ],
    useFactory: (
      ds: DataSource,
      registry: ConnectionRegistry,
      clients: WdtClients,
      store: PostgresExtractionStore,
      schedules: SchemeSchedules,
      owner: string,
      config: ExtractorConfig,
      logger: Logger,
    ) =>
      new ExtractorRequests({
        ds,
        sourceFor: (scheme) => clients.clientFor(registry.wdt(scheme.source.connection)),
        store,
        clock: systemClock,
        serviceFor: (id) => schedules.serviceOf(id),
        leading: () => schedules.leading(),
        // The preview code (mapping engine, Kingdee references, the operator lib with its Excel
        // export) is loaded on the first preview, not at boot: most of a service's memory is the code
        // it loads.
        evaluate: async (scheme, record) => (await import('@libs/operator')).evaluatePreview(scheme, record),
        parseDraft: async (yaml, id) =>
          (await import('@libs/operator')).parseDraftScheme(yaml, draftSchemePath(id)),
        owner,
        pollMs: config.WORK_REQUEST_POLL_MS,
        logger,
      }),
  },
  {
    // Operators' tests of WDT connections: one empty-window query each, on the connection's client.
    provide: ConnectionTestWorker,
    inject: [DATA_SOURCE, CONNECTIONS, WdtClients, ConnectionStatusRecorder, INSTANCE, CONFIG, LOGGER],
    useFactory: (
      ds: DataSource,
      registry: ConnectionRegistry,
      clients: WdtClients,
      status: ConnectionStatusRecorder,
      owner: string,
      config: ExtractorConfig,
      logger: Logger,
    ) =>
      new ConnectionTestWorker({
        ds,
        kind: 'wdt',
        names: () => registry.wdtNames(),
        test: async (name) => {
          const result = await testWdtConnection(clients.clientFor(registry.wdt(name)));
          status.report('wdt', name, 'test', result.ok ? null : (result.error ?? 'failed'));
          return result;
        },
        owner,
        pollMs: config.WORK_REQUEST_POLL_MS,
        logger,
      }),
  },
];
