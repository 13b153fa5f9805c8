import { PostgresKingdeeSlotLeases, PostgresWdtCallGate } from '@libs/shared-limits';
import { hostname } from 'node:os';
import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { ServiceStatusStore } from '@libs/database';
import { alertChannelsFromConfig, AlertNotifier } from '@libs/alerts';
import { systemClock } from '@libs/common';
import { ReconcilerConfig } from '@libs/config';
import { ConnectionRegistry, schemeIdentityOf } from '@libs/connections';
import { TopicNames } from '@libs/contracts';
import { EventProducer } from '@libs/kafka';
import { isKingdeeError, KingdeeSessionPool } from '@libs/kingdee-client';
import {
  createReconcileConnections,
  createReconcileEngine,
  markRunCancelled,
  ReconcileRepushPoller,
  ReconcileRunPoller,
  ReconcileScheduler,
} from '@libs/reconcile';
import {
  checkSchemeKeys,
  clearSchemeFileStatus,
  CONFIG,
  CONNECTIONS,
  DATA_SOURCE,
  LOGGER,
  PRODUCER,
  READINESS,
  Readiness,
  TOPICS,
} from '@libs/runtime';
import { Scheme, SchemeWatcher } from '@libs/scheme';

/**
 * The reconciler: holds the WDT client and RECONCILE_KINGDEE_SESSIONS Kingdee sessions, queues the
 * nightly runs of the schemes' `reconcile.cron` (unless RECONCILE_SCHEDULE_ENABLED=false), and carries
 * out queued runs and requested re-pushes from Postgres. Scheme files are followed without a restart.
 * A refused Kingdee login makes `/ready` answer 503 until a login succeeds.
 */
@Injectable()
export class ReconcilerWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly instance = `${hostname()}-${process.pid}`;
  private kingdee?: (scheme: Scheme) => KingdeeSessionPool;
  /** WDT app keys' calls and Kingdee session slots, shared with every process through Postgres. */
  private gate?: PostgresWdtCallGate;
  private slots?: PostgresKingdeeSlotLeases;
  private alerts?: AlertNotifier;
  private runs?: ReconcileRunPoller;
  private repushes?: ReconcileRepushPoller;
  private scheduler?: ReconcileScheduler;
  private loginTimer?: NodeJS.Timeout;
  private readonly schemes = new Map<string, Scheme>();

  constructor(
    @Inject(CONFIG) private readonly config: ReconcilerConfig,
    @Inject(CONNECTIONS) private readonly connections: ConnectionRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(PRODUCER) private readonly producer: EventProducer,
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(READINESS) private readonly readiness: Readiness,
    private readonly statusRows: ServiceStatusStore,
    private readonly watcher: SchemeWatcher,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await checkSchemeKeys(this.ds, this.watcher, schemeIdentityOf(this.connections));
    for (const s of this.watcher.schemes()) this.schemes.set(s.id, s);
    this.watcher.onChange((changes) => {
      for (const change of changes) {
        if (change.kind === 'removed') this.schemes.delete(change.id);
        else this.schemes.set(change.id, change.scheme);
      }
    });
    this.gate = new PostgresWdtCallGate(this.ds, { instance: this.instance, logger: this.logger });
    this.slots = new PostgresKingdeeSlotLeases(this.ds, { instance: this.instance, logger: this.logger });
    const { wdt, kingdee } = createReconcileConnections(
      this.connections,
      this.config.RECONCILE_KINGDEE_SESSIONS,
      this.logger,
      { gate: this.gate, slots: this.slots },
    );
    this.kingdee = kingdee;
    this.alerts = new AlertNotifier(alertChannelsFromConfig(this.config), {
      minIntervalMs: this.config.ALERT_MIN_INTERVAL_SECONDS * 1000,
      logger: this.logger,
    });
    const engine = createReconcileEngine({
      ds: this.ds,
      schemes: (id) => this.schemes.get(id),
      wdt,
      kingdee,
      producer: this.producer,
      topics: this.topics,
      alerts: this.alerts,
      logger: this.logger,
      kingdeePageRows: this.config.RECONCILE_KINGDEE_PAGE_ROWS,
    });
    await this.checkLogin();
    const options = {
      owner: this.instance,
      pollMs: this.config.RECONCILE_POLL_MS,
      leaseMs: this.config.RECONCILE_LEASE_MS,
      schemes: () => [...this.schemes.keys()],
      logger: this.logger,
    };
    this.runs = new ReconcileRunPoller(
      {
        runs: engine.runs,
        carrier: engine.service,
        cancel: (id, owner) => markRunCancelled(this.ds, id, owner),
        onOutcome: (runId, outcome) =>
          void this.report({
            lastRun: runId,
            lastOutcome: outcome.kind === 'finished' ? outcome.view.state : outcome.kind,
          }),
      },
      options,
    );
    this.repushes = new ReconcileRepushPoller(engine.repush, options);
    if (this.config.RECONCILE_SCHEDULE_ENABLED) {
      this.scheduler = new ReconcileScheduler({
        schemes: () => [...this.schemes.values()],
        runs: engine.runs,
        clock: systemClock,
        logger: this.logger,
      });
      // Cron fires are seen within half a minute (sooner with a short poll, as tests use).
      this.scheduler.start(Math.min(30_000, this.config.RECONCILE_POLL_MS));
    }
    this.runs.start();
    this.repushes.start();
    this.watcher.start();
    await this.report({});
    this.logger.info(
      {
        schemes: [...this.schemes.keys()],
        schedule: this.config.RECONCILE_SCHEDULE_ENABLED,
        kingdeeSessions: this.config.RECONCILE_KINGDEE_SESSIONS,
        owner: this.instance,
      },
      'reconciler started',
    );
  }

  /** One Kingdee login: a refused one makes the service unready (tried again every 30 s). */
  private async checkLogin(): Promise<void> {
    clearTimeout(this.loginTimer);
    try {
      // One login per Kingdee connection the loaded schemes write to.
      const byConnection = new Map([...this.schemes.values()].map((s) => [s.target.connection, s]));
      for (const scheme of byConnection.values())
        if (this.connections.hasKingdee(scheme.target.connection))
          await this.kingdee?.(scheme).withClient((client) => client.ensureSession());
      this.readiness.ok('kingdee');
    } catch (err) {
      if (isKingdeeError(err) && err.kind === 'auth') {
        const reason = `Kingdee ${err.kind} error (code ${err.code}): ${err.message}`;
        this.logger.error({ err: reason }, "Kingdee refuses the reconciler's credentials: not ready");
        this.readiness.fail('kingdee', reason);
      } else this.logger.warn({ err: (err as Error).message }, 'kingdee login check failed');
      this.loginTimer = setTimeout(() => void this.checkLogin(), 30_000);
      this.loginTimer.unref();
    }
  }

  /** service_status row `reconciler` of this instance, read by the operator. */
  private async report(extra: Record<string, unknown>): Promise<void> {
    const value = {
      schedule: this.config.RECONCILE_SCHEDULE_ENABLED,
      schemes: [...this.schemes.keys()],
      kingdeeSessions: this.config.RECONCILE_KINGDEE_SESSIONS,
      since: new Date().toISOString(),
      ...extra,
    };
    await this.statusRows
      .put('reconciler', value)
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'could not record reconciler status'));
  }

  /** SIGTERM: the run under way is aborted and stays `running`; the next holder reads it again. */
  async beforeApplicationShutdown(): Promise<void> {
    clearTimeout(this.loginTimer);
    await this.scheduler?.stop();
    await this.watcher.stop();
    await Promise.all([this.runs?.stop(), this.repushes?.stop()]);
    await this.alerts?.flush();
    await this.gate?.stop();
    await this.slots?.releaseAll().catch(() => undefined);
    await clearSchemeFileStatus(this.ds, 'reconciler', this.instance);
    await this.statusRows.remove().catch(() => undefined);
    this.logger.info('reconciler stopped');
  }
}
