import { DataSource } from 'typeorm';
import { AuditPublisher, BufferedAttemptLog, PostgresAttemptLog } from '@libs/audit';
import { AppLogger } from '@libs/common';
import { LoaderConfig, settleWindowMs } from '@libs/config';
import { TopicNames } from '@libs/contracts';
import { PostgresPayloadStore } from '@libs/database';
import { DeadLetterPublisher, EventProducer } from '@libs/kafka';
import { ParkedMessageStore, SchemeHolds } from '@libs/parking';
import { ConnectionRegistry } from '@libs/connections';
import type { KingdeeSlotLeases } from '@libs/kingdee-client';
import { Scheme } from '@libs/scheme';
import { BaseDataChecker } from './base-data/base-data-checker.service';
import { BaseDataRef } from './base-data/base-data-diagnosis';
import { BaseDataFinding, BaseDataInspector } from './base-data/base-data-inspector';
import { BaseDataTriage } from './base-data/base-data-triage';
import { BaseDataWaitlist } from './base-data/base-data-waitlist.store';
import { ClaimStore, PostgresClaimStore } from './claim.store';
import { CircuitStateName, ConnectionCircuit, KingdeeConnection } from './connection-circuit';
import { createKingdeePool } from './kingdee-pool.factory';
import { LeaseKeeper } from './lease-keeper';
import { LoadProcessor } from './load.processor';
import { SettlePolicy } from './settle-policy';
import { Settler } from './settler.service';

export interface LoaderEngineDeps {
  config: LoaderConfig;
  ds: DataSource;
  producer: EventProducer;
  topics: TopicNames;
  schemes: Map<string, Scheme>;
  /** This process's id: owner of its claims. */
  owner: string;
  logger: AppLogger;
  onCircuitState?: (connectionId: string, state: CircuitStateName, lastError?: string) => void;
  /** Whether this process drains parked documents (the loader service: yes; replay: no). */
  drain?: boolean;
  /** The process's connections: each scheme writes through its `target.connection`. */
  registry: ConnectionRegistry;
  /** Session slots shared by every process, for connections with a session cap (`sessions`). */
  slots?: KingdeeSlotLeases;
  /** Replaces the Kingdee connections built from the registry (tests: a sandbox per connection). */
  connections?: (scheme: Scheme) => KingdeeConnection;
  /** Replaces the Postgres claim store (tests: one that fails mid-way, as a killed process would). */
  claims?: ClaimStore;
}

/**
 * Everything a process that writes to Kingdee runs: the consumer path (`processor`), the settler,
 * the lease keeper and the scheme holds, wired from validated config. Used by the loader service and
 * by `replay --stage load`, so every writer follows the same protocol.
 */
export class LoaderEngine {
  constructor(
    readonly processor: LoadProcessor,
    readonly settler: Settler,
    readonly leases: LeaseKeeper,
    readonly holds: SchemeHolds,
    readonly claims: ClaimStore,
    /** Orders waiting for base data in Kingdee: the scheduled / requested checks. */
    readonly baseData: BaseDataChecker,
    private readonly owner: string,
    private readonly logger: AppLogger,
    private readonly checksBaseData = true,
    /** The Kingdee connections of the loaded schemes (each once). */
    readonly connections: () => KingdeeConnection[] = () => [],
    /** Looks codes up in Kingdee now (no cache): what a live preview shows of its codes. */
    readonly inspectCodes: (
      scheme: Scheme,
      refs: BaseDataRef[],
    ) => Promise<BaseDataFinding[]> = async () => [],
  ) {}

  async start(): Promise<void> {
    await this.holds.start();
    this.leases.start();
    this.settler.start();
    if (this.checksBaseData) this.baseData.start();
  }

  /** After the consumer stopped: the settler stops, and leases end so the next loader settles at once. */
  async stop(): Promise<void> {
    await this.baseData.stop();
    await this.settler.stop();
    await this.processor.attemptsKept().catch(() => undefined);
    const ended = await this.claims.endLeases(this.owner).catch(() => 0);
    if (ended > 0) this.logger.info({ claims: ended }, 'claim leases ended: the next loader settles them');
    this.leases.stop();
    this.holds.stop();
  }
}

export function createLoaderEngine(deps: LoaderEngineDeps): LoaderEngine {
  const { config, logger, owner } = deps;
  const claims = deps.claims ?? new PostgresClaimStore(deps.ds);
  const leases = new LeaseKeeper(claims, {
    owner,
    leaseMs: config.LOADER_LEASE_MS,
    skewMs: config.LOADER_LEASE_SKEW_MS,
    logger,
  });
  const holds = new SchemeHolds(deps.ds, 1000, logger);
  const parking = new ParkedMessageStore(deps.ds, 'loader');
  // A write may still commit as long after it was sent as its client waits: the longest timeout of
  // the Kingdee connections (a file connection may set its own `timeoutMs`) bounds the settle window.
  const clientTimeoutMs = Math.max(
    config.KINGDEE_TIMEOUT_MS,
    ...(deps.connections
      ? []
      : deps.registry.kingdeeNames().map((n) => deps.registry.kingdee(n).clientOptions.timeoutMs ?? 0)),
  );
  const settle = new SettlePolicy({
    clientTimeoutMs,
    serverExecutionTimeoutMs: config.KINGDEE_SERVER_EXECUTION_TIMEOUT_MS,
    settleWindowMs: settleWindowMs({ ...config, KINGDEE_TIMEOUT_MS: clientTimeoutMs }),
  });
  let connectionFor = deps.connections;
  if (!connectionFor) {
    const registry = deps.registry;
    // One session pool and one circuit per Kingdee connection: a failing account (down, or refusing
    // the credentials) holds only the schemes that write to it.
    const built = new Map<string, KingdeeConnection>();
    connectionFor = (scheme) => {
      const name = scheme.target.connection;
      let connection = built.get(name);
      if (!connection) {
        const kingdee = registry.kingdee(name);
        connection = {
          id: name,
          account: kingdee.account,
          api: createKingdeePool(
            kingdee.clientOptions,
            config.KINGDEE_SESSIONS,
            logger,
            deps.slots && kingdee.sessionCap !== undefined
              ? { leases: deps.slots, account: kingdee.account, cap: kingdee.sessionCap }
              : undefined,
            name,
          ),
          circuit: new ConnectionCircuit(
            name,
            {
              threshold: 3,
              halfOpenAfterMs: 10_000,
              onStateChange: (state, lastError) => deps.onCircuitState?.(name, state, lastError),
            },
            logger,
          ),
        };
        built.set(name, connection);
      }
      return connection;
    };
  }
  const maxWaitMs = Math.round(config.LOADER_BASE_DATA_MAX_WAIT_HOURS * 3600_000);
  const audit = new AuditPublisher(deps.producer, deps.topics);
  const inspector = new BaseDataInspector({
    ttlMs: config.LOADER_BASE_DATA_CACHE_TTL_MS,
    readRetry: { count: 2, initialDelayMs: 200, maxDelayMs: 2000 },
  });
  const waitlist = new BaseDataWaitlist(deps.ds);
  const triage = new BaseDataTriage(inspector, waitlist, parking, maxWaitMs, logger);
  const baseData = new BaseDataChecker({
    waitlist,
    parking,
    inspector,
    audit,
    schemes: (id) => deps.schemes.get(id),
    connectionFor,
    options: {
      owner,
      checkMs: config.LOADER_BASE_DATA_CHECK_MS,
      requestPollMs: config.LOADER_SETTLE_POLL_MS,
      maxWaitMs,
    },
    logger,
  });
  triage.onWaiting = () =>
    void baseData
      .report()
      .catch((err: Error) => logger.warn({ err: err.message }, 'could not report codes waited for'));
  const processor = new LoadProcessor({
    schemes: (id) => deps.schemes.get(id),
    connectionFor,
    claims,
    leases,
    holds,
    parking,
    audit,
    deadLetters: new DeadLetterPublisher(
      deps.producer,
      deps.topics,
      new PostgresPayloadStore(deps.ds),
      config.KAFKA_MAX_MESSAGE_BYTES,
    ),
    settle,
    attempts: new BufferedAttemptLog(new PostgresAttemptLog(deps.ds)),
    baseData: triage,
    options: {
      owner,
      maxBatchSize: config.LOADER_BATCH_SIZE,
      minLeaseMs: config.LOADER_LEASE_SKEW_MS,
      recheckMs: config.LOADER_SETTLE_POLL_MS,
      auditRetryMs: config.LOADER_AUDIT_RETRY_MS,
      behindRetryMs: config.LOADER_SETTLE_POLL_MS,
      fenceHorizonMs: Math.min(5000, Math.floor(config.LOADER_LEASE_MS / 2)),
      writeSlots: config.KINGDEE_SESSIONS,
    },
    logger,
  });
  const settler = new Settler({
    processor,
    claims,
    leases,
    parking,
    settle,
    schemes: () => [...deps.schemes.values()],
    connectionFor,
    options: {
      owner,
      pollMs: config.LOADER_SETTLE_POLL_MS,
      batch: 200,
      drainLeaseMs: Math.max(config.LOADER_LEASE_MS, 30_000),
      drain: deps.drain ?? true,
      auditRetryMs: config.LOADER_AUDIT_RETRY_MS,
    },
    logger,
  });
  const connections = () => [...new Set([...deps.schemes.values()].map((s) => connectionFor(s)))];
  return new LoaderEngine(
    processor,
    settler,
    leases,
    holds,
    claims,
    baseData,
    owner,
    logger,
    deps.drain ?? true,
    connections,
    (scheme, refs) => inspector.inspect(connectionFor(scheme), refs, { fresh: true }),
  );
}
