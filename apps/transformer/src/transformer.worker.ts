import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { Logger } from 'pino';
import { AuditPublisher } from '@libs/audit';
import { TransformerConfig } from '@libs/config';
import { TopicNames } from '@libs/contracts';
import { BatchConsumer, DeadLetterPublisher, EventProducer } from '@libs/kafka';
import { AUDIT_PUBLISHER, CONFIG, DEAD_LETTERS, KAFKA, LOGGER, PRODUCER, TOPICS } from '@libs/runtime';
import { SchemeRegistry, TransformProcessor } from '@libs/transform';

const SCHEME_RELOAD_INTERVAL_MS = 10_000;

@Injectable()
export class TransformerWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer?: BatchConsumer;
  private reloadTimer?: NodeJS.Timeout;

  constructor(
    @Inject(CONFIG) private readonly config: TransformerConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(PRODUCER) private readonly producer: EventProducer,
    @Inject(AUDIT_PUBLISHER) private readonly audit: AuditPublisher,
    @Inject(DEAD_LETTERS) private readonly deadLetters: DeadLetterPublisher,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const registry = new SchemeRegistry(this.config.SCHEMES_DIR, this.logger);
    registry.load();
    this.reloadTimer = setInterval(() => registry.reloadIfChanged(), SCHEME_RELOAD_INTERVAL_MS);
    this.reloadTimer.unref();
    const processor = new TransformProcessor(
      registry,
      this.producer,
      this.audit,
      this.deadLetters,
      this.topics,
      this.logger,
    );
    this.consumer = new BatchConsumer(this.kafka, {
      groupId: this.config.KAFKA_GROUP_ID ?? 'wdt-kingdee.transformer',
      topics: [this.topics.rawStockout],
      sessionTimeoutMs: this.config.CONSUMER_SESSION_TIMEOUT_MS,
      concurrency: 2,
      chunkSize: 200,
      logger: this.logger,
    });
    await this.consumer.start(async (messages) => {
      const counts = await processor.handle(messages);
      this.logger.debug({ ...counts }, 'batch transformed');
    });
    this.logger.info({ schemes: registry.schemes().map((s) => s.id) }, 'transformer consuming');
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.reloadTimer);
    await this.consumer?.stop();
  }
}
