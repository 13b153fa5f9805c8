import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { AlertMonitor } from '@libs/alerts';
import { AuditIngestor, AuditRetention } from '@libs/audit';
import { TopicNames } from '@libs/contracts';
import { ConsumedMessage, DeadLetterPublisher } from '@libs/kafka';
import { DATA_SOURCE, DEAD_LETTERS, LOGGER, ServiceConsumers, TOPICS } from '@libs/runtime';

/** Starts the audit writer's parts (alerts, retention, the audit + dead-letter consumer) and stops them. */
@Injectable()
export class AuditWriterWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(DEAD_LETTERS) private readonly deadLetters: DeadLetterPublisher,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly consumers: ServiceConsumers,
    private readonly alerts: AlertMonitor,
    private readonly retention: AuditRetention,
    private readonly ingestor: AuditIngestor,
  ) {}

  /** One batch of audit events and dead letters (from `@EventPattern('audit')`), persisted. */
  async handle(messages: ConsumedMessage[]): Promise<void> {
    await this.ingestor.handle(messages);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.alerts.startLagChecks(this.ds, 60_000);
    this.retention.start(3_600_000, (err) =>
      this.logger.warn({ err: err.message }, 'audit retention purge failed; retried within the hour'),
    );
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
    await this.retention.stop();
    await this.alerts.stop();
  }
}
