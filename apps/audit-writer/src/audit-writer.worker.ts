import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AlertMonitor, createAlertMonitor } from '@libs/alerts';
import { AuditIngestor, AuditRepository, AuditRetention } from '@libs/audit';
import { AuditWriterConfig } from '@libs/config';
import { TopicNames } from '@libs/contracts';
import { BatchConsumer, DeadLetterPublisher } from '@libs/kafka';
import { CONFIG, DATA_SOURCE, DEAD_LETTERS, KAFKA, LIVENESS, Liveness, LOGGER, TOPICS } from '@libs/runtime';
import { consumerLagRecorder } from '@libs/database';

@Injectable()
export class AuditWriterWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer?: BatchConsumer;
  private alerts?: AlertMonitor;
  private retention?: AuditRetention;

  constructor(
    @Inject(CONFIG) private readonly config: AuditWriterConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(DEAD_LETTERS) private readonly deadLetters: DeadLetterPublisher,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(LIVENESS) private readonly liveness: Liveness,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.alerts = createAlertMonitor(this.config, { logger: this.logger, service: 'audit-writer' });
    this.alerts.startLagChecks(this.ds, 60_000);
    this.retention = new AuditRetention(this.ds, this.config.AUDIT_RETENTION_DAYS);
    this.retention.start(3_600_000, (err) =>
      this.logger.warn({ err: err.message }, 'audit retention purge failed; retried within the hour'),
    );
    const ingestor = new AuditIngestor(
      new AuditRepository(this.ds),
      this.deadLetters,
      this.topics,
      this.logger,
      (events) => this.alerts?.onAuditEvents(events),
    );
    this.consumer = new BatchConsumer(this.kafka, {
      groupId: this.config.KAFKA_GROUP_ID ?? 'wdt-kingdee.audit-writer',
      topics: [this.topics.audit, this.topics.deadLetter],
      sessionTimeoutMs: this.config.CONSUMER_SESSION_TIMEOUT_MS,
      chunkSize: 500,
      logger: this.logger,
      maxAttempts: this.config.CONSUMER_MAX_ATTEMPTS,
      lagIntervalMs: this.config.CONSUMER_LAG_INTERVAL_MS,
      onLag: consumerLagRecorder(this.ds, 'audit-writer'),
      deadLetter: async (message, error, attempts) => {
        // A dead letter is never dead-lettered again (it would come back here): it is redelivered.
        if (message.topic === this.topics.deadLetter) throw error;
        await this.deadLetters.park([
          { message, stage: 'audit-writer', error, attempts, sourceKey: message.key ?? undefined },
        ]);
      },
    });
    this.liveness.watch('audit-writer', this.consumer);
    await this.consumer.start((messages) => ingestor.handle(messages));
    this.logger.info({ topics: [this.topics.audit, this.topics.deadLetter] }, 'audit writer consuming');
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
    await this.retention?.stop();
    await this.alerts?.stop();
  }
}
