import { Inject, Injectable } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { CommonConfig } from '@libs/config';
import { Stage, TopicNames, TopicRole } from '@libs/contracts';
import { consumerLagRecorder } from '@libs/database';
import {
  BatchConsumer,
  BatchConsumerOptions,
  DeadLetterPublisher,
  KafkaBatchTransport,
  KeyOrderedConsumer,
  KeyOrderedConsumerOptions,
} from '@libs/kafka';
import { Liveness } from './health/liveness';
import { CONFIG, DATA_SOURCE, DEAD_LETTERS, KAFKA, LIVENESS, LOGGER, SERVICE_NAME, TOPICS } from './tokens';

/** The consumer settings every service reads the same way (CONSUMER_* and KAFKA_GROUP_ID). */
interface ConsumerConfig {
  KAFKA_GROUP_ID?: string;
  CONSUMER_SESSION_TIMEOUT_MS: number;
  CONSUMER_MAX_ATTEMPTS: number;
  CONSUMER_LAG_INTERVAL_MS: number;
}

/** What a service says about its consumer beyond the shared settings (topics default to the role's). */
type Overrides<O> = Partial<O> & { topics?: string[] };

/**
 * A service's Kafka consumers, built one way: group `wdt-kingdee.<service>` (or KAFKA_GROUP_ID), the
 * CONSUMER_* settings, lag recorded for operators, a message that keeps failing parked on the
 * dead-letter topic with its stage, and progress watched by liveness — then handed to the Kafka
 * transport, which feeds its batches to the `@EventPattern(role)` handler.
 */
@Injectable()
export class ServiceConsumers {
  constructor(
    private readonly transport: KafkaBatchTransport,
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(TOPICS) private readonly topics: TopicNames,
    @Inject(LIVENESS) private readonly liveness: Liveness,
    @Inject(SERVICE_NAME) private readonly service: string,
    // What every consumer of the service shares: settings, logger, lag records, dead letters.
    @Inject(CONFIG) private readonly config: CommonConfig & ConsumerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(DATA_SOURCE) private readonly ds: DataSource,
    @Inject(DEAD_LETTERS) private readonly deadLetters: DeadLetterPublisher,
  ) {}

  /** A batch consumer of the role's topic, registered for `@EventPattern(role)`. */
  batch(role: TopicRole, overrides: Overrides<BatchConsumerOptions> = {}): BatchConsumer {
    return this.register(role, new BatchConsumer(this.kafka, this.options(role, overrides)));
  }

  /** A key-ordered consumer (the loader's), registered for `@EventPattern(role)`. */
  keyOrdered(
    role: TopicRole,
    overrides: Overrides<KeyOrderedConsumerOptions> &
      Pick<KeyOrderedConsumerOptions, 'concurrency' | 'chunkSize' | 'maxUncommitted' | 'revokeMs'>,
  ): KeyOrderedConsumer {
    return this.register(role, new KeyOrderedConsumer(this.kafka, this.options(role, overrides)));
  }

  /** Stops the role's consumer: first in a service's shutdown, before what its handler uses. */
  stop(role: TopicRole, graceMs?: number): Promise<void> {
    return this.transport.stopConsuming(role, graceMs);
  }

  private options<O extends BatchConsumerOptions>(role: TopicRole, overrides: Overrides<O>): O {
    const shared: Omit<BatchConsumerOptions, 'topics'> = {
      groupId: this.config.KAFKA_GROUP_ID ?? `wdt-kingdee.${this.service}`,
      sessionTimeoutMs: this.config.CONSUMER_SESSION_TIMEOUT_MS,
      logger: this.logger,
      maxAttempts: this.config.CONSUMER_MAX_ATTEMPTS,
      lagIntervalMs: this.config.CONSUMER_LAG_INTERVAL_MS,
      onLag: consumerLagRecorder(this.ds, this.service),
      deadLetter: async (message, error, attempts) => {
        await this.deadLetters.park([
          { message, stage: this.service as Stage, error, attempts, sourceKey: message.key ?? undefined },
        ]);
      },
    };
    return { ...shared, ...overrides, topics: overrides.topics ?? [this.topics[role]] } as unknown as O;
  }

  private register<C extends BatchConsumer>(role: TopicRole, consumer: C): C {
    this.liveness.watch(this.service, consumer);
    this.transport.consume(role, consumer);
    return consumer;
  }
}
