import { Logger } from 'pino';
import { AlertMonitor } from '@libs/alerts';
import { ConnectionStatusRecorder } from '@libs/connection-health';
import { ConnectionRegistry } from '@libs/connections';
import { ServiceStatusStore } from '@libs/database';
import { isKingdeeError, KingdeeSessionPool } from '@libs/kingdee-client';
import { setKingdeeCircuitOpen } from '@libs/metrics';
import { CircuitStateName, KingdeeConnection } from './connection-circuit';

/** What `/ready` hears from the work (the runtime's Readiness). */
export interface ReadinessReport {
  fail(check: string, reason: string): void;
  ok(check: string): void;
  failures(): Record<string, string>;
}

export interface KingdeeHealthDeps {
  registry: ConnectionRegistry;
  readiness: ReadinessReport;
  statusRows: ServiceStatusStore;
  connectionStatus: ConnectionStatusRecorder;
  alerts: AlertMonitor;
  logger: Logger;
  /** Pause between login checks while Kingdee refuses the credentials. */
  loginRetryMs: number;
}

/**
 * The loader's view of its Kingdee connections: each circuit's state (metrics, service_status
 * `kingdee_circuit[:<connection>]`, alerts, liveness) and whether Kingdee accepts the credentials —
 * a login per connection at start and whenever a circuit opens or closes. A refused login (error kind
 * `auth`) is recorded (`kingdee_auth[:<connection>]`) and tried again until one succeeds; when every
 * connection refuses, `/ready` answers 503 with the reason. Other failures (Kingdee down) are the
 * circuit's business.
 */
export class KingdeeHealth {
  /** Connections whose circuit is not closed: waiting on Kingdee is not being stuck. */
  readonly openCircuits = new Set<string>();
  private connections: () => KingdeeConnection[] = () => [];
  private loginTimer?: NodeJS.Timeout;
  private loginCheck?: Promise<void>;
  /** Connections whose last login check was refused. */
  private lastRefused = new Set<string>();

  constructor(private readonly deps: KingdeeHealthDeps) {}

  /** The connections to log in to (the engine's, known once it is built). */
  watch(connections: () => KingdeeConnection[]): void {
    this.connections = connections;
  }

  /** The engine's circuit callback. */
  onCircuitState(connection: string, state: CircuitStateName, lastError?: string): void {
    if (state === 'closed') this.openCircuits.delete(connection);
    else this.openCircuits.add(connection);
    void this.reportCircuit(connection, state, lastError);
    this.deps.alerts.onCircuitState(state, lastError);
    // Is it the credentials? A login says (and keeps saying until one succeeds).
    if (state === 'open' || state === 'closed') void this.checkLogin();
  }

  checkLogin(): Promise<void> {
    this.loginCheck ??= this.loginOnce().finally(() => {
      this.loginCheck = undefined;
    });
    return this.loginCheck;
  }

  stop(): void {
    clearTimeout(this.loginTimer);
    this.loginTimer = undefined;
  }

  private async loginOnce(): Promise<void> {
    const { logger, readiness } = this.deps;
    const refused = new Map<string, string>();
    const connections = this.connections();
    for (const connection of connections) {
      try {
        await login(connection);
      } catch (err) {
        if (!isKingdeeError(err) || err.kind !== 'auth') {
          logger.warn(
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
      this.deps.connectionStatus.report(
        'kingdee',
        connection.id,
        'login',
        refused.get(connection.id) ?? null,
      );
    // A refused connection holds only its own schemes (their documents park behind its circuit); the
    // loader is unready only when every connection it writes to refuses it.
    const failure = refused.size > 0 ? [...refused.values()].join('; ') : undefined;
    const allRefused = connections.length > 0 && refused.size === connections.length;
    const failing = readiness.failures().kingdee !== undefined;
    if ([...refused.keys()].some((id) => !this.lastRefused.has(id)))
      logger.error({ err: failure, connections: [...refused.keys()] }, 'Kingdee refuses the credentials');
    if (allRefused) readiness.fail('kingdee', failure!);
    else readiness.ok('kingdee');
    this.stop();
    if (failure) {
      this.loginTimer = setTimeout(() => void this.checkLogin(), this.deps.loginRetryMs);
      this.loginTimer.unref();
    } else if (failing || this.lastRefused.size > 0) logger.info('Kingdee accepts the credentials again');
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
    await this.deps.statusRows
      .put(key, { ok: !failure, lastError: failure ?? null, since: new Date().toISOString() })
      .catch((err: Error) =>
        this.deps.logger.warn({ err: err.message }, 'could not record Kingdee login state'),
      );
  }

  async reportCircuit(connection: string, state: CircuitStateName, lastError?: string): Promise<void> {
    setKingdeeCircuitOpen(state !== 'closed', connection);
    if (this.deps.registry.hasKingdee(connection))
      this.deps.connectionStatus.report(
        'kingdee',
        connection,
        'circuit',
        state === 'closed' ? null : (lastError ?? `circuit ${state}`),
      );
    // The default connection keeps the key operators already read.
    const key = connection === 'default' ? 'kingdee_circuit' : `kingdee_circuit:${connection}`;
    await this.deps.statusRows
      .put(key, { state, lastError: lastError ?? null, since: new Date().toISOString() })
      .catch((err: Error) => this.deps.logger.warn({ err: err.message }, 'could not record circuit state'));
  }
}

/** One login on a connection (a session of its pool), outside the circuit: a check, not a call. */
async function login(connection: KingdeeConnection): Promise<void> {
  const api = connection.api;
  if (api instanceof KingdeeSessionPool) await api.withClient((client) => client.ensureSession());
}
