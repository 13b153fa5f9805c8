import { PostgresWdtCallGate } from '@libs/shared-limits';
import { hostname } from 'node:os';
import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { ServiceStatusStore } from '@libs/database';
import { systemClock } from '@libs/common';
import { ExtractorConfig } from '@libs/config';
import { ConnectionRegistry, schemeIdentityOf, WdtConnection } from '@libs/connections';
import { ConnectionStatusRecorder, ConnectionTestWorker, testWdtConnection } from '@libs/connection-health';
import { TopicNames } from '@libs/contracts';
import {
  describeSourceError,
  ExtractionScheduler,
  ExtractionService,
  ExtractorRequests,
  ExtractorRole,
  idlePollMs,
  KafkaRawEventSink,
  LeaderLease,
  PostgresExtractionStore,
} from '@libs/extraction';
import { DeadLetterPublisher, EventProducer } from '@libs/kafka';
import { setExtractorLeader } from '@libs/metrics';
import {
  checkSchemeKeys,
  clearSchemeFileStatus,
  CONFIG,
  CONNECTIONS,
  DATA_SOURCE,
  DEAD_LETTERS,
  LOGGER,
  PRODUCER,
  READINESS,
  Readiness,
  TOPICS,
} from '@libs/runtime';
import { draftSchemePath, Scheme, SchemeChange, SchemeWatcher } from '@libs/scheme';
import { createWdtClient, WdtStockoutReturnClient } from '@libs/wdt-client';

/** What this replica reports per scheme in service_status (key `scheme:<id>`), read by the operator. */
interface SchemeStatus {
  role: ExtractorRole;
  since: string;
  lastError: string | null;
}

/** What the scheduler of a scheme reads: a change elsewhere (mapping, target) needs no restart. */
function extractionPart(s: Scheme): string {
  return JSON.stringify([s.enabled, s.source, s.schedule]);
}

/**
 * Starts one scheduler per enabled scheme found in SCHEMES_DIR, and follows the files: a changed
 * source or schedule restarts the scheme's scheduler between polls (stop waits for the poll under
 * way, so a window is never cut and the cursor stays consistent), an added or enabled scheme starts,
 * a removed or disabled one stops. Per scheme it reports its role
 * (leader, or standby while another replica of the deployment leads) once per transition — log,
 * `extractor_leader` gauge, service_status for `/api/schemes` — and a WDT credential failure makes
 * `/ready` answer 503 until a poll succeeds again. A standby replica stays ready.
 */
@Injectable()
export class ExtractorWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly schedulers = new Map<string, ExtractionScheduler>();
  /** One WDT client per connection in use (its limiter is the connection's app key's). */
  private readonly clients = new Map<string, WdtStockoutReturnClient>();
  private gate?: PostgresWdtCallGate;
  private store?: PostgresExtractionStore;
  private sink?: KafkaRawEventSink;
  private requests?: ExtractorRequests;
  /** The running extraction per scheme (operators' backfills and previews use the scheme's service). */
  private readonly services = new Map<string, { scheme: Scheme; service: ExtractionService }>();
  private readonly instance = `${hostname()}-${process.pid}`;
  private readonly status = new Map<string, SchemeStatus>();
  /** Schemes whose last poll WDT refused for the credentials (auth), with the reason. */
  private readonly refused = new Map<string, string>();
  /** Per WDT connection: its health from the polls (service_status `connection:wdt:<name>`) and tests. */
  private connectionStatus?: ConnectionStatusRecorder;
  private connectionTests?: ConnectionTestWorker;
  /** Status writes, in order (a role change and an error must not overtake each other). */
  private writes: Promise<void> = Promise.resolve();

  constructor(
    @Inject(CONFIG) private readonly config: ExtractorConfig,
    @Inject(CONNECTIONS) private readonly connections: ConnectionRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(PRODUCER) private readonly producer: EventProducer,
    @Inject(DEAD_LETTERS) private readonly deadLetters: DeadLetterPublisher,
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(READINESS) private readonly readiness: Readiness,
    private readonly statusRows: ServiceStatusStore,
    private readonly watcher: SchemeWatcher,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await checkSchemeKeys(this.ds, this.watcher, schemeIdentityOf(this.connections));
    this.store = new PostgresExtractionStore(this.ds);
    this.sink = new KafkaRawEventSink(this.producer, this.deadLetters, this.topics);
    for (const scheme of this.watcher.schemes()) this.startScheme(scheme);
    this.watcher.onChange((changes) => this.apply(changes));
    this.watcher.start();
    // Operators' backfills and previews of the schemes this replica leads (it holds their WDT budget).
    this.requests = new ExtractorRequests({
      ds: this.ds,
      sourceFor: (scheme) => this.clientFor(this.connections.wdt(scheme.source.connection)),
      store: this.store,
      clock: systemClock,
      serviceFor: (id) => this.services.get(id),
      leading: () => [...this.status].filter(([, v]) => v.role === 'leader').map(([id]) => id),
      // The preview code (mapping engine, Kingdee references, the operator lib with its Excel export)
      // is loaded on the first preview, not at boot: most of a service's memory is the code it loads.
      evaluate: async (scheme, record) => (await import('@libs/operator')).evaluatePreview(scheme, record),
      parseDraft: async (yaml, id) =>
        (await import('@libs/operator')).parseDraftScheme(yaml, draftSchemePath(id)),
      owner: this.instance,
      pollMs: this.config.WORK_REQUEST_POLL_MS,
      logger: this.logger,
    });
    this.requests.start();
    this.startConnectionTests();
    this.logger.info(
      { schemes: this.schedulers.size, connections: [...this.clients.keys()], instance: this.instance },
      'extractor scheduling',
    );
  }

  private async apply(changes: SchemeChange[]): Promise<void> {
    for (const change of changes) {
      const running = this.schedulers.has(change.id);
      if (change.kind === 'changed' && extractionPart(change.previous) === extractionPart(change.scheme))
        continue;
      if (running) await this.stopScheme(change.id);
      if (change.kind !== 'removed') this.startScheme(change.scheme);
      this.logger.info(
        { scheme: change.id, change: change.kind, polling: this.schedulers.has(change.id) },
        'scheme file changed: extraction follows',
      );
    }
  }

  /** Answers operators' tests of WDT connections (one empty-window query each, on the connection's client). */
  private startConnectionTests(): void {
    this.connectionStatus = new ConnectionStatusRecorder(this.statusRows, {
      logger: this.logger,
    });
    this.connectionTests = new ConnectionTestWorker({
      ds: this.ds,
      kind: 'wdt',
      names: () => this.connections.wdtNames(),
      test: async (name) => {
        const result = await testWdtConnection(this.clientFor(this.connections.wdt(name)));
        this.connectionStatus?.report('wdt', name, 'test', result.ok ? null : (result.error ?? 'failed'));
        return result;
      },
      owner: this.instance,
      pollMs: this.config.WORK_REQUEST_POLL_MS,
      logger: this.logger,
    });
    this.connectionTests.start();
  }

  /** The client of a WDT connection, made on first use and shared by every scheme reading it. */
  private clientFor(connection: WdtConnection): WdtStockoutReturnClient {
    let client = this.clients.get(connection.name);
    if (!client) {
      // The app key's L is shared with every process and CLI through Postgres (fair share per scheme).
      this.gate ??= new PostgresWdtCallGate(this.ds, { instance: this.instance, logger: this.logger });
      client = createWdtClient(connection.clientOptions, this.logger.child({ connection: connection.name }), {
        gate: this.gate,
        budgetKey: connection.budgetKey,
        connection: connection.name,
      });
      this.clients.set(connection.name, client);
    }
    return client;
  }

  /**
   * The pause after an idle poll: with N enabled schemes on this scheme's WDT app key of L calls a
   * minute, max(pollInterval, 120·N/L s) — idle polling never takes more than half the key's budget.
   */
  private idlePause(schemeId: string): number {
    const scheme = this.services.get(schemeId)?.scheme;
    if (!scheme || !this.connections.hasWdt(scheme.source.connection)) return 0;
    const connection = this.connections.wdt(scheme.source.connection);
    const onKey = new Set(this.connections.wdtOnBudget(connection.budgetKey));
    const n = this.watcher.schemes().filter((s) => s.enabled && onKey.has(s.source.connection)).length;
    return idlePollMs(0, n, connection.callsPerMinute);
  }

  private startScheme(scheme: Scheme): void {
    if (!scheme.enabled) {
      this.logger.info({ scheme: scheme.id }, 'scheme disabled (enabled: false); not polling');
      return;
    }
    if (!this.connections.hasWdt(scheme.source.connection)) {
      // scheme:check says so before deploying; here the scheme waits (the others run) until it names one.
      const error = `source.connection "${scheme.source.connection}" is not a WDT connection of this deployment (known: ${this.connections.wdtNames().join(', ') || 'none'})`;
      this.logger.error({ scheme: scheme.id }, `${error}: not polling`);
      this.report(scheme.id, { role: 'standby', since: new Date().toISOString(), lastError: error });
      return;
    }
    const connection = this.connections.wdt(scheme.source.connection);
    const service = new ExtractionService(
      scheme,
      this.clientFor(connection),
      this.store!,
      this.sink!,
      systemClock,
      { sid: connection.sid, method: scheme.source.method, connection: connection.name },
      this.logger,
      undefined,
      this.config.EXTRACTOR_RECORD_REREADS,
    );
    const scheduler = new ExtractionScheduler(
      scheme,
      service,
      new LeaderLease(this.ds, `extractor:${scheme.id}`),
      systemClock,
      this.logger,
      {
        onRole: (schemeId, role) => this.onRole(schemeId, role),
        onPoll: (schemeId) => this.onOutcome(schemeId),
        onError: (schemeId, error) => this.onOutcome(schemeId, error),
        idlePollMs: (schemeId) => this.idlePause(schemeId),
      },
    );
    scheduler.start();
    this.schedulers.set(scheme.id, scheduler);
    this.services.set(scheme.id, { scheme, service });
  }

  /** Stops a scheme's polling (after the poll under way) and withdraws what this replica reported for it. */
  private async stopScheme(schemeId: string): Promise<void> {
    const scheduler = this.schedulers.get(schemeId);
    const connection = this.services.get(schemeId)?.scheme.source.connection;
    if (connection) this.connectionStatus?.report('wdt', connection, `scheme:${schemeId}`, null);
    this.schedulers.delete(schemeId);
    this.services.delete(schemeId);
    await scheduler?.stop();
    setExtractorLeader(schemeId, false);
    this.refused.delete(schemeId);
    this.updateReadiness();
    this.status.delete(schemeId);
    this.writes = this.writes.then(() =>
      this.statusRows
        .remove(`scheme:${schemeId}`)
        .catch((err: Error) => this.logger.warn({ err: err.message }, 'could not record extractor status')),
    );
    await this.writes;
  }

  private onRole(schemeId: string, role: ExtractorRole): void {
    setExtractorLeader(schemeId, role === 'leader');
    this.logger.info(
      { scheme: schemeId, role, instance: this.instance },
      role === 'leader'
        ? 'extractor leads the scheme: polling WDT'
        : 'extractor stands by: another replica of this deployment leads the scheme',
    );
    const previous = this.status.get(schemeId);
    this.report(schemeId, { role, since: new Date().toISOString(), lastError: previous?.lastError ?? null });
  }

  /**
   * A poll's outcome. A WDT credential failure stops only the schemes of its connection (they keep
   * retrying; the others poll on); the service is unready only while every connection in use refuses.
   */
  private onOutcome(schemeId: string, error?: Error & { kind?: string }): void {
    if (error?.kind === 'auth') this.refused.set(schemeId, describeSourceError(error));
    else if (!error) this.refused.delete(schemeId);
    this.updateReadiness();
    const current = this.status.get(schemeId);
    const lastError = error ? describeSourceError(error) : null;
    if (current && current.lastError !== lastError) this.report(schemeId, { ...current, lastError });
    const connection = this.services.get(schemeId)?.scheme.source.connection;
    if (connection) this.connectionStatus?.report('wdt', connection, `scheme:${schemeId}`, lastError);
  }

  private updateReadiness(): void {
    const connectionOf = (id: string) => this.services.get(id)?.scheme.source.connection;
    const inUse = new Set([...this.services.keys()].map(connectionOf));
    const refused = new Set([...this.refused.keys()].map(connectionOf));
    if (inUse.size > 0 && [...inUse].every((c) => refused.has(c)))
      this.readiness.fail('wdt', [...new Set(this.refused.values())].join('; '));
    else this.readiness.ok('wdt');
  }

  private report(schemeId: string, value: SchemeStatus): void {
    this.status.set(schemeId, value);
    this.writes = this.writes.then(() =>
      this.statusRows
        .put(`scheme:${schemeId}`, value)
        .catch((err: Error) => this.logger.warn({ err: err.message }, 'could not record extractor status')),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.connectionTests?.stop();
    await this.requests?.stop();
    await this.watcher.stop();
    await Promise.all([...this.schedulers.values()].map((s) => s.stop()));
    await this.gate?.stop();
    await clearSchemeFileStatus(this.ds, 'extractor', this.instance);
    await this.writes;
    await this.connectionStatus?.flush();
    await this.statusRows.remove().catch(() => undefined);
  }
}
