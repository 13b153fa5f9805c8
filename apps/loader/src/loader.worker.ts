import { hostname } from 'node:os';
import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { Logger } from 'pino';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { AuditPublisher } from '@libs/audit';
import { LoaderConfig } from '@libs/config';
import { TopicNames } from '@libs/contracts';
import { BatchConsumer, DeadLetterPublisher } from '@libs/kafka';
import { CircuitStateName, LoaderCircuit, LoadProcessor, PostgresClaimStore } from '@libs/loading';
import { AUDIT_PUBLISHER, CONFIG, DATA_SOURCE, DEAD_LETTERS, KAFKA, LOGGER, TOPICS } from '@libs/runtime';
import { loadSchemesFromDir } from '@libs/scheme';
import { createKingdeePool } from './kingdee-client.factory';

const circuitGauge = new Gauge({
  name: 'loader_kingdee_circuit_open',
  help: '1 while loading is paused because Kingdee is failing as a whole (down, auth, throttled)',
});

@Injectable()
export class LoaderWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer?: BatchConsumer;
  private readonly instance = `${hostname()}-${process.pid}`;

  constructor(
    @Inject(CONFIG) private readonly config: LoaderConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(AUDIT_PUBLISHER) private readonly audit: AuditPublisher,
    @Inject(DEAD_LETTERS) private readonly deadLetters: DeadLetterPublisher,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const schemes = new Map(loadSchemesFromDir(this.config.SCHEMES_DIR).map((s) => [s.id, s]));
    const circuit = new LoaderCircuit(
      {
        threshold: 3,
        halfOpenAfterMs: 10_000,
        initialDelayMs: 500,
        maxDelayMs: 30_000,
        onStateChange: (state, lastError) => void this.reportCircuit(state, lastError),
      },
      this.logger,
    );
    const processor = new LoadProcessor(
      (id) => schemes.get(id),
      createKingdeePool(this.config, this.logger),
      new PostgresClaimStore(this.ds),
      this.audit,
      this.deadLetters,
      circuit,
      {
        owner: this.instance,
        // Longer than any Kingdee call may take, so a live claim is never taken over.
        leaseMs: this.config.KINGDEE_TIMEOUT_MS * 2 + 30_000,
        maxBatchSize: this.config.LOADER_BATCH_SIZE,
      },
      this.logger,
    );
    await this.reportCircuit('closed');
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
      { schemes: [...schemes.keys()], sessions: this.config.KINGDEE_SESSIONS },
      'loader consuming',
    );
  }

  private async reportCircuit(state: CircuitStateName, lastError?: string): Promise<void> {
    circuitGauge.set(state === 'closed' ? 0 : 1);
    await this.ds
      .query(
        `INSERT INTO service_status (service, instance, key, value, updated_at) VALUES ('loader', $1, 'kingdee_circuit', $2, now())
         ON CONFLICT (service, instance, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
        [
          this.instance,
          JSON.stringify({ state, lastError: lastError ?? null, since: new Date().toISOString() }),
        ],
      )
      .catch((err: Error) => this.logger.warn({ err: err.message }, 'could not record circuit state'));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
    await this.ds
      .query(`DELETE FROM service_status WHERE service = 'loader' AND instance = $1`, [this.instance])
      .catch(() => undefined);
  }
}
