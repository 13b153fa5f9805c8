import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AlertNotifier } from '@libs/alerts';
import { ReconcilerConfig } from '@libs/config';
import { ConnectionRegistry, schemeIdentityOf } from '@libs/connections';
import { isKingdeeError } from '@libs/kingdee-client';
import { ReconcileRepushPoller, ReconcileRunPoller, ReconcileScheduler } from '@libs/reconcile';
import {
  checkSchemeKeys,
  clearSchemeFileStatus,
  CONFIG,
  CONNECTIONS,
  DATA_SOURCE,
  INSTANCE,
  LOGGER,
  READINESS,
  Readiness,
} from '@libs/runtime';
import { Scheme, SchemeWatcher } from '@libs/scheme';
import { PostgresKingdeeSlotLeases, PostgresWdtCallGate } from '@libs/shared-limits';
import { RECONCILE_CONNECTIONS, RECONCILE_SCHEMES, ReconcileConnections } from './reconciler.providers';
import { ReconcilerStatus } from './reconciler-status';

/**
 * The reconciler: holds the WDT client and RECONCILE_KINGDEE_SESSIONS Kingdee sessions, queues the
 * nightly runs of the schemes' `reconcile.cron` (unless RECONCILE_SCHEDULE_ENABLED=false), and carries
 * out queued runs and requested re-pushes from Postgres. Scheme files are followed without a restart.
 * A refused Kingdee login makes `/ready` answer 503 until a login succeeds. Its parts come from
 * RECONCILER_PROVIDERS; this starts and stops them in order.
 */
@Injectable()
export class ReconcilerWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private loginTimer?: NodeJS.Timeout;

  constructor(
    @Inject(CONFIG) private readonly config: ReconcilerConfig,
    @Inject(CONNECTIONS) private readonly connections: ConnectionRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(READINESS) private readonly readiness: Readiness,
    @Inject(INSTANCE) private readonly instance: string,
    @Inject(RECONCILE_SCHEMES) private readonly schemes: Map<string, Scheme>,
    @Inject(RECONCILE_CONNECTIONS) private readonly reconcileConnections: ReconcileConnections,
    private readonly watcher: SchemeWatcher,
    private readonly status: ReconcilerStatus,
    private readonly runs: ReconcileRunPoller,
    private readonly repushes: ReconcileRepushPoller,
    @Inject(ReconcileScheduler) private readonly scheduler: ReconcileScheduler | null,
    private readonly alerts: AlertNotifier,
    private readonly gate: PostgresWdtCallGate,
    private readonly slots: PostgresKingdeeSlotLeases,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await checkSchemeKeys(this.ds, this.watcher, schemeIdentityOf(this.connections));
    await this.checkLogin();
    // Cron fires are seen within half a minute (sooner with a short poll, as tests use).
    this.scheduler?.start(Math.min(30_000, this.config.RECONCILE_POLL_MS));
    this.runs.start();
    this.repushes.start();
    this.watcher.start();
    await this.status.report({});
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
          await this.reconcileConnections.kingdee(scheme).withClient((client) => client.ensureSession());
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

  /** SIGTERM: the run under way is aborted and stays `running`; the next holder reads it again. */
  async beforeApplicationShutdown(): Promise<void> {
    clearTimeout(this.loginTimer);
    await this.scheduler?.stop();
    await this.watcher.stop();
    await Promise.all([this.runs.stop(), this.repushes.stop()]);
    await this.alerts.flush();
    await this.gate.stop();
    await this.slots.releaseAll().catch(() => undefined);
    await clearSchemeFileStatus(this.ds, 'reconciler', this.instance);
    await this.status.remove();
    this.logger.info('reconciler stopped');
  }
}
