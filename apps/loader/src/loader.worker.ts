import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource, In } from 'typeorm';
import { AlertMonitor } from '@libs/alerts';
import { LoaderConfig } from '@libs/config';
import { ConnectionStatusRecorder, ConnectionTestWorker } from '@libs/connection-health';
import { ConnectionRegistry, schemeIdentityOf } from '@libs/connections';
import { BillClaimEntity, ServiceStatusStore } from '@libs/database';
import { BatchContext, ConsumedMessage } from '@libs/kafka';
import { isLoaderTransient, KingdeeHealth, LoaderEngine, LoaderRequests, LoadProcessor } from '@libs/loading';
import {
  checkSchemeKeys,
  clearSchemeFileStatus,
  CONFIG,
  CONNECTIONS,
  DATA_SOURCE,
  INSTANCE,
  LIVENESS,
  Liveness,
  LOGGER,
  ServiceConsumers,
} from '@libs/runtime';
import { Scheme, SchemeWatcher } from '@libs/scheme';
import { LOADER_SCHEMES } from './loader.providers';

/**
 * Starts the loader's parts in order (scheme keys checked, Kingdee logins, engine, the key-ordered
 * document consumer, replays, connection tests) and stops them in reverse; its business objects come
 * from LOADER_PROVIDERS.
 */
@Injectable()
export class LoaderWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(CONFIG) private readonly config: LoaderConfig,
    @Inject(CONNECTIONS) private readonly connections: ConnectionRegistry,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(INSTANCE) private readonly instance: string,
    @Inject(LIVENESS) private readonly liveness: Liveness,
    @Inject(LOADER_SCHEMES) private readonly schemes: Map<string, Scheme>,
    private readonly consumers: ServiceConsumers,
    private readonly statusRows: ServiceStatusStore,
    private readonly watcher: SchemeWatcher,
    private readonly engine: LoaderEngine,
    private readonly processor: LoadProcessor,
    private readonly health: KingdeeHealth,
    private readonly requests: LoaderRequests,
    private readonly connectionTests: ConnectionTestWorker,
    private readonly alerts: AlertMonitor,
    private readonly connectionStatus: ConnectionStatusRecorder,
  ) {}

  /** One chunk of Kingdee documents (from `@EventPattern('kingdeeDocument')`): claimed, written, audited. */
  async handle(messages: ConsumedMessage[], ctx: BatchContext): Promise<void> {
    await this.processor.handle(messages, ctx);
  }

  async onApplicationBootstrap(): Promise<void> {
    // A changed idempotency key on a scheme with claims stops the boot (the recorded key must come back).
    await checkSchemeKeys(this.ds, this.watcher, schemeIdentityOf(this.connections));
    await this.health.reportCircuit('default', 'closed');
    // A bad credential shows at start (log, /ready 503, /api/schemes lastError), not at the first document.
    await this.health.checkLogin();
    // Claims made before bill identities were kept: their keys are this scheme's in its account.
    for (const scheme of this.schemes.values())
      if (this.connections.hasKingdee(scheme.target.connection))
        await this.engine.claims.registerExistingIdentities?.(
          scheme.id,
          this.connections.kingdee(scheme.target.connection).account,
          scheme.target.formId,
        );
    await this.engine.start();
    // Key-ordered parallel loading: documents of different bills load concurrently on every session
    // whatever the partitions held, one bill's documents in offset order. Twice the sessions in
    // handler calls so that one call's claims and audit overlap the next write; the writes
    // themselves are bounded by KINGDEE_SESSIONS (the writer's slots).
    this.consumers.keyOrdered('kingdeeDocument', {
      // Heartbeats carry the rebalance signal: a joining member waits at most this for us.
      heartbeatIntervalMs: Math.min(1000, Math.floor(this.config.CONSUMER_SESSION_TIMEOUT_MS / 10)),
      concurrency: this.config.KINGDEE_SESSIONS * 2,
      chunkSize: this.config.LOADER_BATCH_SIZE,
      // Beyond one call per session, only full BatchSaves: under load Kingdee calls stay full.
      fullChunksFrom: this.config.KINGDEE_SESSIONS,
      maxUncommitted: this.config.LOADER_MAX_UNCOMMITTED,
      revokeMs: this.config.LOADER_REVOKE_MS,
      maxWaitTimeMs: this.config.LOADER_LINGER_MS,
      isTransient: isLoaderTransient,
    });
    this.liveness.waitReasons({
      circuitOpen: () => this.health.openCircuits.size > 0,
      // Writes whose outcome is being settled hold their offsets back for the settle window.
      settling: () =>
        this.ds
          .getRepository(BillClaimEntity)
          .exists({ where: { state: In(['writing', 'settling', 'saved_not_audited']) } }),
    });
    this.watcher.start();
    this.requests.start();
    this.connectionTests.start();
    this.logger.info(
      { schemes: [...this.schemes.keys()], sessions: this.config.KINGDEE_SESSIONS, owner: this.instance },
      'loader consuming',
    );
  }

  /**
   * SIGTERM: running batches are revoked (no new writes; in-flight ones go to settling; offsets of
   * unfinished work stay uncommitted), all within LOADER_SHUTDOWN_GRACE_MS even while Kingdee is down.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const started = Date.now();
    this.health.stop();
    await this.watcher.stop();
    const grace = this.config.LOADER_SHUTDOWN_GRACE_MS;
    await this.requests.stop();
    await this.connectionTests.stop();
    await this.consumers.stop('kingdeeDocument', grace);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.engine.stop(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(1000, grace - (Date.now() - started)));
      }),
    ]);
    clearTimeout(timer);
    await this.alerts.stop();
    await this.connectionStatus.flush();
    await clearSchemeFileStatus(this.ds, 'loader', this.instance);
    await this.statusRows.remove().catch(() => undefined);
    this.logger.info({ ms: Date.now() - started }, 'loader stopped');
  }
}
