import { Provider } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { alertChannelsFromConfig, AlertNotifier } from '@libs/alerts';
import { systemClock } from '@libs/common';
import { ReconcilerConfig } from '@libs/config';
import { ConnectionRegistry } from '@libs/connections';
import { TopicNames } from '@libs/contracts';
import { ServiceStatusStore } from '@libs/database';
import { EventProducer } from '@libs/kafka';
import {
  createReconcileConnections,
  createReconcileEngine,
  markRunCancelled,
  ReconcileEngine,
  ReconcilePollerOptions,
  ReconcileRepushPoller,
  ReconcileRunPoller,
  ReconcileScheduler,
} from '@libs/reconcile';
import {
  CONFIG,
  CONNECTIONS,
  DATA_SOURCE,
  INSTANCE,
  LOGGER,
  PRODUCER,
  liveSchemesProvider,
  schemeWatcherProvider,
  TOPICS,
} from '@libs/runtime';
import { Scheme } from '@libs/scheme';
import { PostgresKingdeeSlotLeases, PostgresWdtCallGate } from '@libs/shared-limits';
import { ReconcilerStatus } from './reconciler-status';

/** The schemes the reconciler checks, by id: updated in place by the watcher. */
export const RECONCILE_SCHEMES = Symbol('RECONCILE_SCHEMES');
/** Per-scheme WDT client and Kingdee session pool (one per connection). */
export const RECONCILE_CONNECTIONS = Symbol('RECONCILE_CONNECTIONS');
export const RECONCILE_ENGINE = Symbol('RECONCILE_ENGINE');
const POLLER_OPTIONS = Symbol('POLLER_OPTIONS');
type Schemes = Map<string, Scheme>;
export type ReconcileConnections = ReturnType<typeof createReconcileConnections>;

/**
 * The reconciler's business objects, made by Nest (so a test can override any of them). Built here,
 * started and stopped by ReconcilerWorker in order.
 */
export const RECONCILER_PROVIDERS: Provider[] = [
  schemeWatcherProvider({ identity: true }),
  liveSchemesProvider(RECONCILE_SCHEMES),
  {
    // WDT app keys' calls, shared with every process through Postgres.
    provide: PostgresWdtCallGate,
    inject: [DATA_SOURCE, INSTANCE, LOGGER],
    useFactory: (ds: DataSource, instance: string, logger: Logger) =>
      new PostgresWdtCallGate(ds, { instance, logger }),
  },
  {
    // Kingdee session slots, shared with every loader and reconciler through Postgres.
    provide: PostgresKingdeeSlotLeases,
    inject: [DATA_SOURCE, INSTANCE, LOGGER],
    useFactory: (ds: DataSource, instance: string, logger: Logger) =>
      new PostgresKingdeeSlotLeases(ds, { instance, logger }),
  },
  {
    provide: RECONCILE_CONNECTIONS,
    inject: [CONNECTIONS, CONFIG, LOGGER, PostgresWdtCallGate, PostgresKingdeeSlotLeases],
    useFactory: (
      registry: ConnectionRegistry,
      config: ReconcilerConfig,
      logger: Logger,
      gate: PostgresWdtCallGate,
      slots: PostgresKingdeeSlotLeases,
    ): ReconcileConnections =>
      createReconcileConnections(registry, config.RECONCILE_KINGDEE_SESSIONS, logger, { gate, slots }),
  },
  {
    provide: AlertNotifier,
    inject: [CONFIG, LOGGER],
    useFactory: (config: ReconcilerConfig, logger: Logger) =>
      new AlertNotifier(alertChannelsFromConfig(config), {
        minIntervalMs: config.ALERT_MIN_INTERVAL_SECONDS * 1000,
        logger,
      }),
  },
  {
    provide: RECONCILE_ENGINE,
    inject: [
      DATA_SOURCE,
      RECONCILE_SCHEMES,
      RECONCILE_CONNECTIONS,
      PRODUCER,
      TOPICS,
      AlertNotifier,
      LOGGER,
      CONFIG,
    ],
    useFactory: (
      ds: DataSource,
      schemes: Schemes,
      connections: ReconcileConnections,
      producer: EventProducer,
      topics: TopicNames,
      alerts: AlertNotifier,
      logger: Logger,
      config: ReconcilerConfig,
    ): ReconcileEngine =>
      createReconcileEngine({
        ds,
        schemes: (id) => schemes.get(id),
        wdt: connections.wdt,
        kingdee: connections.kingdee,
        producer,
        topics,
        alerts,
        logger,
        kingdeePageRows: config.RECONCILE_KINGDEE_PAGE_ROWS,
      }),
  },
  {
    provide: ReconcilerStatus,
    inject: [ServiceStatusStore, CONFIG, RECONCILE_SCHEMES, LOGGER],
    useFactory: (rows: ServiceStatusStore, config: ReconcilerConfig, schemes: Schemes, logger: Logger) =>
      new ReconcilerStatus(rows, config, schemes, logger),
  },
  {
    provide: POLLER_OPTIONS,
    inject: [INSTANCE, CONFIG, RECONCILE_SCHEMES, LOGGER],
    useFactory: (
      owner: string,
      config: ReconcilerConfig,
      schemes: Schemes,
      logger: Logger,
    ): ReconcilePollerOptions => ({
      owner,
      pollMs: config.RECONCILE_POLL_MS,
      leaseMs: config.RECONCILE_LEASE_MS,
      schemes: () => [...schemes.keys()],
      logger,
    }),
  },
  {
    // Queued runs, carried out one at a time per replica.
    provide: ReconcileRunPoller,
    inject: [RECONCILE_ENGINE, DATA_SOURCE, ReconcilerStatus, POLLER_OPTIONS],
    useFactory: (
      engine: ReconcileEngine,
      ds: DataSource,
      status: ReconcilerStatus,
      options: ReconcilePollerOptions,
    ) =>
      new ReconcileRunPoller(
        {
          runs: engine.runs,
          carrier: engine.service,
          cancel: (id, owner) => markRunCancelled(ds, id, owner),
          onOutcome: (runId, outcome) =>
            void status.report({
              lastRun: runId,
              lastOutcome: outcome.kind === 'finished' ? outcome.view.state : outcome.kind,
            }),
        },
        options,
      ),
  },
  {
    // Re-pushes operators requested from a run's findings.
    provide: ReconcileRepushPoller,
    inject: [RECONCILE_ENGINE, POLLER_OPTIONS],
    useFactory: (engine: ReconcileEngine, options: ReconcilePollerOptions) =>
      new ReconcileRepushPoller(engine.repush, options),
  },
  {
    // The nightly runs of the schemes' `reconcile.cron`; none when RECONCILE_SCHEDULE_ENABLED=false.
    provide: ReconcileScheduler,
    inject: [CONFIG, RECONCILE_SCHEMES, RECONCILE_ENGINE, LOGGER],
    useFactory: (config: ReconcilerConfig, schemes: Schemes, engine: ReconcileEngine, logger: Logger) =>
      config.RECONCILE_SCHEDULE_ENABLED
        ? new ReconcileScheduler({
            schemes: () => [...schemes.values()],
            runs: engine.runs,
            clock: systemClock,
            logger,
          })
        : null,
  },
];
