import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AlertMonitor, createAlertMonitor } from '@libs/alerts';
import { AuditIngestor, AuditRepository, AuditRetention } from '@libs/audit';
import { AuditWriterConfig } from '@libs/config';
import { TopicNames } from '@libs/contracts';
import { ConsumedMessage, DeadLetterPublisher } from '@libs/kafka';
import { CONFIG, DATA_SOURCE, DEAD_LETTERS, LOGGER, ServiceConsumers, TOPICS } from '@libs/runtime';

@Injectable()
export class AuditWriterWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private ingestor?: AuditIngestor;
  private alerts?: AlertMonitor;
  private retention?: AuditRetention;

  constructor(
    @Inject(CONFIG) private readonly config: AuditWriterConfig,
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(DEAD_LETTERS) private readonly deadLetters: DeadLetterPublisher,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly consumers: ServiceConsumers,
  ) {}

  /** One batch of audit events and dead letters (from `@EventPattern('audit')`), persisted. */
  async handle(messages: ConsumedMessage[]): Promise<void> {
    if (!this.ingestor) throw new Error('audit writer not started');
    await this.ingestor.handle(messages);
  }

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
    this.ingestor = ingestor;
    // One consumer (one group) for both topics; its batches reach `handle` through AuditWriterController.
    this.consumers.batch('audit', {
      topics: [this.topics.audit, this.topics.deadLetter],
      chunkSize: 500,
      deadLetter: async (message, error, attempts) => {
        // A dead letter is never dead-lettered again (it would come back here): it is redelivered.
        if (message.topic === this.topics.deadLetter) throw error;
        await this.deadLetters.park([
          { message, stage: 'audit-writer', error, attempts, sourceKey: message.key ?? undefined },
        ]);
      },
    });
    this.logger.info({ topics: [this.topics.audit, this.topics.deadLetter] }, 'audit writer consuming');
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumers.stop('audit');
    await this.retention?.stop();
    await this.alerts?.stop();
  }
}
