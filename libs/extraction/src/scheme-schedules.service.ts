import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { Clock } from '@libs/common';
import { ConnectionStatusRecorder } from '@libs/connection-health';
import { ConnectionRegistry } from '@libs/connections';
import { ServiceStatusStore } from '@libs/database';
import { setExtractorLeader } from '@libs/metrics';
import { Scheme, SchemeChange, SchemeWatcher } from '@libs/scheme';
import { ExtractionScheduler, ExtractorRole, idlePollMs } from './extraction.scheduler';
import { ExtractionService } from './extraction.service';
import { describeSourceError } from './source-error.util';
import { ExtractionStore, RawEventSink } from './extraction.ports';
import { LeaderLease } from './leader-lease';
import { WdtClients } from './wdt-clients';

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

/** What `/ready` hears from the work (the runtime's Readiness). */
export interface WdtReadinessReport {
  fail(check: string, reason: string): void;
  ok(check: string): void;
}

export interface SchemeSchedulesDeps {
  registry: ConnectionRegistry;
  watcher: SchemeWatcher;
  clients: WdtClients;
  store: ExtractionStore;
  sink: RawEventSink;
  ds: DataSource;
  readiness: WdtReadinessReport;
  statusRows: ServiceStatusStore;
  connectionStatus: ConnectionStatusRecorder;
  clock: Clock;
  instance: string;
  logger: Logger;
  /** EXTRACTOR_RECORD_REREADS. */
  recordRereads: number;
}

/**
 * One scheduler per enabled scheme found in SCHEMES_DIR, following the files: a changed source or
 * schedule restarts the scheme's scheduler between polls (stop waits for the poll under way, so a
 * window is never cut and the cursor stays consistent), an added or enabled scheme starts, a removed
 * or disabled one stops. Per scheme it reports its role (leader, or standby while another replica of
 * the deployment leads) once per transition — log, `extractor_leader` gauge, service_status for
 * `/api/schemes` — and a WDT credential failure makes `/ready` answer 503 until a poll succeeds
 * again. A standby replica stays ready.
 */
export class SchemeSchedules {
  private readonly schedulers = new Map<string, ExtractionScheduler>();
  /** The running extraction per scheme (operators' backfills and previews use the scheme's service). */
  private readonly services = new Map<string, { scheme: Scheme; service: ExtractionService }>();
  private readonly status = new Map<string, SchemeStatus>();
  /** Schemes whose last poll WDT refused for the credentials (auth), with the reason. */
  private readonly refused = new Map<string, string>();
  /** Status writes, in order (a role change and an error must not overtake each other). */
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly deps: SchemeSchedulesDeps) {}

  /** Starts the schemes loaded now and follows the watcher's changes (the watcher is started apart). */
  start(): void {
    for (const scheme of this.deps.watcher.schemes()) this.startScheme(scheme);
    this.deps.watcher.onChange((changes) => this.apply(changes));
  }

  get size(): number {
    return this.schedulers.size;
  }

  /** The running extraction of a scheme, if this replica runs it. */
  serviceOf(schemeId: string): { scheme: Scheme; service: ExtractionService } | undefined {
    return this.services.get(schemeId);
  }

  /** Schemes this replica leads (it holds their WDT budget). */
  leading(): string[] {
    return [...this.status].filter(([, v]) => v.role === 'leader').map(([id]) => id);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.schedulers.values()].map((s) => s.stop()));
    await this.writes;
  }

  private async apply(changes: SchemeChange[]): Promise<void> {
    for (const change of changes) {
      const running = this.schedulers.has(change.id);
      if (change.kind === 'changed' && extractionPart(change.previous) === extractionPart(change.scheme))
        continue;
      if (running) await this.stopScheme(change.id);
      if (change.kind !== 'removed') this.startScheme(change.scheme);
      this.deps.logger.info(
        { scheme: change.id, change: change.kind, polling: this.schedulers.has(change.id) },
        'scheme file changed: extraction follows',
      );
    }
  }

  /**
   * The pause after an idle poll: with N enabled schemes on this scheme's WDT app key of L calls a
   * minute, max(pollInterval, 120·N/L s) — idle polling never takes more than half the key's budget.
   */
  private idlePause(schemeId: string): number {
    const { registry, watcher } = this.deps;
    const scheme = this.services.get(schemeId)?.scheme;
    if (!scheme || !registry.hasWdt(scheme.source.connection)) return 0;
    const connection = registry.wdt(scheme.source.connection);
    const onKey = new Set(registry.wdtOnBudget(connection.budgetKey));
    const n = watcher.schemes().filter((s) => s.enabled && onKey.has(s.source.connection)).length;
    return idlePollMs(0, n, connection.callsPerMinute);
  }

  private startScheme(scheme: Scheme): void {
    const { registry, logger } = this.deps;
    if (!scheme.enabled) {
      logger.info({ scheme: scheme.id }, 'scheme disabled (enabled: false); not polling');
      return;
    }
    if (!registry.hasWdt(scheme.source.connection)) {
      // scheme:check says so before deploying; here the scheme waits (the others run) until it names one.
      const error = `source.connection "${scheme.source.connection}" is not a WDT connection of this deployment (known: ${registry.wdtNames().join(', ') || 'none'})`;
      logger.error({ scheme: scheme.id }, `${error}: not polling`);
      this.report(scheme.id, { role: 'standby', since: new Date().toISOString(), lastError: error });
      return;
    }
    const connection = registry.wdt(scheme.source.connection);
    const service = new ExtractionService(
      scheme,
      this.deps.clients.clientFor(connection),
      this.deps.store,
      this.deps.sink,
      this.deps.clock,
      { sid: connection.sid, method: scheme.source.method, connection: connection.name },
      logger,
      undefined,
      this.deps.recordRereads,
    );
    const scheduler = new ExtractionScheduler(
      scheme,
      service,
      new LeaderLease(this.deps.ds, `extractor:${scheme.id}`),
      this.deps.clock,
      logger,
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
    if (connection) this.deps.connectionStatus.report('wdt', connection, `scheme:${schemeId}`, null);
    this.schedulers.delete(schemeId);
    this.services.delete(schemeId);
    await scheduler?.stop();
    setExtractorLeader(schemeId, false);
    this.refused.delete(schemeId);
    this.updateReadiness();
    this.status.delete(schemeId);
    this.writes = this.writes.then(() =>
      this.deps.statusRows
        .remove(`scheme:${schemeId}`)
        .catch((err: Error) =>
          this.deps.logger.warn({ err: err.message }, 'could not record extractor status'),
        ),
    );
    await this.writes;
  }

  private onRole(schemeId: string, role: ExtractorRole): void {
    setExtractorLeader(schemeId, role === 'leader');
    this.deps.logger.info(
      { scheme: schemeId, role, instance: this.deps.instance },
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
    if (connection) this.deps.connectionStatus.report('wdt', connection, `scheme:${schemeId}`, lastError);
  }

  private updateReadiness(): void {
    const connectionOf = (id: string) => this.services.get(id)?.scheme.source.connection;
    const inUse = new Set([...this.services.keys()].map(connectionOf));
    const refused = new Set([...this.refused.keys()].map(connectionOf));
    if (inUse.size > 0 && [...inUse].every((c) => refused.has(c)))
      this.deps.readiness.fail('wdt', [...new Set(this.refused.values())].join('; '));
    else this.deps.readiness.ok('wdt');
  }

  private report(schemeId: string, value: SchemeStatus): void {
    this.status.set(schemeId, value);
    this.writes = this.writes.then(() =>
      this.deps.statusRows
        .put(`scheme:${schemeId}`, value)
        .catch((err: Error) =>
          this.deps.logger.warn({ err: err.message }, 'could not record extractor status'),
        ),
    );
  }
}
