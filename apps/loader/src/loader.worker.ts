import { hostname } from 'node:os';
import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AlertMonitor, createAlertMonitor } from '@libs/alerts';
import { LoaderConfig } from '@libs/config';
import { TopicNames } from '@libs/contracts';
import { BatchConsumer, EventProducer } from '@libs/kafka';
import { CircuitStateName, createLoaderEngine, LoaderEngine } from '@libs/loading';
import { setKingdeeCircuitOpen } from '@libs/metrics';
import { CONFIG, DATA_SOURCE, KAFKA, LOGGER, PRODUCER, TOPICS } from '@libs/runtime';
import { loadSchemesFromDir } from '@libs/scheme';

@Injectable()
export class LoaderWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer?: BatchConsumer;
  private engine?: LoaderEngine;
  private alerts?: AlertMonitor;
  private readonly instance = `${hostname()}-${process.pid}`;

  constructor(
    @Inject(CONFIG) private readonly config: LoaderConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(PRODUCER) private readonly producer: EventProducer,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.alerts = createAlertMonitor(this.config, { logger: this.logger, service: 'loader' });
    const schemes = new Map(loadSchemesFromDir(this.config.SCHEMES_DIR).map((s) => [s.id, s]));
    this.engine = createLoaderEngine({
      config: this.config,
      ds: this.ds,
      producer: this.producer,
      topics: this.topics,
      schemes,
      owner: this.instance,
      logger: this.logger,
      onCircuitState: (connection, state, lastError) => {
        void this.reportCircuit(connection, state, lastError);
        this.alerts?.onCircuitState(state, lastError);
      },
    });
    this.engine.holds.onStopped = (schemeId, reason) => this.alerts?.onSchemeStopped(schemeId, reason);
    this.engine.baseData.onReport = (codes) => this.alerts?.onBaseDataWaiting(codes);
    await this.reportCircuit('default', 'closed');
    await this.engine.start();
    const processor = this.engine.processor;
    this.consumer = new BatchConsumer(this.kafka, {
      groupId: this.config.KAFKA_GROUP_ID ?? 'wdt-kingdee.loader',
      topics: [this.topics.kingdeeDocument],
      sessionTimeoutMs: this.config.CONSUMER_SESSION_TIMEOUT_MS,
      concurrency: this.config.KINGDEE_SESSIONS,
      chunkSize: this.config.LOADER_BATCH_SIZE * 5,
      maxWaitTimeMs: this.config.LOADER_LINGER_MS,
      logger: this.logger,
    });
    await this.consumer.start((messages, ctx) => processor.handle(messages, ctx));
    this.logger.info(
      { schemes: [...schemes.keys()], sessions: this.config.KINGDEE_SESSIONS, owner: this.instance },
      'loader consuming',
    );
  }

  private async reportCircuit(
    connection: string,
    state: CircuitStateName,
    lastError?: string,
  ): Promise<void> {
    setKingdeeCircuitOpen(state !== 'closed', connection);
    // The default connection keeps the key operators already read.
    const key = connection === 'default' ? 'kingdee_circuit' : `kingdee_circuit:${connection}`;
    await this.ds
      .query(
        `INSERT INTO service_status (service, instance, key, value, updated_at) VALUES ('loader', $1, $2, $3, now())
         ON CONFLICT (service, instance, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
        [
          this.instance,
          key,
          JSON.stringify({ state, lastError: lastError ?? null, since: new Date().toISOString() }),
        ],
      )
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'could not record circuit state'));
  }

  /**
   * SIGTERM: running batches are revoked (no new writes; in-flight ones go to settling; offsets of
   * unfinished work stay uncommitted), all within LOADER_SHUTDOWN_GRACE_MS even while Kingdee is down.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const started = Date.now();
    const grace = this.config.LOADER_SHUTDOWN_GRACE_MS;
    await this.consumer?.stop(grace);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.engine?.stop(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(1000, grace - (Date.now() - started)));
      }),
    ]);
    clearTimeout(timer);
    await this.alerts?.stop();
    await this.ds
      .query(`DELETE FROM service_status WHERE service = 'loader' AND instance = $1`, [this.instance])
      .catch(() => undefined);
    this.logger.info({ ms: Date.now() - started }, 'loader stopped');
  }
}
