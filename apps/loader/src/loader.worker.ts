import { PostgresKingdeeSlotLeases } from '@libs/shared-limits';
import { ConnectionRegistry, schemeIdentityOf } from '@libs/connections';
import {
  ConnectionStatusRecorder,
  ConnectionTestWorker,
  testKingdeeConnection,
} from '@libs/connection-health';
import { hostname } from 'node:os';
import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AlertMonitor, createAlertMonitor } from '@libs/alerts';
import { LoaderConfig } from '@libs/config';
import { ServiceStatusStore } from '@libs/database';
import { TopicNames } from '@libs/contracts';
import { BatchContext, ConsumedMessage, EventProducer } from '@libs/kafka';
import { isKingdeeError, KingdeeSessionPool } from '@libs/kingdee-client';
import {
  CircuitStateName,
  createLoaderEngine,
  isLoaderTransient,
  KingdeeConnection,
  LoaderEngine,
  LoaderRequests,
  LoadProcessor,
} from '@libs/loading';
import { setKingdeeCircuitOpen } from '@libs/metrics';
import {
  checkSchemeKeys,
  clearSchemeFileStatus,
  CONFIG,
  CONNECTIONS,
  DATA_SOURCE,
  KAFKA,
  LIVENESS,
  Liveness,
  LOGGER,
  PRODUCER,
  READINESS,
  Readiness,
  ServiceConsumers,
  TOPICS,
} from '@libs/runtime';
import { Scheme, SchemeWatcher } from '@libs/scheme';

@Injectable()
export class LoaderWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private processor?: LoadProcessor;
  private engine?: LoaderEngine;
  private alerts?: AlertMonitor;
  private requests?: LoaderRequests;
  private readonly instance = `${hostname()}-${process.pid}`;
  /** Re-login timer while Kingdee refuses the credentials. */
  private loginTimer?: NodeJS.Timeout;
  private loginCheck?: Promise<void>;
  /** Connections whose last login check was refused. */
  private lastRefused = new Set<string>();
  /** Session slots of capped Kingdee accounts, shared with every loader and reconciler. */
  private readonly slots: PostgresKingdeeSlotLeases;
  /** Per Kingdee connection: its health (service_status `connection:kingdee:<name>`) and operators' tests. */
  private connectionStatus?: ConnectionStatusRecorder;
  private connectionTests?: ConnectionTestWorker;
  /** Kingdee connections whose circuit is not closed: waiting on Kingdee is not being stuck. */
  private readonly openCircuits = new Set<string>();

  constructor(
    @Inject(CONFIG) private readonly config: LoaderConfig,
    @Inject(CONNECTIONS) private readonly connections: ConnectionRegistry,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(PRODUCER) private readonly producer: EventProducer,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(READINESS) private readonly readiness: Readiness,
    @Inject(LIVENESS) private readonly liveness: Liveness,
    private readonly consumers: ServiceConsumers,
    private readonly statusRows: ServiceStatusStore,
    private readonly watcher: SchemeWatcher,
  ) {
    this.slots = new PostgresKingdeeSlotLeases(this.ds, { instance: this.instance, logger: this.logger });
  }

  /** One chunk of Kingdee documents (from `@EventPattern('kingdeeDocument')`): claimed, written, audited. */
  async handle(messages: ConsumedMessage[], ctx: BatchContext): Promise<void> {
    if (!this.processor) throw new Error('loader not started');
    await this.processor.handle(messages, ctx);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.alerts = createAlertMonitor(this.config, { logger: this.logger, service: 'loader' });
    this.connectionStatus = new ConnectionStatusRecorder(this.statusRows, {
      logger: this.logger,
    });
    // Target changes apply from the next batch: the engine reads this map, updated in place. A
    // changed idempotency key on a scheme with claims is refused by the watcher (the old one stays).
    await checkSchemeKeys(this.ds, this.watcher, schemeIdentityOf(this.connections));
    const schemes = new Map<string, Scheme>(this.watcher.schemes().map((s) => [s.id, s]));
    this.watcher.onChange((changes) => {
      for (const change of changes) {
        if (change.kind === 'removed') schemes.delete(change.id);
        else schemes.set(change.id, change.scheme);
      }
    });
    this.engine = createLoaderEngine({
      config: this.config,
      registry: this.connections,
      slots: this.slots,
      ds: this.ds,
      producer: this.producer,
      topics: this.topics,
      schemes,
      owner: this.instance,
      logger: this.logger,
      onCircuitState: (connection, state, lastError) => {
        if (state === 'closed') this.openCircuits.delete(connection);
        else this.openCircuits.add(connection);
        void this.reportCircuit(connection, state, lastError);
        this.alerts?.onCircuitState(state, lastError);
        // Is it the credentials? A login says (and keeps saying until one succeeds).
        if (state === 'open' || state === 'closed') void this.checkLogin();
      },
    });
    this.engine.holds.onStopped = (schemeId, reason) => this.alerts?.onSchemeStopped(schemeId, reason);
    this.engine.baseData.onReport = (codes) => this.alerts?.onBaseDataWaiting(codes);
    await this.reportCircuit('default', 'closed');
    // A bad credential shows at start (log, /ready 503, /api/schemes lastError), not at the first document.
    await this.checkLogin();
    // Claims made before bill identities were kept: their keys are this scheme's in its account.
    for (const scheme of schemes.values())
      if (this.connections.hasKingdee(scheme.target.connection))
        await this.engine.claims.registerExistingIdentities?.(
          scheme.id,
          this.connections.kingdee(scheme.target.connection).account,
          scheme.target.formId,
        );
    await this.engine.start();
    const processor = this.engine.processor;
    // Key-ordered parallel loading: documents of different bills load concurrently on every session
    // whatever the partitions held, one bill's documents in offset order. Twice the sessions in
    // handler calls so that one call's claims and audit overlap the next write; the writes
    // themselves are bounded by KINGDEE_SESSIONS (the writer's slots).
    this.processor = processor;
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
      circuitOpen: () => this.openCircuits.size > 0,
      // Writes whose outcome is being settled hold their offsets back for the settle window.
      settling: async () =>
        (
          (await this.ds.query(
            `SELECT EXISTS (SELECT 1 FROM bill_claims WHERE state IN ('writing', 'settling', 'saved_not_audited')) AS settling`,
          )) as Array<{ settling: boolean }>
        )[0].settling,
    });
    this.watcher.start();
    // Operators' replays of the load stage and the Kingdee check of live previews' codes.
    this.requests = new LoaderRequests({
      ds: this.ds,
      kafka: this.kafka,
      engine: this.engine,
      documentTopic: this.topics.kingdeeDocument,
      schemes: (id) => schemes.get(id),
      owner: this.instance,
      pollMs: this.config.WORK_REQUEST_POLL_MS,
      logger: this.logger,
    });
    this.requests.start();
    this.startConnectionTests();
    this.logger.info(
      { schemes: [...schemes.keys()], sessions: this.config.KINGDEE_SESSIONS, owner: this.instance },
      'loader consuming',
    );
  }

  /**
   * Logs in to every Kingdee connection once (one session each). A refused login (error kind `auth`)
   * makes `/ready` answer 503 with the reason and is recorded for `/api/schemes` (service_status key
   * `kingdee_auth`); it is tried again every few seconds until a login succeeds. Other failures
   * (Kingdee down) are the circuit's business.
   */
  private checkLogin(): Promise<void> {
    this.loginCheck ??= this.loginOnce().finally(() => {
      this.loginCheck = undefined;
    });
    return this.loginCheck;
  }

  private async loginOnce(): Promise<void> {
    const refused = new Map<string, string>();
    const connections = this.engine?.connections() ?? [];
    for (const connection of connections) {
      try {
        await login(connection);
      } catch (err) {
        if (!isKingdeeError(err) || err.kind !== 'auth') {
          this.logger.warn(
            { connection: connection.id, err: (err as Error).message },
            'kingdee login check failed',
          );
          continue;
        }
        refused.set(
          connection.id,
          `Kingdee ${err.kind} error (code ${err.code}) on connection "${connection.id}": ${err.message}`,
        );
      }
    }
    for (const connection of connections)
      this.connectionStatus?.report('kingdee', connection.id, 'login', refused.get(connection.id) ?? null);
    // A refused connection holds only its own schemes (their documents park behind its circuit); the
    // loader is unready only when every connection it writes to refuses it.
    const failure = refused.size > 0 ? [...refused.values()].join('; ') : undefined;
    const allRefused = connections.length > 0 && refused.size === connections.length;
    const failing = this.readiness.failures().kingdee !== undefined;
    if ([...refused.keys()].some((id) => !this.lastRefused.has(id)))
      this.logger.error(
        { err: failure, connections: [...refused.keys()] },
        'Kingdee refuses the credentials',
      );
    if (allRefused) this.readiness.fail('kingdee', failure!);
    else this.readiness.ok('kingdee');
    clearTimeout(this.loginTimer);
    this.loginTimer = undefined;
    if (failure) {
      this.loginTimer = setTimeout(
        () => void this.checkLogin(),
        Math.max(1000, this.config.LOADER_SETTLE_POLL_MS * 5),
      );
      this.loginTimer.unref();
    } else if (failing || this.lastRefused.size > 0)
      this.logger.info('Kingdee accepts the credentials again');
    for (const connection of connections) {
      const error = refused.get(connection.id);
      if (error !== undefined || this.lastRefused.has(connection.id))
        await this.reportAuth(connection.id, error);
    }
    this.lastRefused = new Set(refused.keys());
  }

  private async reportAuth(connection: string, failure: string | undefined): Promise<void> {
    // The default connection keeps the key operators already read.
    const key = connection === 'default' ? 'kingdee_auth' : `kingdee_auth:${connection}`;
    await this.statusRows
      .put(key, { ok: !failure, lastError: failure ?? null, since: new Date().toISOString() })
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'could not record Kingdee login state'));
  }

  private async reportCircuit(
    connection: string,
    state: CircuitStateName,
    lastError?: string,
  ): Promise<void> {
    setKingdeeCircuitOpen(state !== 'closed', connection);
    if (this.connections.hasKingdee(connection))
      this.connectionStatus?.report(
        'kingdee',
        connection,
        'circuit',
        state === 'closed' ? null : (lastError ?? `circuit ${state}`),
      );
    // The default connection keeps the key operators already read.
    const key = connection === 'default' ? 'kingdee_circuit' : `kingdee_circuit:${connection}`;
    await this.statusRows
      .put(key, { state, lastError: lastError ?? null, since: new Date().toISOString() })
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'could not record circuit state'));
  }

  /**
   * Answers operators' tests of Kingdee connections: a login and a one-row query, on the connection's
   * own pool when a scheme writes through it (else on a one-session pool made for the test).
   */
  private startConnectionTests(): void {
    this.connectionTests = new ConnectionTestWorker({
      ds: this.ds,
      kind: 'kingdee',
      names: () => this.connections.kingdeeNames(),
      test: async (name) => {
        const api =
          this.engine?.connections().find((c) => c.id === name)?.api ??
          new KingdeeSessionPool(
            { ...this.connections.kingdee(name).clientOptions, sessions: 1 },
            { logger: this.logger.child({ connection: name }) },
          );
        const result = await testKingdeeConnection(api);
        this.connectionStatus?.report('kingdee', name, 'test', result.ok ? null : (result.error ?? 'failed'));
        return result;
      },
      owner: this.instance,
      pollMs: this.config.WORK_REQUEST_POLL_MS,
      logger: this.logger,
    });
    this.connectionTests.start();
  }

  /**
   * SIGTERM: running batches are revoked (no new writes; in-flight ones go to settling; offsets of
   * unfinished work stay uncommitted), all within LOADER_SHUTDOWN_GRACE_MS even while Kingdee is down.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const started = Date.now();
    clearTimeout(this.loginTimer);
    await this.watcher.stop();
    const grace = this.config.LOADER_SHUTDOWN_GRACE_MS;
    await this.requests?.stop();
    await this.connectionTests?.stop();
    await this.consumers.stop('kingdeeDocument', grace);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.engine?.stop(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(1000, grace - (Date.now() - started)));
      }),
    ]);
    clearTimeout(timer);
    await this.alerts?.stop();
    await this.connectionStatus?.flush();
    await clearSchemeFileStatus(this.ds, 'loader', this.instance);
    await this.statusRows.remove().catch(() => undefined);
    this.logger.info({ ms: Date.now() - started }, 'loader stopped');
  }
}

/** One login on a connection (a session of its pool), outside the circuit: a check, not a call. */
async function login(connection: KingdeeConnection): Promise<void> {
  const api = connection.api;
  if (api instanceof KingdeeSessionPool) await api.withClient((client) => client.ensureSession());
}
